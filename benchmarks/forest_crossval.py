"""Cross-validated accuracy on all 40 shared forest recordings: every recording is unheard once.

    .venv/bin/python benchmarks/forest_crossval.py [--folds 5] [--max-freq-hz 4000] [--config best.json]

Recordings are dealt into folds by group (the background families of forest_holdout.py stay
together). For each fold, a model trains on the other folds (a fifth of their groups for early
stopping and counting settings) and counts the fold's recordings. The per-recording results of all
folds are scored together against the hand labels. A fixed holdout hides backgrounds that happen to
sit on the training side; this does not.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main() -> None:
    import pandas as pd
    from forest_holdout import background_folds, forest_augment, forest_clips, forest_network

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
    from model.reporting.evaluation import evaluate, format_summary, summarise

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared"))
    p.add_argument("--run-dir", default="runs/forest-crossval")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-freq-hz", type=float, help="top of the front end's band (default: the front end's)")
    p.add_argument("--config", help="a sweep's best.json instead of the defaults")
    add_network_arguments(p)
    args = p.parse_args()

    forest = Path(args.shared) / "forest"
    labels = read_call_labels(forest / "calls.csv")
    recordings = list_audio_files(forest)
    config, frontend = TrainConfig(seed=args.seed, split_fractions=(0.8, 0.2, 0.0), verbose=0), default_frontend("compact")
    if args.config:
        config, frontend = apply_swept_config(args.config, config)
    if args.max_freq_hz:
        frontend = replace(frontend, max_freq_hz=args.max_freq_hz)
    config = replace(config, network=forest_network(args, frontend, config.network), augment=forest_augment(args, frontend))

    fold_of = background_folds(recordings, args.folds, args.seed)
    tables, t0 = [], time.time()
    for fold in range(args.folds):
        held = [r for r, f in zip(recordings, fold_of) if f == fold]
        rest = [r for r in recordings if r not in held]
        clips = forest_clips(rest, labels, frontend.clip_s)
        detector = train(clips, list(KAGGLE_CLASSES), Path(args.run_dir) / f"fold{fold}", config, frontend=frontend,
                         labels=labels)
        result = count_calls(detector, held, progress=False)
        per_rec, summary = evaluate(result.events, labels, [r.name for r in held])
        tables.append(per_rec.assign(fold=fold))
        print(f"fold {fold} ({len(held)} recordings): {format_summary(summary)}", flush=True)
    table = pd.concat(tables, ignore_index=True)
    mistakes = table[(table["fp"] + table["fn"] + table["count_error"].abs()) > 0]
    print(mistakes.to_string(index=False) if len(mistakes) else "no mistakes")
    print(f"all folds: {format_summary(summarise(table))}")
    print(f"front end {frontend}; {(time.time() - t0) / 60:.1f} min; {os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}")


if __name__ == "__main__":
    from model import cli

    cli.run(main)  # one-line errors; the MP3 decoder's chatter dropped
