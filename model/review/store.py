"""The review's memory: what was offered for review and every decision made, in one SQLite file.

Each decision is one committed transaction, so killing the server loses nothing and reopening the
review continues where it stopped. Decisions are never overwritten: each is a new row, and an item's
current decision is its newest. A decision names the version of the item it was made on; when another
tab decided the same item in between, the decision is refused (`Conflict`) and the tab is shown what
is stored now, so two tabs never silently undo each other's work.
"""

from __future__ import annotations

import os
import sqlite3
import time
from contextlib import closing
from pathlib import Path

import pandas as pd

DECISIONS = ("yes", "no", "unsure")
KINDS = ("detection", "near_miss", "random", "added")  # where an item came from
REVIEW_COLUMNS = ["recording", "start", "end", "score", "kind", "decision", "decided_at"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    id INTEGER PRIMARY KEY,
    recording TEXT NOT NULL,
    start REAL NOT NULL,
    end REAL NOT NULL,
    score REAL,
    kind TEXT NOT NULL,
    UNIQUE (recording, start, end, kind)
);
CREATE TABLE IF NOT EXISTS decisions (
    id INTEGER PRIMARY KEY,
    item_id INTEGER NOT NULL REFERENCES items(id),
    version INTEGER NOT NULL,
    decision TEXT NOT NULL,
    start REAL NOT NULL,
    end REAL NOT NULL,
    decided_at TEXT NOT NULL,
    UNIQUE (item_id, version)
);
"""


class Conflict(Exception):
    """The item was decided (in another tab) after the version the decision was made on."""

    def __init__(self, item: dict):
        super().__init__(f"item {item['id']} changed to version {item['version']} meanwhile")
        self.item = item


class ReviewStore:
    """Items to review and decisions on them, in `path` (created when missing)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db:
            db.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        # One connection per call: the server answers each request on its own thread.
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA journal_mode=WAL")  # readers do not wait for a writer
        db.execute("PRAGMA synchronous=FULL")  # a committed decision survives a power cut
        return db

    def add_items(self, items: pd.DataFrame, kind: str) -> int:
        """Add rows (recording, start, end, score) of one kind; those already there are kept as they are.
        How many were new."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        rows = [(str(r.recording), round(float(r.start), 3), round(float(r.end), 3),
                 None if pd.isna(r.score) else float(r.score), kind) for r in items.itertuples()]
        with closing(self._connect()) as db:
            before = db.total_changes
            db.execute("BEGIN IMMEDIATE")
            db.executemany("INSERT OR IGNORE INTO items (recording, start, end, score, kind) VALUES (?, ?, ?, ?, ?)", rows)
            db.execute("COMMIT")
            return db.total_changes - before

    def add_call(self, recording: str, start: float, end: float) -> dict:
        """A call the reviewer marked by hand: an `added` item, decided "yes" in the same transaction."""
        _check_times(start, end)
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            cursor = db.execute("INSERT OR IGNORE INTO items (recording, start, end, score, kind) "
                                "VALUES (?, ?, ?, NULL, 'added')", (recording, round(start, 3), round(end, 3)))
            item_id = cursor.lastrowid if cursor.rowcount else db.execute(
                "SELECT id FROM items WHERE recording=? AND start=? AND end=? AND kind='added'",
                (recording, round(start, 3), round(end, 3))).fetchone()[0]
            if _current(db, item_id) is None:
                _insert_decision(db, item_id, 1, "yes", start, end)
            db.execute("COMMIT")
            return _item(db, item_id)

    def decide(self, item_id: int, decision: str, version: int, start: float | None = None,
               end: float | None = None) -> dict:
        """Record a decision on the item as the reviewer saw it at `version` (0: undecided); the item now.

        start, end: where the call really is, when the reviewer moved the edges (default: as it stands).
        Raises Conflict when the item's version is no longer `version`, KeyError for an unknown item.
        """
        if decision not in DECISIONS:
            raise ValueError(f"decision must be one of {DECISIONS}, got {decision!r}")
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")  # the version check and the insert are one step
            try:
                item = _item(db, item_id)
                if item["version"] != version:
                    raise Conflict(item)
                start = item["start_reviewed"] if start is None else float(start)
                end = item["end_reviewed"] if end is None else float(end)
                _check_times(start, end)
                _insert_decision(db, item_id, version + 1, decision, start, end)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            return _item(db, item_id)

    def item(self, item_id: int) -> dict:
        with closing(self._connect()) as db:
            return _item(db, item_id)

    def items(self) -> pd.DataFrame:
        """Every item with its current decision (empty where undecided) and version (0: undecided)."""
        with closing(self._connect()) as db:
            rows = db.execute(_ITEMS_QUERY).fetchall()
        columns = ["id", "recording", "start", "end", "score", "kind", "version", "decision", "start_reviewed",
                   "end_reviewed", "decided_at"]
        return pd.DataFrame([tuple(r) for r in rows], columns=columns)


def review_table(items: pd.DataFrame) -> pd.DataFrame:
    """`items` (ReviewStore.items()) as `train.py --review` reads them: one row per item, with the edges as
    the reviewer left them and an empty decision where none was made yet. Every item is listed, so that
    training knows which stretches the model found worth asking about (see
    data_pipeline.labels.review_decisions)."""
    return (items.assign(start=items["start_reviewed"], end=items["end_reviewed"])[REVIEW_COLUMNS]
            .sort_values(["recording", "start"], ignore_index=True))


_ITEMS_QUERY = """
SELECT i.id, i.recording, i.start, i.end, i.score, i.kind, COALESCE(d.version, 0), d.decision,
       COALESCE(d.start, i.start), COALESCE(d.end, i.end), d.decided_at
FROM items i LEFT JOIN decisions d
  ON d.item_id = i.id AND d.version = (SELECT MAX(version) FROM decisions WHERE item_id = i.id)
"""


def _item(db: sqlite3.Connection, item_id: int) -> dict:
    row = db.execute(_ITEMS_QUERY + " WHERE i.id = ?", (int(item_id),)).fetchone()
    if row is None:
        raise KeyError(f"no review item {item_id}")
    keys = ["id", "recording", "start", "end", "score", "kind", "version", "decision", "start_reviewed",
            "end_reviewed", "decided_at"]
    return dict(zip(keys, tuple(row)))


def _current(db: sqlite3.Connection, item_id: int):
    return db.execute("SELECT MAX(version) FROM decisions WHERE item_id = ?", (item_id,)).fetchone()[0]


def _insert_decision(db, item_id: int, version: int, decision: str, start: float, end: float) -> None:
    db.execute("INSERT INTO decisions (item_id, version, decision, start, end, decided_at) VALUES (?, ?, ?, ?, ?, ?)",
               (item_id, version, decision, round(float(start), 3), round(float(end), 3),
                time.strftime("%Y-%m-%dT%H:%M:%S%z")))


def _check_times(start: float, end: float) -> None:
    if not (0 <= start < end):
        raise ValueError(f"a call must start at or after 0 s and end after it starts (got {start} to {end} s)")
