"""What models call in audio recorded at a low sample rate, against the same audio at full rate.

    .venv/bin/python benchmarks/low_rate.py RUN_DIR... [--shared ../shared] [--out runs/low-rate]

RUN_DIR: a model's run folder, or a folder of fold models (robustness.py's runs/robustness/<setting>, every
fold* in it). Below twice the top of the front end's band (5 kHz for the default 0-2.5 kHz) a recording is
empty above half its rate, an edge inside the band. The audio, written under OUT/audio once:
    heart_*          the three heart recordings that seed-4 models called (2 kHz, as recorded), and each with the
                     empty band filled by a faint hiss (1-8 kHz noise, 40 dB below the recording's level)
    forest35_*       20 s of ../shared/forest/recording_35 (no call) at 16 kHz, and taken through 3 and 2 kHz
    <kind>_*         2 min of generated sounds (engine, heartbeat, speech, rain, wind, tone; a seed no bank
                     uses) over pink noise, at 16 kHz and through 2 kHz
Prints the calls each model counts in each file (every call here is false) and writes OUT/low_rate.csv.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
SR = 16000
SEED = 20_000  # far from any bank or benchmark seed


def make_audio(shared: Path, folder: Path) -> list[Path]:
    """The files the module doc lists, written once (deterministic from SEED)."""
    import numpy as np
    import soundfile as sf

    from data_pipeline.audio.decoding import decode_audio
    from data_pipeline.synthetic.capuchinbird import band_noise, pink_noise, rms
    from data_pipeline.synthetic.negatives import as_recorded_at, synth_negative

    done = folder / ".done"
    if not done.exists():
        folder.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng(SEED)
        for name in ("a0105", "e00013", "e00017"):
            path = shared / "heart" / f"{name}.wav"
            x, rate = sf.read(path, dtype="float32")
            sf.write(folder / f"heart_{name}_2k.wav", x, rate, subtype="FLOAT")
            up = decode_audio(path, SR)
            hiss = band_noise(rng, len(up), SR, 1000, SR / 2 - 1) * rms(up) * 10 ** (-40 / 20)
            sf.write(folder / f"heart_{name}_2k-hissed.wav", up + hiss, SR, subtype="FLOAT")
        forest = decode_audio(shared / "forest" / "recording_35.mp3", SR)[: 20 * SR]
        sf.write(folder / "forest35_16k.wav", forest, SR, subtype="FLOAT")
        for rate in (3000, 2000):
            sf.write(folder / f"forest35_{rate // 1000}k.wav", as_recorded_at(forest, SR, rate), SR, subtype="FLOAT")
        for kind in ("engine", "heartbeat", "speech", "rain", "wind", "tone"):
            floor = 0.01 * pink_noise(rng, 120 * SR, SR)
            x = floor + synth_negative(rng, kind, 120 * SR, SR) * 0.05
            sf.write(folder / f"{kind}_16k.wav", x, SR, subtype="FLOAT")
            sf.write(folder / f"{kind}_2k.wav", as_recorded_at(x, SR, 2000), SR, subtype="FLOAT")
        done.write_text("")
    return sorted(folder.glob("*.wav"))


def main() -> None:
    import pandas as pd

    from model.detection.counting import count_calls
    from model.detection.detector import load_detector
    from model.outputs import atomic_write_csv

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+")
    p.add_argument("--shared", default=str(ROOT.parent / "shared"))
    p.add_argument("--out", default="runs/low-rate")
    args = p.parse_args()

    paths = make_audio(Path(args.shared), Path(args.out) / "audio")
    models = [m for run in map(Path, args.runs) for m in (sorted(run.glob("fold*")) or [run])]
    counts = {}
    for model in models:
        result = count_calls(load_detector(model), paths, progress=False)
        found = result.events.groupby("recording").size()
        counts[str(model)] = [int(found.get(path.name, 0)) for path in paths]
        print(f"{model}: {sum(counts[str(model)])} calls", flush=True)
    table = pd.DataFrame(counts, index=[path.stem for path in paths])
    atomic_write_csv(Path(args.out) / "low_rate.csv", table.rename_axis("audio").reset_index())
    table.columns = [f"{Path(c).parent.name[-12:]}/{Path(c).name}" for c in table.columns]
    print(table.to_string())


if __name__ == "__main__":
    from model import cli

    cli.run(main)
