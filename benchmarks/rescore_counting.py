"""Counting settings tried on a benchmark's saved window scores, without running a network again.

    .venv/bin/python benchmarks/rescore_counting.py RUN_DIR... [--min-call-s 2.0 2.25 2.5] [--max-call-s 0 7.5 8]
        [--min-gap-s 0.75 1.5] [--join-within-s 0 7] [--min-harmonicity 0 0.3] [--max-pitch-glide 0 0.25]
        [--shared ../shared]

RUN_DIR: a folder of fold models written by `robustness.py` (runs/robustness/<setting>) or
`learning_curve.py` (runs/learning-curve, every size in it), each fold holding window_scores.pkl
and detector.json. Each fold's scores are merged into calls with the counting settings its model
chose on its validation recordings, except the settings varied here (every combination of values), and scored against
../shared/forest/calls.csv as the benchmark scores them. Recordings that are not labelled forest
recordings (heart, glass, generated, silence) are no-call material: every call in them is false.
Prints one line per run, size and value: count MAE / event F1 (precision, recall) per condition, false calls.
Runs saved before `max_call_s` (or `join_within_s`) existed count with its default (8 s; 7 s), as count_calls.py now
counts with their models; --max-call-s 0 (--join-within-s 0) repeats what was measured on them before.
--min-gap-s and --join-within-s are named in the printed lines only where given.
"""

from __future__ import annotations

import argparse
import itertools
import json
import pickle
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def fold_scores(fold_dir: Path) -> dict[str, list]:
    """{condition: [RecordingScores]} of one fold; a learning-curve fold's one list is 'unheard'."""
    with open(fold_dir / "window_scores.pkl", "rb") as f:
        saved = pickle.load(f)
    return saved if isinstance(saved, dict) else {"unheard": saved}


def forest_table(recordings, window_s: float, config, labels):
    """Per-recording evaluation (`evaluate`'s table) of labelled forest recordings' scores merged with `config`;
    each condition's file is scored against the labels of the shared recording it was made from."""
    from model.detection.counting import events_from_scores
    from model.reporting.evaluation import evaluate

    events = events_from_scores(recordings, window_s, config).events
    events = events.assign(recording=events["recording"].map(lambda n: Path(n).stem + ".mp3"))
    table, _ = evaluate(events, labels, [Path(r.recording).stem + ".mp3" for r in recordings])
    return table


def _setting(value: float | None) -> str:
    return "each fold's own" if value is None else f"{value:g}"


def main() -> None:
    import pandas as pd

    from data_pipeline.labels.annotations import read_call_labels
    from model.detection.counting import events_from_scores
    from model.detection.events import CountingConfig
    from model.reporting.evaluation import summarise

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+")
    p.add_argument("--min-call-s", type=float, nargs="+", default=[None], help="default: each fold's own")
    p.add_argument("--max-call-s", type=float, nargs="+", default=[None], help="0: no limit; default: each fold's own "
                   "(runs saved before max_call_s existed: the default, %g s)" % CountingConfig.max_call_s)
    p.add_argument("--min-gap-s", type=float, nargs="+", help="default: each fold's own")
    p.add_argument("--join-within-s", type=float, nargs="+", help="0: never; default: each fold's own (runs saved before "
                   "join_within_s existed: the default, %g s)" % CountingConfig.join_within_s)
    p.add_argument("--min-harmonicity", type=float, nargs="+", help="0: no gate; default: each fold's own (scores saved "
                   "before the harmonic gate hold no measure, so it passes every call there)")
    p.add_argument("--max-pitch-glide", type=float, nargs="+", help="octaves a second, 0: no gate; default: each fold's "
                   "own (scores saved before the pitch-glide gate hold no measure, so it passes every call there)")
    p.add_argument("--shared", default=str(ROOT.parent / "shared"))
    args = p.parse_args()

    labels = read_call_labels(Path(args.shared) / "forest" / "calls.csv")
    labelled = set(labels["recording"].map(lambda n: Path(n).stem))
    for run in map(Path, args.runs):
        found = sorted(run.glob("fold*/window_scores.pkl")) or sorted(run.glob("k*/fold*/window_scores.pkl"))
        if not found:
            sys.exit(f"{run}: no fold*/window_scores.pkl or k*/fold*/window_scores.pkl")
        for group in sorted({f.parent.parent for f in found}):
            folds = []  # (counting settings, window length, {condition: scores}) of each fold, read once
            for fold in (f.parent for f in found if f.parent.parent == group):
                saved = json.loads((fold / "detector.json").read_text())
                folds.append((CountingConfig.from_dict(saved["counting"]), saved["frontend"]["clip_s"], fold_scores(fold)))
            varied = {"min_call_s": args.min_call_s, "max_call_s": args.max_call_s, "min_gap_s": args.min_gap_s,
                      "join_within_s": args.join_within_s, "min_harmonicity": args.min_harmonicity,
                      "max_pitch_glide_oct_s": args.max_pitch_glide}
            varied = {name: values for name, values in varied.items() if values is not None}
            for values in itertools.product(*varied.values()):
                settings = dict(zip(varied, values))
                per_condition, false_calls = {}, 0
                for tuned, window_s, scores in folds:
                    config = tuned.overridden(**settings)
                    for condition, recordings in scores.items():
                        forest = [r for r in recordings if Path(r.recording).stem in labelled]
                        other = [r for r in recordings if Path(r.recording).stem not in labelled]
                        false_calls += len(events_from_scores(other, window_s, config).events) if other else 0
                        if forest:
                            per_condition.setdefault(condition, []).append(forest_table(forest, window_s, config, labels))
                scored = []
                for condition, tables in per_condition.items():
                    s = summarise(pd.concat(tables, ignore_index=True))
                    scored.append(f"{condition} {s['count_mae']:.3f} / {s['f1']:.3f} ({s['precision']:.3f}, {s['recall']:.3f})")
                named = ", ".join(f"{name} {_setting(value)}" for name, value in settings.items())
                print(f"{group}: {named}: " + "; ".join(scored)
                      + f"; false calls on no-call material {false_calls}")


if __name__ == "__main__":
    from model import cli

    cli.run(main)  # one-line errors; the MP3 decoder's chatter dropped
