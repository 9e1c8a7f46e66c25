"""Labelled clips as one table, the split that keeps a source recording on one side, and loading.

A clip table is a pandas DataFrame with one row per training example:

    file   path of the audio file the clip is cut from
    start  offset of the clip in that file, seconds (0 for ready-cut clips)
    label  class name
    group  source recording; clips of one group never land on both sides of a split

Ready-cut clips (the Kaggle layout, a folder per class) and clips cut from annotated long
recordings (`data_pipeline.labels.annotations`) are both this table, so everything downstream is shared.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from data_pipeline.audio.decoding import AudioDecodeError, decode_audio
from data_pipeline.features.frontend import FrontendConfig, pad_or_crop
from data_pipeline.labels.annotations import clips_from_annotations, match_recordings, read_call_labels
from data_pipeline.labels.class_folders import (
    KAGGLE_CLASSES,
    KAGGLE_NEGATIVE_DIR,
    KAGGLE_POSITIVE_DIR,
)
from data_pipeline.labels.labelled_files import cut_into_windows, read_labelled_files
from data_pipeline.labels.review_decisions import UNDECIDED, clips_from_review, labels_with_review, read_review

SPLITS = ("train", "val", "test")


def training_clips(
    data_dir: str | os.PathLike | None,
    recordings: list[str | os.PathLike] | None,
    labels_path: str | os.PathLike | None,
    clip_s: float,
    window_hop_s: float | None = None,
    audio_dir: str | os.PathLike | None = None,
    allow_missing_recordings: bool = False,
    negatives: list[str | os.PathLike] | None = None,
    review_path: str | os.PathLike | None = None,
) -> tuple[pd.DataFrame, list[str], pd.DataFrame | None]:
    """(clip table, classes, call labels or None) from labelled files, labelled recordings, or both.

    data_dir: any layout `data_pipeline.labels.labelled_files` reads (a folder per class, the Kaggle
        layouts, ESC-50, PhysioNet, or a CSV of file,label); "data" when no recordings are given.
    window_hop_s: cut files longer than `clip_s` into windows this far apart, each labelled as its
        file (None: one clip from the start of each file, as for ready-cut clips).
    Clips cut from recordings take the Kaggle class names, or the data's classes when it has two.
    allow_missing_recordings: train even when labels name recordings that are not among `recordings`.
    negatives: files or folders of audio known to hold no call (rain, traffic, other species), cut
        into windows of `clip_s` one after another and labelled as the negative class, one group per file.
    review_path: a review of a count (review.py's OUTPUT_review.csv) over `recordings`: confirmed items are
        calls, rejected ones hard negatives, and in a reviewed recording no labels cover, the stretches
        clear of every item the review lists are background (data_pipeline.labels.review_decisions).
    """
    from data_pipeline.audio.decoding import existing_audio_paths, expand_audio_paths

    if bool(recordings) != bool(labels_path or review_path):
        raise ValueError("--recordings goes with --labels or --review: the recordings, and the calls known in them")
    tables, classes, labels = [], list(KAGGLE_CLASSES), None
    if data_dir or not recordings:
        file_clips, classes = read_labelled_files(data_dir or "data", audio_dir)
        tables.append(cut_into_windows(file_clips, clip_s, window_hop_s) if window_hop_s else file_clips)
    if recordings:
        if len(classes) != 2:
            raise ValueError(f"labelled recordings add call / no-call clips; they cannot join {len(classes)} classes")
        paths = expand_audio_paths(recordings)
        review = _matched_review(review_path, paths) if review_path else None
        if labels_path:
            labels = read_call_labels(labels_path)
            if review is not None:
                labels = labels_with_review(match_recordings(labels, paths)[0], review)
            tables.append(clips_from_annotations(paths, labels, clip_s, call_class=classes[1], other_class=classes[0],
                                                 allow_missing=allow_missing_recordings))
            labels, _ = match_recordings(labels, paths)  # the names the recordings have, e.g. for Raven tables
        if review is not None:
            only_reviewed = review[~review["recording"].isin(set() if labels is None else set(labels["recording"]))]
            reviewed = clips_from_review({p.name: p for p in paths}, only_reviewed, clip_s, call_class=classes[1],
                                         other_class=classes[0])
            tables.append(reviewed)
            decided = review["decision"].value_counts()
            print(f"--review: {decided.get('yes', 0)} confirmed, {decided.get('no', 0)} rejected, "
                  f"{decided.get('unsure', 0)} unsure and {decided.get(UNDECIDED, 0)} undecided (not used); from the "
                  f"{reviewed['group'].nunique()} reviewed recording(s) no labels cover, "
                  f"{(reviewed['label'] == classes[1]).sum()} call clips and "
                  f"{(reviewed['label'] == classes[0]).sum()} no-call clips (rejections and the background between items)")
    if negatives:
        if len(classes) != 2:
            raise ValueError(f"--negatives adds no-call audio to a call detector; it cannot join {len(classes)} classes")
        paths = existing_audio_paths(negatives, "--negatives")
        files = pd.DataFrame({"file": list(map(str, paths)), "start": 0.0, "label": classes[0],
                              "group": ["negatives:" + Path(p).stem for p in paths]})
        tables.append(cut_into_windows(files, clip_s, clip_s))
        print(f"--negatives: {len(paths)} files, {len(tables[-1])} windows of {clip_s:g} s labelled {classes[0]!r}")
    # Empty tables left out: pandas 2 warns that a later version stops ignoring their columns' types.
    return pd.concat([t for t in tables if len(t)] or tables[:1], ignore_index=True), classes, labels


def _matched_review(review_path, paths: list) -> pd.DataFrame:
    """The review's rows, named as the recordings are; a reviewed name that matches none stops training."""
    review = read_review(review_path)
    matched, problems = match_recordings(review, paths, source="the decisions")
    if problems:
        raise ValueError(f"{review_path}: " + "; ".join(problems))
    return matched


def group_split(
    table: pd.DataFrame,
    fractions: tuple[float, float, float] = (0.7, 0.15, 0.15),
    seed: int = 0,
) -> pd.Series:
    """Assign each clip to 'train', 'val' or 'test' so that no group spans two splits.

    Groups are shuffled (seeded) per class of the rarest label they hold and dealt greedily to the
    split furthest below its target share of clips, so each split gets every class where there are
    enough groups, and training gets a class first. Keying by the rarest label, not the majority,
    matters for labelled recordings: each holds mostly no-call windows, and a few recordings with
    calls must not all land in validation. Deterministic for a given table and seed.
    """
    if not np.isclose(sum(fractions), 1.0) or min(fractions) < 0:
        raise ValueError(f"split fractions must be >= 0 and sum to 1, got {fractions}")
    rng = np.random.default_rng(seed)
    sizes = table.groupby("group").size()
    rarity = {label: i for i, label in enumerate(table["label"].value_counts(ascending=True).index)}
    rarest = table.groupby("group")["label"].agg(lambda s: min(s.unique(), key=rarity.get))
    assignment: dict[str, str] = {}
    for label in sorted(rarest.unique()):
        groups = sorted(rarest.index[rarest == label])
        rng.shuffle(groups)
        total = sizes[groups].sum()
        filled = dict.fromkeys(SPLITS, 0)
        # Give val and test one group each first (when they are wanted and this class has a group
        # for every split, so training keeps one), then fill by deficit.
        order = [s for s, f in zip(SPLITS, fractions) if f > 0]
        for i, group in enumerate(groups):
            if i < len(order) and len(groups) >= len(order):
                split = order[::-1][i]
            else:
                split = max(order, key=lambda s: fractions[SPLITS.index(s)] * total - filled[s])
            assignment[group] = split
            filled[split] += sizes[group]
    return table["group"].map(assignment).rename("split")


def load_clips(
    table: pd.DataFrame,
    frontend: FrontendConfig,
    features: bool = True,
    backend: str = "soundfile",
    workers: int = 4,
    progress: bool = True,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Decode every file once and cut its clips: (clips, kept row mask, failures).

    With features=True (training) each clip is returned as its spectrogram [n, frames, bins], made
    right after its file is decoded, so waveforms never pile up: a 3 s clip's spectrogram takes a
    third of the memory of its samples. Files of few clips are decoded in groups of up to
    `FEATURE_BATCH_CLIPS` clips and their spectrograms made in one call: one clip at a time, the
    call's own cost was 13x the work (a 1 s clip: 11.6 ms against 0.85 ms in a batch of 100).
    With features=False, waveforms [n, samples] (for export).
    A file that cannot be decoded drops its clips and adds one line 'PATH: reason' to failures,
    so one bad clip among thousands does not stop training.
    """
    out, kept, failures, _ = load_clips_and_waveforms(table, frontend, (), features, backend, workers, progress)
    return out, kept, failures


def load_clips_and_waveforms(
    table: pd.DataFrame,
    frontend: FrontendConfig,
    waveform_rows: Iterable[int],
    features: bool = True,
    backend: str = "soundfile",
    workers: int = 4,
    progress: bool = True,
) -> tuple[np.ndarray, np.ndarray, list[str], dict[int, np.ndarray]]:
    """`load_clips`, and the waveforms of the clips at `waveform_rows` (row positions) from the same decoding:
    {row: samples} for those whose file decoded. Training mixes generated sounds into a sample of its own negative
    clips; taking them here spares decoding their recordings twice."""
    from tqdm.auto import tqdm

    from data_pipeline.features.frontend import clip_features

    n = frontend.clip_samples
    shape = frontend.input_shape if features else (n,)
    out = np.zeros((len(table), *shape), np.float32)
    kept = np.zeros(len(table), bool)
    failures: list[str] = []
    waveforms: dict[int, np.ndarray] = {}
    wanted = set(waveform_rows)
    by_file = table.reset_index(drop=True).groupby("file", sort=False).indices  # file -> row positions
    starts = table["start"].to_numpy(float)

    def work(group):
        done, errors = [], []
        for path, rows in group:
            try:
                audio = decode_audio(path, frontend.sample_rate_hz, backend)
            except AudioDecodeError as err:
                errors.append(str(err))
                continue
            done.append((rows, [pad_or_crop(audio, n, int(round(starts[r] * frontend.sample_rate_hz))) for r in rows]))
        if not done:
            return len(group), None, None, {}, errors
        rows = np.concatenate([r for r, _ in done])
        clips = np.stack([c for _, file_clips in done for c in file_clips])
        waves = {int(r): clip.copy() for r, clip in zip(rows, clips) if r in wanted}  # not views that keep `clips`
        return len(group), rows, np.asarray(clip_features(clips, frontend)) if features else clips, waves, errors

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = pool.map(work, _file_groups(by_file.items(), FEATURE_BATCH_CLIPS))
        desc = "decoding + spectrograms" if features else "decoding"
        with tqdm(total=len(by_file), desc=desc, unit="file", disable=not progress) as bar:
            for n_files, rows, clips, waves, errors in results:
                failures.extend(errors)
                if rows is not None:
                    out[rows] = clips
                    kept[rows] = True
                    waveforms.update(waves)
                bar.update(n_files)
    return out, kept, failures, waveforms


FEATURE_BATCH_CLIPS = 256  # clips per spectrogram call in load_clips; a file with more is one call of its own


def _file_groups(files, max_clips: int) -> list[list]:
    """Consecutive (file, rows) items in groups of at most `max_clips` rows (a longer file alone), in order."""
    groups, group, size = [], [], 0
    for item in files:
        if group and size + len(item[1]) > max_clips:
            groups.append(group)
            group, size = [], 0
        group.append(item)
        size += len(item[1])
    return groups + [group] if group else groups


def export_clips(table: pd.DataFrame, out_dir: str | os.PathLike, frontend: FrontendConfig) -> dict[str, int]:
    """Write every clip of `table` as a 16-bit WAV at the front end's rate, in the Kaggle layout."""
    import soundfile as sf

    waveforms, kept, failures = load_clips(table, frontend, features=False)
    if failures:
        raise ValueError("; ".join(failures))
    folders = {KAGGLE_CLASSES[1]: KAGGLE_POSITIVE_DIR, KAGGLE_CLASSES[0]: KAGGLE_NEGATIVE_DIR}
    counts: dict[str, int] = {}
    for row, wave in zip(table.itertuples(), waveforms):
        folder = Path(out_dir) / folders.get(row.label, row.label)
        folder.mkdir(parents=True, exist_ok=True)
        sf.write(folder / f"{Path(row.file).stem}-{int(round(row.start * 1000))}.wav", wave, frontend.sample_rate_hz,
                 subtype="PCM_16")
        counts[folder.name] = counts.get(folder.name, 0) + 1
    return counts
