"""Held-out accuracy on real forest recordings: train on some shared recordings, count the others.

    .venv/bin/python benchmarks/forest_holdout.py [--shared ../shared] [--run-dir runs/forest-holdout]

Trains on 27 of the 40 labelled recordings in ../shared/forest (validation recordings, split off by
group, choose the counting settings), then counts calls in the 13 held-out recordings and prints
per-recording and overall event precision/recall/F1 and count MAE against the hand labels.

The held-out set is fixed and keeps together the recordings that share a background
(46/63/78 and 65/67/79 are held out whole; 04/06 and 61/84/86 are trained on whole), so no
background is heard on both sides. The same families are kept together in the train/validation split.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

HELD_OUT = ["00", "01", "09", "11", "23", "39", "46", "63", "65", "67", "78", "79", "88"]
SHARED_BACKGROUNDS = [["04", "06"], ["46", "63", "78"], ["61", "84", "86"], ["65", "67", "79"]]


def background_group(recording_stem: str) -> str:
    number = recording_stem.rsplit("_", 1)[-1]
    for family in SHARED_BACKGROUNDS:
        if number in family:
            return "background_" + "_".join(family)
    return recording_stem


def background_folds(recordings, folds: int, seed: int) -> list[int]:
    """The fold of each recording: background families dealt into `folds` in a seeded random order,
    so recordings that share a background are always on the same side."""
    import numpy as np

    groups = sorted({background_group(Path(r).stem) for r in recordings})
    if not 2 <= folds <= len(groups):
        raise ValueError(f"--folds must lie between 2 and {len(groups)} (the background families), got {folds}")
    np.random.default_rng(seed).shuffle(groups)
    fold_of = {g: i % folds for i, g in enumerate(groups)}
    return [fold_of[background_group(Path(r).stem)] for r in recordings]


def forest_clips(recordings, labels, clip_s: float):
    """Clips cut from labelled shared recordings, grouped by background family for every split."""
    from data_pipeline.labels.annotations import clips_from_annotations

    names = {Path(r).name for r in recordings}
    clips = clips_from_annotations(recordings, labels[labels["recording"].isin(names)], clip_s)
    return clips.assign(group=clips["group"].map(background_group))


def reusable_detector(chosen: list[Path], folder: Path, frontend=None, config=None):
    """The detector already in `folder` when it was trained on exactly `chosen` (its split.csv says so) with
    a generated bank of the kinds the code makes now (none, or all of them), and with `frontend` and every
    training setting of `config` (a TrainConfig: seed, network, bank, mining, augmentation, epochs, ...) when
    given, else None: a rerun after a crash or with more sizes trains only what is missing, and a kind added
    to the bank, another front end or any other training setting retrains (a model of another seed or
    without augmentation was once reused silently where only the network was compared)."""
    import pandas as pd

    from data_pipeline.synthetic.negatives import NEGATIVE_KINDS
    from model.detection.detector import Detector

    if (folder / "split.csv").exists() and (folder / "detector.json").exists():
        used = {Path(f).name for f in pd.read_csv(folder / "split.csv")["file"] if str(f).endswith(".mp3")}
        bank = folder / "generated_negatives.csv"
        kinds = set(pd.read_csv(bank)["kind"]) if bank.exists() else set()
        if used == {r.name for r in chosen} and kinds in (set(), set(NEGATIVE_KINDS)):
            if config is not None and not trained_with(folder, config):
                return None
            detector = Detector.load(folder)
            if frontend is None or detector.frontend == frontend:
                return detector
    return None


def trained_with(folder: Path, config) -> bool:
    """Whether the run in `folder` was trained with every setting of `config` (a TrainConfig; how verbose aside), as
    its test_metrics.json records them."""
    import json
    from dataclasses import asdict

    metrics = folder / "test_metrics.json"
    saved = json.loads(metrics.read_text())["train_config"] if metrics.exists() else {}
    wanted = json.loads(json.dumps(asdict(config)))
    return {k: v for k, v in saved.items() if k != "verbose"} == {k: v for k, v in wanted.items() if k != "verbose"}


def unheard_recordings(model: str | os.PathLike, recordings: list[Path]) -> list[Path]:
    """The `recordings` a run folder's split.csv does not name: those its model never heard (one line when none)."""
    import pandas as pd

    heard = {Path(f).name for f in pd.read_csv(Path(model) / "split.csv")["file"]}
    unheard = [r for r in recordings if r.name not in heard]
    if not unheard:
        raise ValueError(f"{model}: its split.csv names every shared forest recording; none is left to count")
    return unheard


STFT_OPTIONS = ("frame_length", "frame_step", "fft_length", "pulse_frame_length")


def forest_network(args, frontend, network: dict) -> dict:
    """The compact network's settings for these benchmarks as `train.py` makes them for the capuchinbird
    preset: shared convolutions unless --no-shared-trunk, or where another --arch or a swept --config is
    trained (those keep their own network unless --shared-trunk is given)."""
    from model.learning.presets import get_preset, shares_by_default
    from model.learning.training import network_settings

    by_default = shares_by_default(get_preset("capuchinbird"), getattr(args, "arch", "compact"), getattr(args, "config", None))
    return network_settings(args, frontend, network, shared_by_default=by_default)


def add_augment_arguments(parser) -> None:
    """--augment and --pitch-augment / --no-pitch-augment, as train.py takes them."""
    parser.add_argument("--augment", action="store_true", help="train with data_pipeline.features.augment.AugmentConfig()")
    parser.add_argument("--pitch-augment", action=argparse.BooleanOptionalAction, default=None,
                        help="train with calls at other pitches (augment.PITCH_ONLY; default: the capuchinbird "
                             "preset's, on where the front end has linear bins and no pulse panel)")


