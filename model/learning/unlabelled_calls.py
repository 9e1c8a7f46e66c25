"""Calls the labels may lack: what a trained detector counts in its own labelled recordings where no label is.

Training takes every stretch of a labelled recording that no label covers as no call, and scores every count it
makes there as a false call. A person who labels some of a recording's calls, not all (a few annotated calls is
what a biologist has), teaches the rest as no call and reads scores that blame the model for finding them.
Measured (2026-12-07): the 40 shared forest recordings with only the first call of each labelled (22 of 65 calls),
`train.py` printed an event precision of 0.231 on its test recordings, yet against the full labels that detector
counted every call of all 40 (65 of 65, no false call), the 27 unlabelled calls of its own training recordings
among them. So after training, the calls it counts in those recordings that match no label, sure or faint, are
listed to be heard, and said in one line.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pandas as pd

from model.cli import OneLineWarning
from model.detection.counting import count_calls
from model.detection.detector import Detector
from model.outputs import atomic_write_csv
from model.reporting.evaluation import false_calls

UNLABELLED_CALLS_FILE = "unlabelled_calls.csv"  # in the run folder: recording, start, end, score, split
SPLIT_NAMES = {"train": "training", "val": "validation", "test": "test"}


class UnlabelledCallsWarning(OneLineWarning):
    """Calls counted in labelled recordings where no label is."""


def background_recordings(table: pd.DataFrame, labels: pd.DataFrame, negative: str,
                          labelled_by_hand: set[str] | None = None) -> dict[str, list[str]]:
    """The recordings `labels` names that training took no-call clips from (files of `table`, by split): the
    recordings whose unlabelled stretches it taught as no call. labelled_by_hand: of those, only these (names): the
    recordings a person labelled, not those self-training labelled with the calls a model guessed."""
    named = set(labels["recording"]) if labelled_by_hand is None else set(labels["recording"]) & set(labelled_by_hand)
    taken = table[(table["label"] == negative) & table["file"].map(lambda f: Path(f).name in named)]
    files = taken.drop_duplicates("file")
    return {split: sorted(files.loc[files["split"] == split, "file"]) for split in SPLIT_NAMES
            if (files["split"] == split).any()}


def check_for_unlabelled_calls(detector: Detector, recordings: dict[str, list[str]], labels: pd.DataFrame,
                               run_dir: str | os.PathLike, counted: dict[str, pd.DataFrame] | None = None) -> dict:
    """Count `recordings` (split -> files) with the trained `detector`, write the calls that match no label to
    run_dir/UNLABELLED_CALLS_FILE and, if there are any, say how many in one line (UnlabelledCallsWarning).
    counted: the events of splits counted already (the test recordings). {split: calls matching no label}."""
    found = []
    for split, files in recordings.items():
        events = (counted or {}).get(split)
        if events is None:
            events = count_calls(detector, files, progress=False).events
        events = events[events["recording"].isin({Path(f).name for f in files})]
        found.append(false_calls(events, labels).assign(split=split))
    table = pd.concat(found, ignore_index=True) if found else pd.DataFrame()
    table = table.reindex(columns=["recording", "start", "end", "score", "split"])
    atomic_write_csv(Path(run_dir) / UNLABELLED_CALLS_FILE, table.round({"start": 2, "end": 2, "score": 4}))
    per_split = {split: int((table["split"] == split).sum()) for split in recordings}
    if len(table):
        where = ", ".join(f"{n} in {SPLIT_NAMES[split]}" for split, n in per_split.items() if n)
        warnings.warn(UnlabelledCallsWarning(
            f"{len(table)} call(s) counted in the labelled recordings match no label ({where} recordings; "
            f"{Path(run_dir) / UNLABELLED_CALLS_FILE}): if they are calls the labels lack, training taught them as no "
            "call and the scores above count them as false; listen to them, label the calls among them and train "
            "again"), stacklevel=2)
    return per_split
