"""Datasets of labelled audio files, whatever their layout, as one clip table (see data_pipeline.training_data.clips).

`read_labelled_files(path)` recognises, from what `path` holds:

    REFERENCE.csv beside *.wav       PhysioNet/CinC 2016 heart sounds: name,label without header,
                                     -1 = normal, 1 = abnormal
    train.csv + train/               Kaggle right-whale detection: clip_name,label (1 = up-call)
    meta/esc50.csv + audio/          ESC-50: filename,fold,target,category,esc10,src_file,take
    train.csv + audio_train/         Freesound audio tagging: fname,label[,manually_verified]
    a CSV file                       any table with a file column and a label column (names below);
                                     a `fold` column gives cross-validation folds, a group-like
                                     column (src_file, patient, ...) keeps related files together
    a folder of class folders        one sub-folder per class, any number (the Kaggle Capuchinbird
                                     layout is one)

Every reader returns (clip table with a `fold` column, class names). Files longer than the model's
clip are cut into windows later (`cut_into_windows`), each window labelled as its file.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from data_pipeline.audio.decoding import AUDIO_EXTENSIONS, audio_duration_s
from data_pipeline.features.windows import window_starts
from data_pipeline.labels.class_folders import clips_from_folders
from data_pipeline.labels.table_files import read_table

FILE_COLUMNS = ("fname", "filename", "file", "clip_name", "path", "name", "recording")
LABEL_COLUMNS = ("label", "category", "class", "labels")
GROUP_COLUMNS = ("group", "src_file", "source", "patient", "subject")
PHYSIONET_CLASSES = {"-1": "normal", "1": "abnormal"}
WHALE_CLASSES = {"0": "no_upcall", "1": "upcall"}


class DatasetError(ValueError):
    """A dataset that cannot be read; the message names the file and the problem."""


def read_labelled_files(path: str | os.PathLike, audio_dir: str | os.PathLike | None = None) -> tuple[pd.DataFrame, list[str]]:
    """(clip table with columns file, start, label, group, fold; class names) for any layout above."""
    path = Path(path)
    if path.is_file():
        return read_label_csv(path, audio_dir)
    if (path / "REFERENCE.csv").is_file():
        return read_label_csv(path / "REFERENCE.csv", audio_dir or path, label_names=PHYSIONET_CLASSES)
    if (path / "train.csv").is_file() and (path / "train").is_dir():
        return read_label_csv(path / "train.csv", audio_dir or path / "train", label_names=WHALE_CLASSES)
    if (path / "meta" / "esc50.csv").is_file():
        return read_label_csv(path / "meta" / "esc50.csv", audio_dir or path / "audio")
    if (path / "train.csv").is_file() and (path / "audio_train").is_dir():
        return read_label_csv(path / "train.csv", audio_dir or path / "audio_train")
    table, classes = clips_from_folders(path)  # also says which layouts were expected when nothing is there
    return table.assign(fold=np.nan), classes


def read_label_csv(csv_path: str | os.PathLike, audio_dir: str | os.PathLike | None = None,
                   label_names: dict[str, str] | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Clip table from a CSV of file,label (header optional; see module doc for the column names).

    audio_dir: where the files are (default: the CSV's folder, or audio/, train/, audio_train/
        beside it or beside its parent). Names without an extension are looked up as .wav, .flac, ...
    label_names: renames label values (e.g. PhysioNet's -1/1 to normal/abnormal); its order gives
        the class order, negative class first.
    """
    csv_path = Path(csv_path)
    raw, sep = read_table(csv_path, needs=f"a file column ({', '.join(FILE_COLUMNS)}) and a label column", keep_default_na=False)
    columns = {c.strip().lower(): c for c in raw.columns}
    file_col = next((columns[c] for c in FILE_COLUMNS if c in columns), None)
    label_col = next((columns[c] for c in LABEL_COLUMNS if c in columns), None)
    if file_col is None or label_col is None:
        if len(raw.columns) == 2 and not ({c.lower() for c in raw.columns} & set(FILE_COLUMNS + LABEL_COLUMNS)):
            raw, _ = read_table(csv_path, sep=sep, keep_default_na=False, header=None)  # headerless name,label
            file_col, label_col, columns = 0, 1, {}
        else:
            raise DatasetError(f"{csv_path}: need a file column ({', '.join(FILE_COLUMNS)}) and a label column "
                               f"({', '.join(LABEL_COLUMNS)}); found {list(raw.columns)}")
    if raw.empty:
        raise DatasetError(f"{csv_path}: no rows")
    names = raw[file_col].str.strip()
    labels = raw[label_col].str.strip()
    if label_names:
        unknown = sorted(set(labels) - set(label_names))
        if unknown:
            raise DatasetError(f"{csv_path}: unexpected labels {unknown[:5]}; expected {sorted(label_names)}")
        labels = labels.map(label_names)
        classes = list(dict.fromkeys(label_names.values()))
    else:
        classes = _class_order(labels)
    if len(set(labels)) < 2:
        raise DatasetError(f"{csv_path}: found one class only ({labels.iloc[0]!r}); need at least two")

    folder = Path(audio_dir) if audio_dir else _find_audio_dir(csv_path, names.iloc[0])
    files = [_resolve(folder, n) for n in names]
    missing = [n for n, f in zip(names, files) if f is None]
    if missing:
        raise DatasetError(f"{csv_path}: {len(missing)} of {len(names)} listed files are not in {folder} "
                           f"(e.g. {missing[0]}); pass the audio folder with --audio-dir")
    group_col = next((columns[c] for c in GROUP_COLUMNS if c in columns), None)
    fold_col = columns.get("fold")
    table = pd.DataFrame({
        "file": [str(f) for f in files],
        "start": 0.0,
        "label": labels.to_numpy(),
        "group": raw[group_col].to_numpy() if group_col is not None else [Path(f).stem for f in files],
        "fold": pd.to_numeric(raw[fold_col], errors="coerce").to_numpy() if fold_col is not None else np.nan,
    })
    return table, classes


