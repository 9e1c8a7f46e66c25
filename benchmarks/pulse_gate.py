"""The pulse gate on a benchmark's saved window scores: which calls it drops, true and false, without a network.

    .venv/bin/python benchmarks/pulse_gate.py RUN_DIR... [--gates 0 5 6 7] [--shared ../shared] [--out runs/pulse-gate]

RUN_DIR: fold models written by `robustness.py` (its data beside them, RUN_DIR/../data) or `learning_curve.py`, as
`rescore_counting.py` takes them. For each fold, each recording it scored is decoded again and its windows are
measured as counting measures them (`data_pipeline.features.pulsing.window_pulse_spreads`, the windows scored
0.2 or more); the scores are then merged into calls with the fold's own counting settings, the pulse gate at
each of --gates (0: none), as `count_calls` merges them. A call is true when it overlaps a labelled call of its
forest recording (sure or faint); every call in no-call material is false. Prints, per gate, the true and false
calls kept (false ones by material); and, without a gate, each call's pulse spread (median over its windows at
or above the threshold) by group. Writes OUT/pulse_gate.csv (one row per call found without a gate, its spread
in column "value").
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


def calls_under_gates(runs: list[Path], shared: Path, setting: str, gates: list[float], measure, value) -> tuple:
    """Every call each fold of `runs` finds with its own counting settings and `setting` at each of `gates`.

    measure(rec, audio, frontend, config) -> rec with the gate's measure filled in, for a recording with a window
    scored MEASURED_FROM_SCORE or more; value(rec, inside) -> the call's figure from its windows `inside` (those at
    or above the threshold). Returns (rows of the calls found without a gate, with their figure; {gate: rows}).
    """
    import numpy as np
    from rescore_counting import fold_scores

    from data_pipeline.audio.decoding import decode_audio
    from data_pipeline.features.frontend import FrontendConfig
    from data_pipeline.features.pulsing import MEASURED_FROM_SCORE
    from data_pipeline.labels.annotations import read_call_labels
    from model.detection.counting import events_from_scores
    from model.detection.events import CountingConfig
    from model.reporting.evaluation import _match, labelled_calls

    labels = read_call_labels(shared / "forest" / "calls.csv")
    rows, kept = [], {gate: [] for gate in gates}
    for run in runs:
        paths = audio_paths(shared, run.parent / "data")
        for found in sorted(run.glob("fold*/window_scores.pkl")) or sorted(run.glob("k*/fold*/window_scores.pkl")):
            fold = found.parent
            saved = json.loads((fold / "detector.json").read_text())
            frontend, config = FrontendConfig(**saved["frontend"]), CountingConfig.from_dict(saved["counting"])
            for condition, recordings in fold_scores(fold).items():
                material = "no_call" if condition.startswith("no_call") else condition
                measured = []
                for rec in recordings:
                    if (rec.scores >= MEASURED_FROM_SCORE).any():
                        audio = decode_audio(paths[(material, Path(rec.recording).stem)], frontend.sample_rate_hz)
                        rec = measure(rec, audio, frontend, config)
                    measured.append(rec)
                for gate in gates:
                    events = events_from_scores(measured, frontend.clip_s, config.overridden(**{setting: gate})).events
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
                                row["value"] = value(rec, inside) if inside.any() else np.nan
                                rows.append(row)
            print(f"{fold}: measured", flush=True)
    return rows, kept


def report(rows: list[dict], kept: dict, csv: Path | None, figure: str, unit: str, setting: str = "gate") -> None:
    """Write `csv` (one row per call found without a gate, its figure in column "value"; None: no rows to write),
    print each group's figures, then the calls kept at each value of `setting`."""
    import numpy as np
    import pandas as pd

    from model.outputs import atomic_write_csv

    table = pd.DataFrame(rows)
    if csv is not None:
        atomic_write_csv(csv, table)
    if len(table):
        kind = table["recording"].str.replace(r"[_\d]*\.\w+$", "", regex=True)  # generated_frogs.flac -> generated_frogs
        table["group"] = np.where(table["true"], "true: " + table["condition"], "false: " + table["condition"] + " " + kind)
        figures = table.groupby("group")["value"].describe(percentiles=[0.01, 0.5, 0.99])
        print(f"\n{figure} of each call found without a gate")
        print(figures[["count", "min", "1%", "50%", "99%", "max"]].round(3).to_string())
    for gate, found in kept.items():
        found = pd.DataFrame(found, columns=["true", "condition", "recording"])
        false = found[~found["true"].astype(bool)]  # an empty column is of objects: no mask without the cast
        kinds = false["condition"].str.removeprefix("no_call:").value_counts()
        print(f"{setting} {gate:g}{unit}: true calls {int(found['true'].sum())}, false calls {len(false)} "
              f"({', '.join(f'{k} {n}' for k, n in kinds.items()) or 'none'})")


def main() -> None:
    import numpy as np

    from data_pipeline.features.pulsing import pulse_frontend, window_pulse_spreads

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+")
    p.add_argument("--gates", type=float, nargs="+", default=[0.0, 5.0, 6.0, 7.0], help="max_pulse_spread_db; 0: none")
    p.add_argument("--shared", default=str(ROOT.parent / "shared"))
    p.add_argument("--out", default="runs/pulse-gate")
    args = p.parse_args()

    def measure(rec, audio, frontend, config):
        starts = np.round(rec.starts_s * frontend.sample_rate_hz).astype(int)
        return replace(rec, pulse_spreads=window_pulse_spreads(audio, starts, frontend.clip_samples, rec.scores,
                                                               pulse_frontend(frontend)))

    rows, kept = calls_under_gates(list(map(Path, args.runs)), Path(args.shared), "max_pulse_spread_db", args.gates,
                                   measure, lambda rec, inside: float(np.nanmedian(rec.pulse_spreads[inside])))
    report(rows, kept, Path(args.out) / "pulse_gate.csv", "pulse spread (dB)", " dB")


if __name__ == "__main__":
    from model import cli

    cli.run(main)
