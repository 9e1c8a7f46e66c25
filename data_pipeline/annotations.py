"""Labelled calls in long recordings, as one table: recording, start, end, confidence.

Reads the project's CSV (`recording,start,end[,confidence][,note]`; a recording with no call has
one row with empty times and confidence `none`) and Raven selection tables (tab-separated, with
`Begin Time (s)` and `End Time (s)`, the recording from `Begin File` or the table's own name).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from data_pipeline.clips import KAGGLE_CLASSES

LABEL_COLUMNS = ["recording", "start", "end", "confidence"]
CONFIDENCES = ("sure", "faint", "none")


def read_call_labels(path: str | os.PathLike) -> pd.DataFrame:
    """Labels table from a calls CSV or a Raven selection table (see module doc)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such labels file")
    if path.suffix.lower() == ".txt":
        return _read_raven(path)
    table = pd.read_csv(path)
    missing = {"recording", "start", "end"} - set(table.columns)
    if missing:
        raise ValueError(f"{path}: labels need columns recording,start,end[,confidence]; missing {sorted(missing)}")
    if "confidence" not in table:
        table["confidence"] = "sure"
    table["confidence"] = table["confidence"].fillna("sure").astype(str).str.strip().str.lower()
    table.loc[table["start"].isna(), "confidence"] = "none"
    bad = table[~table["confidence"].isin(CONFIDENCES)]
    if len(bad):
        raise ValueError(f"{path}: confidence must be one of {CONFIDENCES}; row {bad.index[0] + 2} has {bad['confidence'].iloc[0]!r}")
    calls = table[table["confidence"] != "none"]
    if (calls["end"] <= calls["start"]).any():
        row = calls.index[(calls["end"] <= calls["start"]).to_numpy()][0]
        raise ValueError(f"{path}: row {row + 2} ends before it starts")
    return table[LABEL_COLUMNS].reset_index(drop=True)


def _read_raven(path: Path) -> pd.DataFrame:
    table = pd.read_csv(path, sep="\t")
    if not {"Begin Time (s)", "End Time (s)"} <= set(table.columns):
        raise ValueError(f"{path}: not a Raven selection table (needs 'Begin Time (s)' and 'End Time (s)' columns)")
    if "Begin File" in table:
        recording = table["Begin File"].map(lambda f: Path(str(f)).name)
    else:
        recording = path.name.split(".Table")[0]
    return pd.DataFrame({"recording": recording, "start": table["Begin Time (s)"].astype(float),
                         "end": table["End Time (s)"].astype(float), "confidence": "sure"})[LABEL_COLUMNS]


def clips_from_annotations(
    recordings: list[str | os.PathLike],
    labels: pd.DataFrame,
    clip_s: float,
    positive_step_s: float = 0.5,
    negative_step_s: float = 1.0,
    margin_s: float = 0.5,
    call_class: str = KAGGLE_CLASSES[1],
    other_class: str = KAGGLE_CLASSES[0],
) -> pd.DataFrame:
    """Clip table (see data_pipeline.clips) cut from labelled long recordings, deterministically.

    A clip is labelled by its centre, as the compact network scores it: a call clip has its centre
    at least `margin_s` inside a sure call (one every `positive_step_s` along the call); an other
    clip has its centre at least `margin_s` away from every labelled call, sure or faint (one every
    `negative_step_s`, and one in the middle of every gap between two calls, so the network learns
    to keep close calls apart). Centres near call edges (labels are good to about 0.5 s) and faint calls are
    left out. Only recordings named in `labels` are used; the group is the recording.
    """
    from data_pipeline.audio_io import audio_duration_s

    by_name = {Path(p).name: Path(p) for p in recordings}
    by_stem = {Path(p).stem: Path(p) for p in recordings}
    rows = []
    for name, calls in labels.groupby("recording", sort=True):
        path = by_name.get(name) or by_stem.get(Path(name).stem) or by_stem.get(name)
        if path is None:
            continue
        duration = audio_duration_s(path)
        intervals = calls[calls["confidence"].isin(["sure", "faint"])][["start", "end"]].to_numpy(float)
        sure = calls[calls["confidence"] == "sure"][["start", "end"]].to_numpy(float)
        first, last = clip_s / 2, duration - clip_s / 2
        if last < first:
            continue
        for start, end in sure:
            for centre in np.arange(max(first, start + margin_s), min(last, end - margin_s) + 1e-9, positive_step_s):
                rows.append((str(path), round(centre - clip_s / 2, 4), call_class, path.stem))
        # Other clips on a grid, plus the middle of every gap between consecutive calls: the grid
        # alone can step over a 1-2 s gap, and those gaps are what keeps close calls apart.
        ordered = intervals[np.argsort(intervals[:, 0])] if len(intervals) else intervals
        gap_middles = [(e + s) / 2 for (_, e), (s, _) in zip(ordered[:-1], ordered[1:])]
        centres = np.union1d(np.arange(first, last + 1e-9, negative_step_s).round(4), np.round(gap_middles, 4))
        for centre in centres:
            if first <= centre <= last and all(centre <= s - margin_s or centre >= e + margin_s for s, e in intervals):
                rows.append((str(path), round(centre - clip_s / 2, 4), other_class, path.stem))
    if not rows:
        raise ValueError("no labelled recording was found among the recordings given "
                         f"(labels name e.g. {labels['recording'].iloc[0]!r}); check --recordings and --labels")
    return pd.DataFrame(rows, columns=["file", "start", "label", "group"])
