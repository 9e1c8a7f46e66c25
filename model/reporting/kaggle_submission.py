"""The challenge's submission table: one row per recording and its call count, under a chosen header.

Needs no pandas import of its own, so `count_calls.py` can list the formats before anything heavy loads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

SUBMISSION_FORMATS = {  # --format name -> (recording column, count column)
    "clip_name,call_count": ("clip_name", "call_count"),
    "recording,capuchin_calls": ("recording", "capuchin_calls"),
}


def submission_table(counts: pd.DataFrame, fmt: str = "clip_name,call_count") -> pd.DataFrame:
    """The challenge's submission: one row per recording, sorted by name, in the chosen header."""
    if fmt not in SUBMISSION_FORMATS:
        raise ValueError(f"unknown submission format {fmt!r}; choose one of {list(SUBMISSION_FORMATS)}")
    name_col, count_col = SUBMISSION_FORMATS[fmt]
    table = counts.sort_values("recording")[["recording", "call_count"]]
    return table.set_axis([name_col, count_col], axis=1).reset_index(drop=True)
