"""Labelled calls in long recordings, as one table: recording, start, end, confidence.

Reads the project's CSV (`recording,start,end[,confidence][,note]`; a recording with no call has
one row with empty times and confidence `none`) and Raven selection tables (tab-separated, with
`Begin Time (s)` and `End Time (s)`, the recording from `Begin File` or the table's own name).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

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
