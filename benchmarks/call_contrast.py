"""How far a call rises above its recording's steady background: labelled calls against false calls.

    .venv/bin/python benchmarks/call_contrast.py RUN_DIR... [--shared ../shared]

An idea tried for issue 12 and not kept (docs/not-a-call.md, "Recordings made at a low rate"): a steady hum under heartbeats
drew false calls, so would a gate on contrast drop them? Per second of audio, the power of each FFT bin in
400-2400 Hz (the default front end's frames, through its own `spectrogram`); a bin's floor is the 20th
percentile of its per-second power over the 31 s around it. A stretch's contrast (dB) is the median over its
seconds of band power over band floor. Printed per group: every sure and faint call of ../shared/forest/calls.csv
in the clean recordings and in each damaged condition of the first RUN_DIR's data (robustness.py's
RUN_DIR/../data/conditions), and the false calls of every RUN_DIR's false_calls.csv on no-call audio.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

BAND_HZ = (400.0, 2400.0)
HALF_CONTEXT_S, FLOOR_PERCENTILE = 15, 20


@functools.lru_cache(maxsize=64)  # a recording with several false calls is measured once
def seconds_and_floor(path: Path):
    """Per-second band power per bin [seconds, bins] and its floor, the same shape."""
    import numpy as np
    from numpy.lib.stride_tricks import sliding_window_view

    from data_pipeline.audio.decoding import decode_audio
    from data_pipeline.features.frontend import FrontendConfig, input_power, spectrogram

    fe = FrontendConfig(scale="magnitude", min_freq_hz=BAND_HZ[0], max_freq_hz=BAND_HZ[1])
    power = np.asarray(input_power(spectrogram(decode_audio(path, fe.sample_rate_hz), fe), fe.scale), np.float64)
    per_s = fe.sample_rate_hz // fe.frame_step
    frames = len(power)
    seconds = power[: frames // per_s * per_s].reshape(frames // per_s, per_s, -1).mean(axis=1)
    padded = np.pad(seconds, ((HALF_CONTEXT_S, HALF_CONTEXT_S), (0, 0)), mode="reflect" if len(seconds) > 1 else "edge")
    floor = np.percentile(sliding_window_view(padded, 2 * HALF_CONTEXT_S + 1, axis=0), FLOOR_PERCENTILE, axis=-1)
    return seconds, floor


def contrast_db(measured, start: float, end: float) -> float:
    import numpy as np

    seconds, floor = measured
    a = max(0, int(np.floor(start)))
    b = min(len(seconds), max(int(np.ceil(end)), a + 1))
    return float(10 * np.log10(np.median(seconds[a:b].sum(axis=1) / np.maximum(floor[a:b].sum(axis=1), 1e-20))))


def main() -> None:
    import pandas as pd

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+", help="robustness.py settings folders (runs/robustness-x/<setting>)")
    p.add_argument("--shared", default=str(ROOT.parent / "shared"))
    args = p.parse_args()

    shared, runs = Path(args.shared), [Path(r) for r in args.runs]
    labels = pd.read_csv(shared / "forest" / "calls.csv")
    calls = labels[labels["confidence"].isin(["sure", "faint"])]
    conditions = runs[0].parent / "data" / "conditions"
    rows = []
    for condition in ["clean", *sorted(p.name for p in conditions.iterdir() if p.is_dir())]:
        for recording, here in calls.groupby("recording"):
            stem = Path(recording).stem
            path = shared / "forest" / recording if condition == "clean" else next((conditions / condition).glob(stem + ".*"))
            measured = seconds_and_floor(path)
            for call in here.itertuples():
                rows.append((f"labelled {call.confidence}: {condition}", contrast_db(measured, call.start, call.end)))
    for run in runs:
        for call in pd.read_csv(run / "false_calls.csv").itertuples():
            folder = shared / "heart" if call.material == "heart" else run.parent / "data" / "no_call"
            rows.append((f"false: {call.material} {Path(call.recording).stem}",
                         contrast_db(seconds_and_floor(folder / call.recording), call.start, call.end)))
    table = pd.DataFrame(rows, columns=["group", "contrast_db"])
    print(table.groupby("group")["contrast_db"].describe()[["count", "min", "50%", "max"]].round(1).to_string())


if __name__ == "__main__":
    from model import cli

    cli.run(main)
