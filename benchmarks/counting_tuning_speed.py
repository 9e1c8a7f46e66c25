"""How long choosing the counting settings takes, against merging and scoring each setting as counting does.

    .venv/bin/python benchmarks/counting_tuning_speed.py FOLD_DIR [--shared ../shared]

FOLD_DIR: a fold of `learning_curve.py` or `robustness.py` (window_scores.pkl, detector.json), whose saved
window scores of unheard forest recordings stand in for a run's validation recordings. Times
`tune_counting` (every setting of its grid, merged and scored on arrays) and, in the same process, the same
grid through `events_from_scores` + `evaluate` (tables per recording, as counting and the benchmarks score),
checks that both give every setting the same F1, count MAE and exact fraction, and prints both times.
"""

from __future__ import annotations

import argparse
import itertools
import json
import pickle
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    from data_pipeline.labels.annotations import read_call_labels
    from model.detection.counting import events_from_scores
    from model.detection.events import CountingConfig
    from model.learning.counting_tuning import DEFAULT_GRID, HOP_MULTIPLES, _every, tune_counting
    from model.reporting.evaluation import evaluate

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("fold")
    p.add_argument("--shared", default=str(ROOT.parent / "shared"))
    args = p.parse_args()

    fold = Path(args.fold)
    with open(fold / "window_scores.pkl", "rb") as f:
        saved = pickle.load(f)
    scores = saved["clean"] if isinstance(saved, dict) else saved
    detector = json.loads((fold / "detector.json").read_text())
    base, window_s = CountingConfig(**detector["counting"]), detector["frontend"]["clip_s"]
    labels = read_call_labels(Path(args.shared) / "forest" / "calls.csv")
    print(f"{len(scores)} recordings, {sum(len(r.scores) for r in scores)} windows")

    start = time.perf_counter()
    _, tried = tune_counting(scores, labels, window_s, base)
    fast = time.perf_counter() - start

    start, reference = time.perf_counter(), {}
    names = [r.recording for r in scores]
    for k in HOP_MULTIPLES:
        coarse = [_every(k, r) for r in scores]
        for values in itertools.product(*DEFAULT_GRID.values()):
            config = replace(base, hop_s=base.hop_s * k, **dict(zip(DEFAULT_GRID, values)))
            _, summary = evaluate(events_from_scores(coarse, window_s, config).events, labels, names)
            reference[(config.hop_s, *values)] = (summary["f1"], summary["count_mae"], summary["exact_count_fraction"])
    slow = time.perf_counter() - start

    keys = zip(tried["hop_s"], *(tried[g] for g in DEFAULT_GRID))
    differ = sum(reference[key] != row for key, row in zip(keys, zip(tried["f1"], tried["count_mae"], tried["exact"])))
    print(f"{len(tried)} settings: tune_counting {fast:.2f} s, events_from_scores + evaluate {slow:.2f} s "
          f"({slow / fast:.1f}x); settings scored differently: {differ}")
    if differ or len(reference) != len(tried):
        sys.exit(1)


if __name__ == "__main__":
    main()