def forest_augment(args, frontend):
    """The augmentation these benchmarks train with, as `train.py` chooses it for the capuchinbird preset
    (model.learning.presets.preset_augment) from the options of add_augment_arguments."""
    from model.learning.presets import get_preset, preset_augment

    return preset_augment(get_preset("capuchinbird"), frontend, getattr(args, "augment", False),
                          getattr(args, "pitch_augment", None))


def add_fold_argument(parser, tables: str) -> None:
    """--fold F (repeatable): train and count only these folds of a cross-validated benchmark, whose figures
    then go to `tables` (named with folds_to_run's suffix)."""
    parser.add_argument("--fold", type=int, action="append", dest="only_folds", metavar="F",
                        help=f"train and count with this fold's model only (repeat for more); the figures then cover "
                             f"those folds' recordings, in {tables}")


def folds_to_run(args) -> tuple[list[int], str]:
    """(the folds --fold chose, all by default; a suffix naming them for the tables, '' for all), so a run of
    some folds never overwrites a full run's tables."""
    folds = sorted(set(args.only_folds or range(args.folds)))
    if not all(0 <= f < args.folds for f in folds):
        raise ValueError(f"--fold: folds are numbered 0 to {args.folds - 1}")
    return folds, "" if len(folds) == args.folds else "-fold" + "-".join(map(str, folds))


def add_stft_arguments(parser) -> None:
    """--frame-length, --frame-step, --fft-length, --pulse-frame-length: train a benchmark's models with
    another STFT, or with the pulse panel."""
    parser.add_argument("--frame-length", type=int, help="STFT frame length in samples (default: the front end's)")
    parser.add_argument("--frame-step", type=int, help="STFT frame step in samples; must divide the 0.25 s counting hop")
    parser.add_argument("--fft-length", type=int, help="FFT length in samples, >= the frame length")
    parser.add_argument("--pulse-frame-length", type=int,
                        help="add the pulse panel with sub-frames of this many samples (FrontendConfig; 0: none)")


def with_stft(frontend, args):
    """(`frontend` with the options of `add_stft_arguments` that were given, a run-folder suffix naming its
    STFT: '' when none was given). Checked before any training: counting needs a step that divides its hop."""
    from dataclasses import replace

    from data_pipeline.features.windows import hop_samples
    from model.detection.events import CountingConfig

    given = {k: getattr(args, k) for k in STFT_OPTIONS if getattr(args, k) is not None}
    if not given:
        return frontend, ""
    try:
        frontend = replace(frontend, **given)
        hop_samples(frontend, CountingConfig.hop_s)
    except ValueError as e:
        raise ValueError(f"--frame-length/--frame-step/--fft-length/--pulse-frame-length: {e}") from None
    stft = (f"-stft{frontend.frame_length}x{frontend.frame_step}x{frontend.fft_length}"
            if given.keys() - {"pulse_frame_length"} else "")
    return frontend, stft + (f"-pulse{frontend.pulse_frame_length}" if frontend.pulse_frame_length else "")


def main() -> None:
    from dataclasses import replace

    from data_pipeline.audio.decoding import list_audio_files
    from data_pipeline.labels.annotations import read_call_labels
    from data_pipeline.labels.class_folders import KAGGLE_CLASSES
    from model.detection.counting import count_calls
    from model.learning.training import (
        TrainConfig,
        add_network_arguments,
        apply_swept_config,
        default_frontend,
        train,
    )
    from model.reporting.evaluation import evaluate, format_summary

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared"))
    p.add_argument("--run-dir", default="runs/forest-holdout")
    p.add_argument("--arch", default="compact")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--seed", type=int, default=0)
    add_augment_arguments(p)
    p.add_argument("--config", help="a sweep's best.json (see benchmarks/forest_sweep.py) instead of the defaults")
    add_network_arguments(p)
    args = p.parse_args()
    if args.shared_trunk and args.arch != "compact":
        p.error(f"--shared-trunk is a setting of the compact network, not of {args.arch!r}")

    forest = Path(args.shared) / "forest"
    labels = read_call_labels(forest / "calls.csv")
    recordings = list_audio_files(forest)
    test = [r for r in recordings if r.stem.rsplit("_", 1)[-1] in HELD_OUT]
    train_recs = [r for r in recordings if r not in test]
    config = TrainConfig(arch=args.arch, epochs=args.epochs, seed=args.seed, split_fractions=(0.8, 0.2, 0.0))
    frontend = default_frontend(args.arch)
    if args.config:
        config, frontend = apply_swept_config(args.config, config)
    config = replace(config, network=forest_network(args, frontend, config.network), augment=forest_augment(args, frontend))
    t0 = time.time()
    clips = forest_clips(train_recs, labels, frontend.clip_s)
    detector = train(clips, list(KAGGLE_CLASSES), args.run_dir, config, frontend=frontend, labels=labels)
    t_train = time.time() - t0

    t0 = time.time()
    result = count_calls(detector, test)
    t_count = time.time() - t0
    per_rec, summary = evaluate(result.events, labels, [r.name for r in test])
    print(f"\nheld-out recordings ({len(test)}), trained on {len(train_recs)}; counting settings {detector.counting}")
    print(per_rec.to_string(index=False))
    print(format_summary(summary))
    print(f"train {t_train:.0f} s, count {t_count:.1f} s for {len(test) * 3} min of audio; "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}")


if __name__ == "__main__":
    from model import cli

    cli.run(main)  # one-line errors; the MP3 decoder's chatter dropped
