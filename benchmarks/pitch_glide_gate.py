"""The pitch-glide gate on benchmark runs' saved window scores: which calls each limit keeps.

    .venv/bin/python benchmarks/pitch_glide_gate.py RUN_DIR... [--gates 0 0.15 0.25 0.35] [--shared ../shared]
        [--out runs/pitch-glide-gate]

RUN_DIR: fold models of `robustness.py` or `learning_curve.py`, as `pulse_gate.py` takes them. Each fold's saved
window scores are measured again from the audio (`data_pipeline.features.harmonicity.window_stack`: the pitch glide
of the second around each window's centre scored 0.2 or more) and merged into calls with the fold's own counting
settings, `max_pitch_glide_oct_s` at each of --gates (0: none). Prints each call's figure (the median over its
windows at or above the threshold, octaves a second) by group, true calls on the labelled forest recordings and false
ones elsewhere, then the true and false calls kept at each limit; writes OUT/pitch_glide_gate.csv. Needs no network.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main() -> None:
    import numpy as np
    from pulse_gate import calls_under_gates, report

    from data_pipeline.features.harmonicity import window_stack

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+")
    p.add_argument("--gates", type=float, nargs="+", default=[0.0, 0.15, 0.25, 0.35],
                   help="max_pitch_glide_oct_s, octaves a second; 0: none")
    p.add_argument("--shared", default=str(ROOT.parent / "shared"))
    p.add_argument("--out", default="runs/pitch-glide-gate")
    args = p.parse_args()
    if any(g < 0 for g in args.gates):
        p.error(f"--gates: octaves a second, 0 (no gate) or more; got {args.gates}")

    def measure(rec, audio, frontend, config):
        starts = np.round(rec.starts_s * frontend.sample_rate_hz).astype(int)
        _, glides = window_stack(audio, starts, frontend.clip_samples, rec.scores, frontend.sample_rate_hz)
        return replace(rec, pitch_glides=glides)

    def value(rec, inside):
        glides = rec.pitch_glides[inside]
        return float(np.median(glides[np.isfinite(glides)])) if np.isfinite(glides).any() else float("nan")

    rows, kept = calls_under_gates(list(map(Path, args.runs)), Path(args.shared), "max_pitch_glide_oct_s", args.gates,
                                   measure, value)
    report(rows, kept, Path(args.out) / "pitch_glide_gate.csv", "pitch glide (octaves a second)", " oct/s")


if __name__ == "__main__":
    from model import cli

    cli.run(main)
