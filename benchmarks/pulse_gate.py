"""The pulse gate on a benchmark's saved window scores: which calls it drops, true and false, without a network.

    .venv/bin/python benchmarks/pulse_gate.py RUN_DIR... [--gates 0 5 6 7] [--shared ../shared] [--out runs/pulse-gate]

RUN_DIR: fold models written by `robustness.py` (its data beside them, RUN_DIR/../data) or `learning_curve.py`, as
`rescore_counting.py` takes them. For each fold, each recording it scored is decoded again and its windows are
measured as counting measures them (`data_pipeline.features.pulsing.window_pulse_spreads`, the windows scored
0.2 or more); the scores are then merged into calls with the fold's own counting settings, the pulse gate at
each of --gates (0: none), as `count_calls` merges them. A call is true when it overlaps a labelled call of its
forest recording (sure or faint); every call in no-call material is false. Prints, per gate, the true and false
calls kept (false ones by material); and, without a gate, each call's pulse spread (median over its windows at
or above the threshold) by group. Writes OUT/pulse_gate.csv (one row per call found without a gate).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def audio_paths(shared: Path, data: Path) -> dict[tuple[str, str], Path]:
    """{(material, file name without extension): file} for every file a robustness or learning-curve fold counted."""
    paths = {}
    for f in (shared / "forest").glob("*.mp3"):
        paths[("clean", f.stem)] = paths[("unheard", f.stem)] = f
    for f in (data / "conditions").glob("*/*"):
        paths[(f.parent.name, f.stem)] = f
    for f in [*(data / "no_call").glob("*"), *(shared / "heart").rglob("*.wav")]:
        paths[("no_call", f.stem)] = f
    return paths


def main() -> None:
    import numpy as np
    import pandas as pd
    from rescore_counting import fold_scores

    from data_pipeline.audio.decoding import decode_audio
    from data_pipeline.features.frontend import FrontendConfig
    from data_pipeline.features.pulsing import MEASURED_FROM_SCORE, pulse_frontend, window_pulse_spreads
    from data_pipeline.labels.annotations import read_call_labels
    from model.detection.counting import events_from_scores
    from model.detection.events import CountingConfig
    from model.outputs import atomic_write_csv
    from model.reporting.evaluation import _match, labelled_calls

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+")
    p.add_argument("--gates", type=float, nargs="+", default=[0.0, 5.0, 6.0, 7.0], help="max_pulse_spread_db; 0: none")
    p.add_argument("--shared", default=str(ROOT.parent / "shared"))
    p.add_argument("--out", default="runs/pulse-gate")
    args = p.parse_args()

    labels = read_call_labels(Path(args.shared) / "forest" / "calls.csv")
    rows, kept = [], {gate: [] for gate in args.gates}
    for run in map(Path, args.runs):
        paths = audio_paths(Path(args.shared), run.parent / "data")
        for found in sorted(run.glob("fold*/window_scores.pkl")) or sorted(run.glob("k*/fold*/window_scores.pkl")):
            fold = found.parent
            saved = json.loads((fold / "detector.json").read_text())
            frontend = FrontendConfig(**saved["frontend"])
            measuring, config = pulse_frontend(frontend), CountingConfig(**saved["counting"])
            for condition, recordings in fold_scores(fold).items():
                material = "no_call" if condition.startswith("no_call") else condition
                measured = []
                for rec in recordings:
                    if (rec.scores >= MEASURED_FROM_SCORE).any():
                        audio = decode_audio(paths[(material, Path(rec.recording).stem)], frontend.sample_rate_hz)
                        starts = np.round(rec.starts_s * frontend.sample_rate_hz).astype(int)
                        rec = replace(rec, pulse_spreads=window_pulse_spreads(audio, starts, frontend.clip_samples,
                                                                              rec.scores, measuring))
                    measured.append(rec)
                for gate in args.gates:
                    events = events_from_scores(measured, frontend.clip_s, config.overridden(max_pulse_spread_db=gate)).events
                    for name, here in events.groupby("recording"):
                        spans = here[["start", "end"]].to_numpy(float)
                        calls, _ = labelled_calls(labels[labels["recording"] == Path(name).stem + ".mp3"])
                        true = {i for i, _ in _match(spans, calls)} if material != "no_call" else set()
                        rec = next(r for r in measured if r.recording == name)
                        for i, (start, end) in enumerate(spans):
                            row = {"run": str(run), "fold": f"{fold.parent.name}/{fold.name}", "condition": condition,
                                   "recording": name, "start": start, "end": end, "true": i in true}
                            kept[gate].append(row)
                            if gate == 0:
                                centres = rec.starts_s + frontend.clip_s / 2
                                inside = (centres >= start) & (centres <= end) & (rec.scores >= config.threshold)
                                row["spread_db"] = float(np.nanmedian(rec.pulse_spreads[inside])) if inside.any() else np.nan
                                rows.append(row)
            print(f"{fold}: measured", flush=True)
    table = pd.DataFrame(rows)
    atomic_write_csv(Path(args.out) / "pulse_gate.csv", table)
    if len(table):
        kind = table["recording"].str.replace(r"[_\d]*\.\w+$", "", regex=True)  # generated_frogs.flac -> generated_frogs
        table["group"] = np.where(table["true"], "true: " + table["condition"], "false: " + table["condition"] + " " + kind)
        spreads = table.groupby("group")["spread_db"].describe(percentiles=[0.01, 0.5, 0.99])
        print("\npulse spread (dB) of each call found without a gate")
        print(spreads[["count", "min", "1%", "50%", "99%", "max"]].round(2).to_string())
    for gate, found in kept.items():
        found = pd.DataFrame(found, columns=["true", "condition", "recording"])
        false = found[~found["true"]]
        kinds = false["condition"].str.removeprefix("no_call:").value_counts()
        print(f"gate {gate:g} dB: true calls {int(found['true'].sum())}, false calls {len(false)} "
              f"({', '.join(f'{k} {n}' for k, n in kinds.items()) or 'none'})")


if __name__ == "__main__":
    from model import cli

    cli.run(main)
