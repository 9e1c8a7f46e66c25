"""Calls at another pitch: the forest recordings a model never heard, played faster or slower, counted by that model.

    .venv/bin/python benchmarks/pitch_shift.py MODEL... [--factors 0.8 0.9 1.0 1.1 1.25] [--shared ../shared]
        [--out runs/pitch-shift]

Every sure call of the 40 shared recordings has nearly the same fundamental, 133-156 Hz, nine in ten 133-135 Hz
(the harmonic spacing of each call's body: benchmarks/call_pitch.py), as if a few call clips were mixed into every
recording; so the cross-validated benchmarks cannot tell whether a model knows a Capuchinbird calling lower or
higher than those clips, or one that has learnt "not a call" from a sound at a neighbouring pitch (README, "Calls
at another pitch").

Each MODEL is a run folder trained on some of ../shared/forest (a robustness or learning-curve fold); it counts
the recordings its split.csv does not name (for a learning-curve model, those of its training families too),
each played at `factor` times its speed: every frequency times the factor, every duration divided by it (decoded
at 16 kHz / factor and read as 16 kHz; written once under OUT/x<factor>/). The labels' times and the counting
rules' durations (minimum and maximum call, gap, joining) are divided by the factor too, so the rules judge the
calls as at 1.0; the network hears them shorter or longer as well (at 1.25 the shortest sure call, 4.5 s, lasts
3.6 s: still longer than a window). 1.0 is the control: the recordings as robustness.py's clean condition counts
them. Prints count MAE, event F1, calls missed and false calls per model and factor; writes pitch_shift.csv (one
row per model, factor and recording) there.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SR = 16000
DURATION_SETTINGS = ("min_call_s", "max_call_s", "min_gap_s", "join_within_s")  # CountingConfig's, in seconds


def shifted_version(recording: Path, factor: float, out: Path) -> Path:
    """`recording` played at `factor` times its speed, written once as 16 kHz FLAC under out/x<factor>/."""
    from data_pipeline.audio.decoding import decode_audio
    from model.outputs import atomic_write_flac

    path = out / f"x{factor:g}" / f"{recording.stem}.flac"
    if path.exists():
        return path
    return atomic_write_flac(path, decode_audio(recording, round(SR / factor)), SR)


def main() -> None:
    import pandas as pd
    from forest_holdout import unheard_recordings

    from data_pipeline.audio.decoding import list_audio_files
    from data_pipeline.labels.annotations import read_call_labels
    from model.detection.counting import count_calls
    from model.detection.detector import Detector
    from model.outputs import atomic_write_csv
    from model.reporting.evaluation import evaluate

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="+", help="run folders trained on some of the shared forest recordings")
    p.add_argument("--factors", type=float, nargs="+", default=[0.8, 0.9, 1.0, 1.1, 1.25],
                   help="speeds to play the recordings at (pitch times the factor, durations divided by it)")
    p.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared"))
    p.add_argument("--out", default="runs/pitch-shift")
    args = p.parse_args()
    if not all(0.5 <= f <= 2.0 for f in args.factors):
        p.error(f"--factors must lie between 0.5 and 2 (an octave either way), got {args.factors}")

    forest = Path(args.shared) / "forest"
    recordings = list_audio_files(forest)
    labels = read_call_labels(forest / "calls.csv")
    out = Path(args.out)
    rows, tables = [], []
    for model in args.models:
        unheard = unheard_recordings(model, recordings)
        detector = Detector.load(model)
        saved = detector.counting
        for factor in args.factors:
            factor_used = SR / round(SR / factor)  # the rate decoded at is a whole number of hertz
            paths = [shifted_version(r, factor, out) for r in unheard]
            detector.counting = saved.overridden(**{k: getattr(saved, k) / factor_used for k in DURATION_SETTINGS})
            shifted_labels = labels.assign(recording=labels["recording"].map(lambda r: f"{Path(r).stem}.flac"),
                                           start=labels["start"] / factor_used, end=labels["end"] / factor_used)
            result = count_calls(detector, paths, progress=False)
            per_rec, summary = evaluate(result.events, shifted_labels, [p.name for p in paths])
            tables.append(per_rec.assign(model=str(model), factor=factor))
            rows.append({"model": str(model), "factor": factor, "recordings": len(paths),
                         "count_mae": round(summary["count_mae"], 3), "f1": round(summary["f1"], 3),
                         "missed": int(per_rec["fn"].sum()), "false_calls": int(per_rec["fp"].sum())})
            print(" ".join(f"{k} {v}" for k, v in rows[-1].items()), flush=True)
    atomic_write_csv(out / "pitch_shift.csv", pd.concat(tables, ignore_index=True))
    table = pd.DataFrame(rows)
    print(table.to_string(index=False))
    print(table.groupby("factor")[["missed", "false_calls"]].sum().to_string())
    print(f"per recording: {out / 'pitch_shift.csv'}")


if __name__ == "__main__":
    from model import cli

    cli.run(main)