def _class_order(labels: pd.Series) -> list[str]:
    """Numeric labels in numeric order (0 before 1: the positive class last), others alphabetically."""
    values = sorted(set(labels))
    try:
        return sorted(values, key=float)
    except ValueError:
        return values


def _find_audio_dir(csv_path: Path, first_name: str) -> Path:
    here = csv_path.parent
    candidates = [here, here / "audio", here / "train", here / "audio_train", here.parent / "audio", here.parent]
    for folder in candidates:
        if _resolve(folder, first_name) is not None:
            return folder
    return here


def _resolve(folder: Path, name: str) -> Path | None:
    """folder/name, or folder/name + an audio extension when the name has none."""
    path = folder / name
    if path.is_file():
        return path
    for ext in AUDIO_EXTENSIONS:
        candidate = path.with_name(path.name + ext)
        if candidate.is_file():
            return candidate
    return None


def cut_into_windows(table: pd.DataFrame, clip_s: float, hop_s: float) -> pd.DataFrame:
    """One row per model window: a file longer than `clip_s` gives windows every `hop_s` seconds
    while they fit, and one ending at its end where they stop short of it (exactly as predict.py
    windows a file: `data_pipeline.features.windows.window_starts`), each with the file's label,
    group and fold.

    Windows of one file share its group, so they never land on both sides of a split, and
    predictions are pooled back per file (see model.detection.decisions.pool_by_file).
    """
    from data_pipeline.audio.decoding import AudioDecodeError

    rows = []
    for row in table.itertuples(index=False):
        try:
            duration = audio_duration_s(row.file)
        except AudioDecodeError:
            duration = clip_s  # left for load_clips to report, with the others that fail
        rows += [row._replace(start=round(float(s), 4)) for s in window_starts(duration, clip_s, hop_s)]
    return pd.DataFrame(rows, columns=table.columns)
