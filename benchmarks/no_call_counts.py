"""False calls of trained models on audio with no call, without training: the robustness benchmark's
no-call material (heart recordings, glass breaks, generated sounds of the bank's kinds and unseen kinds,
digital silence, dither), counted by any models, e.g. the few-label models of the learning curve.

    .venv/bin/python benchmarks/no_call_counts.py RUN_DIR... [--shared ../shared] [--data runs/robustness/data]
        [--materials unseen ...] [--min-call-s S] [--out runs/no-call-counts]

Each RUN_DIR is a trained run folder; the material is made once by robustness.make_no_call (the same
files robustness.py counts). Prints false calls and hours per material, summed over the models given;
writes OUT/no_call_counts.csv and OUT/false_calls.csv (model, material, file, start, end, score).
`--materials` counts some of the material only; `--min-call-s` counts every model with that minimum call instead
of the one it saved (models saved before a default changed, counted as they would be today).
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
    import pandas as pd
    from robustness import NO_CALL_MATERIALS, make_no_call

    from data_pipeline.audio.decoding import audio_duration_s
    from model.detection.counting import count_calls
    from model.detection.detector import Detector
    from model.outputs import atomic_write_csv

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="+", help="trained run folders")
    p.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared"))
    p.add_argument("--data", default="runs/robustness/data", help="where robustness.py keeps (or makes) its material")
    p.add_argument("--materials", nargs="+", choices=NO_CALL_MATERIALS, help="count these only (default: all)")
    p.add_argument("--min-call-s", type=float, help="the minimum call of every model (default: each one's saved)")
    p.add_argument("--out", default="runs/no-call-counts")
    args = p.parse_args()
    if args.min_call_s is not None and args.min_call_s < 0:
        raise ValueError(f"--min-call-s must be 0 or more, got {args.min_call_s}")
    detectors = {m: Detector.load(m) for m in args.models}  # every model loads (or fails) before any counting
    for detector in detectors.values():
        detector.counting = detector.counting.overridden(min_call_s=args.min_call_s)
    material = make_no_call(Path(args.shared), Path(args.data))
    material = {name: files for name, files in material.items() if name in (args.materials or NO_CALL_MATERIALS)}
    hours = {m: sum(audio_duration_s(f) for f in files) / 3600 for m, files in material.items()}

    t0, events = time.time(), []
    for model, detector in detectors.items():
        found = [count_calls(detector, files, progress=False).events.assign(model=model, material=name)
                 for name, files in material.items()]
        events += found
        print(f"{model}: {sum(map(len, found))} false calls", flush=True)
    events = pd.concat(events, ignore_index=True)
    per_material = events.groupby("material").size()
    table = pd.DataFrame([{"material": name, "hours": round(hours[name] * len(detectors), 2),
                           "false_calls": int(per_material.get(name, 0))} for name in material])
    out = Path(args.out)
    atomic_write_csv(out / "no_call_counts.csv", table)
    atomic_write_csv(out / "false_calls.csv", events[["model", "material", "recording", "start", "end", "score"]])
    print(table.to_string(index=False))
    print(f"{len(detectors)} model(s), {(time.time() - t0) / 60:.1f} min; {os.cpu_count()} cores, "
          f"{time.strftime('%Y-%m-%d')}; {out / 'false_calls.csv'} names each call")


if __name__ == "__main__":
    from model import cli

    cli.run(main)
