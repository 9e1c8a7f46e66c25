"""Self-training: a model trained on a few labelled recordings labels the recordings nobody labelled, and a
model trains again on both.

A biologist labels an hour and has a season. The second model hears the calls the first one was sure of in
the unlabelled recordings (model.learning.pseudo_labels says which stretches become calls, which are left out,
which are background); their background only with `background` (--pseudo-background), since a call the first
model missed is then taught as background. Its validation recordings stay the hand-labelled ones of the first,
so early stopping, the counting settings and the gates are still chosen on labels a person made. Measured on
the learning curve (docs/not-a-call.md, "From a few labelled recordings"; benchmarks/learning_curve.py --self-train).

Several fits, one after another, each minutes to hours: a rerun of the same command into the same --run-dir
reuses each fit that finished with the same clips, labels and settings (FIT_KEY_FILE in its folder), and the
fit that was stopped goes on from its last epoch (model.learning.training_state).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from model.detection.counting import count_calls
from model.detection.detector import Detector
from model.learning.pseudo_labels import check_pseudo_scores, pseudo_labels
from model.learning.training import TrainConfig, train
from model.learning.training_state import training_key
from model.outputs import atomic_write_csv, atomic_write_text

SURE_SCORE = 0.9  # a call the first model scores this much is taught as a call
UNSURE_SCORE = 0.2  # a window it scores this much (and a weaker call) is taught as neither (with background)
SETTINGS_FILE = "self_training.json"  # in each self-trained run folder: how its labels were guessed and used
FIT_KEY_FILE = "fit_key.json"  # in each fit's folder once it has finished: what it was trained from


def add_self_training_arguments(parser) -> None:
    parser.add_argument("--pseudo-sure-score", type=float, default=SURE_SCORE,
                        help="self-training: a call the model before scores this much is taught as a call")
    parser.add_argument("--pseudo-unsure-score", type=float, default=UNSURE_SCORE,
                        help="self-training with --pseudo-background: windows the model before scores this much, and "
                             "its weaker calls, are taught as neither call nor no call")
    parser.add_argument("--pseudo-background", action=argparse.BooleanOptionalAction, default=False,
                        help="self-training: teach what the model before scores under --pseudo-unsure-score in the "
                             "unlabelled recordings as no call too, not only their sure calls as calls (fewer false "
                             "calls on a moo, more calls missed: README, 'Self-training')")


def unlabelled_recordings(paths: list[str | os.PathLike], labelled: set[str]) -> list[Path]:
    """The audio files `paths` name (files or folders), each readable, none of them among the `labelled` file
    names: checked before any training, each problem in one line."""
    from data_pipeline.audio.decoding import audio_duration_s, existing_audio_paths, require_unique_names

    found = existing_audio_paths(paths, "--unlabelled")
    require_unique_names(found)  # the guessed labels name recordings by file name
    both = sorted(p.name for p in found if p.name in labelled)
    if both:
        raise ValueError(f"--unlabelled: {', '.join(both[:5])} {'is' if len(both) == 1 else 'are'} labelled in --labels; "
                         "give each recording either labelled or unlabelled")
    for path in found:
        audio_duration_s(path)  # an unreadable file says so in one line now, not after the first fit
    return found


def self_training_settings(sure_score: float, unsure_score: float, background: bool, unlabelled: list[Path]) -> dict:
    """What a self-training round's run folder records (self_training.json), and a rerun compares before reusing it."""
    return {"pseudo_sure_score": sure_score, "pseudo_unsure_score": unsure_score, "pseudo_background": background,
            "unlabelled": sorted(Path(p).name for p in unlabelled)}


def self_training_clips(clips: pd.DataFrame, split: pd.DataFrame, unlabelled: list[Path], guessed: pd.DataFrame,
                        classes: list[str], clip_s: float, background: bool = False) -> pd.DataFrame:
    """The clips a self-training round trains on: the labelled `clips` in the splits the model before had
    (`split`, its split.csv), and the clips the `guessed` labels (model.learning.pseudo_labels) give the
    `unlabelled` recordings, all of them training clips, only the call clips unless `background` (so that a
    call the model before missed is never taught as background). In recording order, as clips cut from all
    the recordings at once are: training draws its batches from that order."""
    from data_pipeline.labels.annotations import clips_from_annotations

    split_of = split.drop_duplicates("file").set_index("file")["split"]
    labelled = clips.assign(split=clips["file"].astype(str).map(split_of).fillna("train"))
    extra = clips_from_annotations(unlabelled, guessed, clip_s, call_class=classes[1],
                                   other_class=classes[0]).assign(split="train")
    if not background:
        extra = extra[extra["label"] == classes[1]]
    table = pd.concat([labelled, extra], ignore_index=True)
    return table.sort_values("file", key=lambda files: files.map(lambda f: Path(f).name), kind="stable", ignore_index=True)


