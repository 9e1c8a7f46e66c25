"""A keras-tuner sweep on real forest recordings, sized for under 30 minutes on 2 CPU cores.

    .venv/bin/python benchmarks/forest_sweep.py [--out runs/forest-sweep] [--time-budget-s 1200]
    .venv/bin/python benchmarks/forest_holdout.py --config runs/forest-sweep/best.json   # the winner, held out

Sweeps (Hyperband, validation PR-AUC) on the 27 training recordings of benchmarks/forest_holdout.py,
with the same background families kept on one side of the train/validation split; the 13 held-out
recordings are never touched. Then run forest_holdout.py with --config to see whether the winner
beats the default configuration on them.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main() -> None:
    from forest_holdout import HELD_OUT, forest_clips

    from data_pipeline.audio.decoding import list_audio_files
    from data_pipeline.labels.annotations import read_call_labels
    from data_pipeline.labels.class_folders import KAGGLE_CLASSES
    from model.learning.sweep import run_sweep
    from model.learning.sweep_settings import OBJECTIVE

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared"))
    p.add_argument("--out", default="runs/forest-sweep")
    p.add_argument("--tuner", default="hyperband")
    p.add_argument("--max-trials", type=int, default=30)
    p.add_argument("--max-epochs", type=int, default=9)
    p.add_argument("--time-budget-s", type=float, default=1200.0)
    p.add_argument("--resume", action="store_true")
    args = p.parse_args()

    forest = Path(args.shared) / "forest"
    labels = read_call_labels(forest / "calls.csv")
    train_recs = [r for r in list_audio_files(forest) if r.stem.rsplit("_", 1)[-1] not in HELD_OUT]

    t0 = time.time()
    table = run_sweep(lambda clip_s: forest_clips(train_recs, labels, clip_s), list(KAGGLE_CLASSES), args.out, args.tuner, args.max_trials, args.max_epochs,
                      args.time_budget_s, args.resume)
    shown = [c for c in table.columns if not c.startswith("tuner/")]
    print(table[shown].head(10).to_string(index=False))
    print(f"{len(table)} trials in {(time.time() - t0) / 60:.1f} min, best {OBJECTIVE} {table[OBJECTIVE].iloc[0]:.4f}; "
          f"next: benchmarks/forest_holdout.py --config {args.out}/best.json")


if __name__ == "__main__":
    from model import cli

    cli.run(main)  # one-line errors; the MP3 decoder's chatter dropped
