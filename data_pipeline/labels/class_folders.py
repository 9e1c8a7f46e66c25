"""Labelled clips from a folder per class (the Kaggle layout is one), and the layout's names.

A clip table is a pandas DataFrame with one row per training example:

    file   path of the audio file the clip is cut from
    start  offset of the clip in that file, seconds (0 for ready-cut clips)
    label  class name
    group  source recording; clips of one group never land on both sides of a split
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from data_pipeline.audio.decoding import hidden, list_audio_files

if TYPE_CHECKING:  # pandas loads when a table is made: count_calls.py reads the names here before it
    import pandas as pd

KAGGLE_POSITIVE_DIR = "Parsed_Capuchinbird_Clips"
KAGGLE_NEGATIVE_DIR = "Parsed_Not_Capuchinbird_Clips"
KAGGLE_RECORDINGS_DIR = "Forest Recordings"
# Class names for the Kaggle layout, negative first: index 1 is the call class in a binary model.
KAGGLE_CLASSES = ("not_capuchinbird", "capuchinbird")
CLIP_COLUMNS = ["file", "start", "label", "group"]
MIN_GROUPS_PER_CLASS = 3


def source_group(path: str | os.PathLike) -> str:
    """Source recording of a parsed clip: 'XC114131-3.wav' -> 'XC114131', 'Crickets-chirping-7.wav' -> 'Crickets-chirping'."""
    stem = Path(path).stem
    match = re.fullmatch(r"(.+?)-\d+", stem)
    return match.group(1) if match else stem


def clips_from_folders(data_dir: str | os.PathLike) -> tuple[pd.DataFrame, list[str]]:
    """Clip table and class names from a folder-per-class layout.

    The Kaggle layout (Parsed_Capuchinbird_Clips/, Parsed_Not_Capuchinbird_Clips/) gives the
    classes ("not_capuchinbird", "capuchinbird"). Any other layout takes each sub-folder holding
    audio as a class, named after the folder, in alphabetical order. Groups come from the clip
    names (`source_group`); outside the Kaggle layout, if that leaves a class fewer than 3 groups,
    each file is its own group instead.
    """
    import pandas as pd

    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise FileNotFoundError(
            f"{data_dir}: no such folder. Expected the Kaggle layout: {data_dir}/{KAGGLE_POSITIVE_DIR}/*.wav "
            f"(calls) and {data_dir}/{KAGGLE_NEGATIVE_DIR}/*.wav (no calls), one sub-folder of clips per class, "
            f"or a CSV of file,label (README: Other datasets)."
        )
    if (data_dir / KAGGLE_POSITIVE_DIR).is_dir() and (data_dir / KAGGLE_NEGATIVE_DIR).is_dir():
        folders = {KAGGLE_CLASSES[0]: data_dir / KAGGLE_NEGATIVE_DIR, KAGGLE_CLASSES[1]: data_dir / KAGGLE_POSITIVE_DIR}
    else:
        folders = {
            p.name: p for p in sorted(data_dir.iterdir())
            if p.is_dir() and p.name != KAGGLE_RECORDINGS_DIR and not hidden(p) and list_audio_files(p)
        }
    rows = [
        (str(f), 0.0, name, source_group(f))
        for name, folder in folders.items()
        for f in list_audio_files(folder)
    ]
    # Kaggle clip names like 'XC114131-3.wav' say which source recording they were cut from; in
    # other layouts names like 'dog-3.wav' may say nothing of the kind and would make a class one
    # group. There, trust the names only when every class keeps at least MIN_GROUPS_PER_CLASS groups.
    groups_per_class = pd.DataFrame(rows, columns=CLIP_COLUMNS).groupby("label")["group"].nunique()
    kaggle = list(folders) == list(KAGGLE_CLASSES)
    if not kaggle and len(groups_per_class) and groups_per_class.min() < MIN_GROUPS_PER_CLASS:
        rows = [(f, start, label, Path(f).stem) for f, start, label, _ in rows]
    classes = list(folders)
    if len(classes) < 2 or not rows:
        raise FileNotFoundError(
            f"{data_dir}: found {len(classes)} class folder(s) with audio {classes}; need at least 2. "
            f"Expected {KAGGLE_POSITIVE_DIR}/ and {KAGGLE_NEGATIVE_DIR}/ (Kaggle layout) or a folder per class."
        )
    return pd.DataFrame(rows, columns=CLIP_COLUMNS), classes
