"""Would averaging independently trained models call fewer things calls? Measured on saved scores, no network run.

    .venv/bin/python benchmarks/averaged_models.py RUN_DIR RUN_DIR... [--shared ../shared]

RUN_DIR: robustness runs (`robustness.py`, runs/robustness/<setting>) trained on the same benchmark data
with other seeds (or the same seed on another day: training is not bit-repeatable). Every window score
a model saved was made on audio it never heard: a forest recording by the fold model that held it out
(the folds differ by seed, so each recording's scores come from whichever fold held it in each run), the
no-call material by every fold model. For each run alone and for every pair, the scores of a recording
are averaged window by window and merged into calls with one setting for all (the shared network's
defaults: `model.learning.training.SHARED_MIN_CALL_S`, the rest `CountingConfig`'s, the pulse and harmonic gates
included where the runs saved their measures), then scored as `robustness.py` scores them:
count MAE / event F1 per condition, and false calls per no-call material (fold k of one run paired with
fold k of the other there).
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def run_scores(run: Path, labelled: set[str]) -> tuple[dict, dict]:
    """({condition: {recording: scores}} of forest recordings, {material: {fold: [scores]}} of no-call material)."""
    from rescore_counting import fold_scores

    forest, no_call = {}, {}
    folds = sorted(path.parent for path in run.glob("fold*/window_scores.pkl"))
    if not folds:
        sys.exit(f"{run}: no fold*/window_scores.pkl (a robustness.py run folder)")
    for fold in folds:
        for condition, recordings in fold_scores(fold).items():
            for rec in recordings:
                if not condition.startswith("no_call") and Path(rec.recording).stem in labelled:
                    forest.setdefault(condition, {})[rec.recording] = rec
                else:
                    no_call.setdefault(condition, {}).setdefault(fold.name, []).append(rec)
    return forest, no_call


def measured(recs: list, name: str):
    """A gate's measure for the averaged windows: a measure of the audio, so the same wherever two runs measured a
    window; each run measured only the windows it scored high (NaN elsewhere), so the average takes any run's.
    None where a run saved none (scores from before that gate: it lets every call pass)."""
    import numpy as np

    values = [getattr(r, name) for r in recs]
    return None if any(v is None for v in values) else np.fmax.reduce(values)


def main() -> None:
    import numpy as np
    from rescore_counting import forest_table

    from data_pipeline.labels.annotations import read_call_labels
    from model.detection.counting import RecordingScores, events_from_scores
    from model.detection.events import CountingConfig
    from model.learning.training import SHARED_MIN_CALL_S
    from model.reporting.evaluation import summarise

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+", type=Path)
    p.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    p.add_argument("--window-s", type=float, default=3.0, help="the models' window length (default: 3)")
    args = p.parse_args()
    if len(args.runs) < 2:
        p.error("give two or more runs to average")
    labels = read_call_labels(args.shared / "forest" / "calls.csv")
    labelled = set(labels["recording"].map(lambda n: Path(n).stem))
    config = CountingConfig(min_call_s=SHARED_MIN_CALL_S)
    runs = {run: run_scores(run, labelled) for run in args.runs}

    def mean(recs):
        if any(not np.array_equal(r.starts_s, recs[0].starts_s) for r in recs):
            sys.exit(f"{recs[0].recording}: the runs scored other windows (another hop or front end)")
        return RecordingScores(recs[0].recording, recs[0].starts_s, np.mean([r.scores for r in recs], axis=0),
                               recs[0].duration_s, measured(recs, "pulse_spreads"), measured(recs, "harmonicities"),
                               measured(recs, "pitch_glides"))

    def report(name, members):
        forests, no_calls = zip(*(runs[m] for m in members))
        cells, false_calls = [], {}
        for condition, recordings in forests[0].items():
            scores = [mean([f[condition][r] for f in forests]) for r in recordings]
            s = summarise(forest_table(scores, args.window_s, config, labels))
            cells.append(f"{condition} {s['count_mae']:.3f} / {s['f1']:.3f}")
        for material, folds in no_calls[0].items():
            scores = [mean(list(recs)) for fold in folds for recs in zip(*(n[material][fold] for n in no_calls))]
            false_calls[material.removeprefix("no_call:")] = len(events_from_scores(scores, args.window_s, config).events)
        print(f"{name}: " + "; ".join(cells))
        print("  false calls: " + ", ".join(f"{m} {n}" for m, n in false_calls.items())
              + f"; all {sum(false_calls.values())}", flush=True)

    print(f"counting settings for every row: {config}")
    for i, run in enumerate(args.runs):
        print(f"[{i}] {run}")
        report(f"[{i}] alone", [run])
    for pair in itertools.combinations(range(len(args.runs)), 2):
        report(" + ".join(f"[{i}]" for i in pair) + " averaged", [args.runs[i] for i in pair])


if __name__ == "__main__":
    from model import cli

    cli.run(main)