def self_training_round(detector: Detector, previous_dir: str | os.PathLike, run_dir: str | os.PathLike,
                        clips: pd.DataFrame, classes: list[str], unlabelled: list[Path], labels: pd.DataFrame,
                        config: TrainConfig, sure_score: float = SURE_SCORE, unsure_score: float = UNSURE_SCORE,
                        progress: bool = True, background: bool = False, **train_settings) -> Detector:
    """`detector` (trained in `previous_dir` on `clips`, cut from recordings labelled in `labels`) counts the
    `unlabelled` recordings; a model trains in `run_dir` on `clips`, split as in previous_dir/split.csv, and
    the clips its labels give (all of them training clips; only the call clips unless `background`). Writes
    run_dir/pseudo_labels.csv and run_dir/self_training.json (the scores, `background`, the recordings labelled).
    Where there is nothing new to teach (no sure call, and not `background`), previous_dir's model is kept: copied
    to run_dir, not trained again on the same clips.
    train_settings: passed on to model.learning.training.train (frontend, counting, pooling)."""
    if len(classes) != 2:
        raise ValueError(f"self-training needs a call detector (2 classes), not {len(classes)} classes")
    scored = count_calls(detector, unlabelled, progress=progress)
    if scored.failures:
        raise ValueError(f"unlabelled recordings that could not be read: {'; '.join(scored.failures)}")
    guessed = pseudo_labels(scored.scores, scored.events, detector.frontend.clip_s, sure_score, unsure_score)
    sure = guessed[guessed["confidence"] == "sure"]
    nothing_new = sure.empty and not background  # the clips of the model before: training again would remake it
    run_dir = Path(run_dir)
    if nothing_new:
        shutil.copytree(previous_dir, run_dir, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("self_training", "pseudo_labels.csv", SETTINGS_FILE, FIT_KEY_FILE))
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_csv(run_dir / "pseudo_labels.csv", guessed)
    settings = self_training_settings(sure_score, unsure_score, background, unlabelled)
    atomic_write_text(run_dir / SETTINGS_FILE, json.dumps(settings, indent=2))
    if nothing_new:
        print(f"self-training: the model before was sure (>= {sure_score:g}) of no call in the {len(unlabelled)} "
              f"unlabelled recording(s), so there is nothing new to teach: it is kept, copied to {run_dir}", flush=True)
        return detector
    taught = (f"{(guessed['confidence'] == 'faint').sum()} stretches left out (>= {unsure_score:g}), the rest taught as "
              "no call (--pseudo-background)" if background else "nothing else of them taught")
    print(f"self-training: {len(unlabelled)} unlabelled recording(s) labelled by the model before: {len(sure)} calls "
          f"scored >= {sure_score:g}, {taught}; {run_dir / 'pseudo_labels.csv'}", flush=True)
    split = pd.read_csv(Path(previous_dir) / "split.csv")
    table = self_training_clips(clips, split, unlabelled, guessed, classes, detector.frontend.clip_s, background)
    # The gates and the longest call are measured on the calls training heard: the hand-labelled and the sure guessed.
    heard = pd.concat([labels, sure], ignore_index=True)
    return train_once(table, classes, run_dir, config, heard, labelled_by_hand=set(labels["recording"]), **train_settings)


def train_once(clips: pd.DataFrame, classes: list[str], run_dir: str | os.PathLike, config: TrainConfig,
               labels: pd.DataFrame, labelled_by_hand: set[str] | None = None, **train_settings) -> Detector:
    """`train(...)` into run_dir, or the model already there where a fit with the same clips, labels and settings
    finished in it before (a rerun after a stop: the fits of the rounds before are not trained again).
    labelled_by_hand: the recordings of `labels` a person labelled (train's), not the model before."""
    run_dir = Path(run_dir)
    digest = hashlib.sha256(training_key(clips, asdict(config), {}, list(classes)).encode())
    digest.update(labels.to_csv(index=False).encode())
    digest.update(repr(sorted(train_settings.items())).encode())  # front end, counting, pooling: dataclass reprs
    key = digest.hexdigest()[:16]
    marker = run_dir / FIT_KEY_FILE
    if marker.is_file() and json.loads(marker.read_text()).get("key") == key:
        print(f"self-training: {run_dir} already holds this fit (the same clips, labels and settings), so it is "
              "reused, not trained again", flush=True)
        return Detector.load(run_dir)
    marker.unlink(missing_ok=True)  # from a fit with other inputs: this folder is about to hold another
    detector = train(clips, classes, run_dir, config, labels=labels, labelled_by_hand=labelled_by_hand, **train_settings)
    atomic_write_text(marker, json.dumps({"key": key}))
    return detector


def train_with_self_training(clips: pd.DataFrame, classes: list[str], run_dir: str | os.PathLike, config: TrainConfig,
                             unlabelled: list[Path], labels: pd.DataFrame, rounds: int = 1,
                             sure_score: float = SURE_SCORE, unsure_score: float = UNSURE_SCORE,
                             background: bool = False, **train_settings) -> Detector:
    """Train on the labelled `clips`, then `rounds` rounds of self-training on the `unlabelled` recordings, each
    labelled by the model of the round before. The last model is run_dir's; the ones before it, each a whole run
    folder, are in run_dir/self_training/fit<r> (fit0: the labels alone), with the pseudo-labels each round used."""
    check_pseudo_scores(sure_score, unsure_score)
    if rounds < 1:
        raise ValueError(f"--self-training-rounds must be 1 or more, got {rounds}")
    run_dir = Path(run_dir)
    previous = run_dir / "self_training" / "fit0"
    detector = train_once(clips, classes, previous, config, labels, **train_settings)
    for r in range(1, rounds + 1):
        out = run_dir if r == rounds else run_dir / "self_training" / f"fit{r}"
        detector = self_training_round(detector, previous, out, clips, classes, unlabelled, labels, config,
                                       sure_score, unsure_score, background=background, **train_settings)
        previous = out
    return detector
