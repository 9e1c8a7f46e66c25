"""How much of a trill's pulsing reaches the network? A front-end measurement, no model and no training.

    .venv/bin/python benchmarks/pulse_visibility.py [--stft 512x400x512 256x125x256 ...] [--out runs/pulse-visibility]

A 1 kHz tone (or a 200 Hz wide noise band there), switched on and off at a given pulse rate (half the
time on), over pink noise 20 dB below, goes through the project's front end (`spectrogram`) with each
STFT setting (frame length x frame step x FFT length, samples at 16 kHz); the figure is the standard
deviation over the frames of the window's band power, in dB, averaged over three phases of the pulses.
About 10 dB: every pulse and gap is seen; the steady carrier's figure (rate 0; near 0 for the tone, a few
dB for the noise band, whose level wanders by itself): the pulses have merged into a steady sound, whose
pulsing survives only as sidebands spaced at the pulse rate, a harmonic stack. A frame averages over
its length and is taken every step, so the frame length sets how fast a pulse can be followed and the
step where the rate aliases (at a rate equal to the frame rate the pulsing vanishes).
Prints the table; writes OUT/pulse_visibility.csv and OUT/pulse_visibility.png.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

RATES = [0, 5, 10, 20, 30, 40, 50, 60, 70, 85, 100]  # pulses a second (0: steady, the reference); the frog trills' range
DEFAULT_STFTS = ["512x400x512", "512x160x512", "256x160x256", "256x125x256"]
CARRIER_HZ, PHASES = 1000.0, (0.0, 0.3, 0.6)


def stft_setting(text: str) -> tuple[int, int, int]:
    """'512x400x512' -> (frame length, frame step, FFT length)."""
    try:
        length, step, fft = (int(v) for v in text.split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected FRAMExSTEPxFFT in samples, e.g. 512x400x512") from None
    return length, step, fft


def pulse_train(rate: float, phase: float, carrier: str, n: int, sr: int, rng):
    """The carrier switched on for half of every period of `rate` (steady at 0), at -26 dBFS over pink noise 20 dB below."""
    import numpy as np

    from data_pipeline.synthetic.capuchinbird import band_noise, pink_noise, rms

    t = np.arange(n) / sr
    tone = carrier == "tone"
    x = np.sin(2 * np.pi * CARRIER_HZ * t) if tone else band_noise(rng, n, sr, CARRIER_HZ - 100, CARRIER_HZ + 100)
    if rate:
        x = x * (np.sin(2 * np.pi * rate * t + phase) > 0)
    return (0.05 * x / rms(x) + 0.005 * pink_noise(rng, n, sr)).astype(np.float32)


def visibility_db(waveform, frontend) -> float:
    """Standard deviation over frames of the front end's band power, dB."""
    import numpy as np

    from data_pipeline.features.frontend import input_power, spectrogram

    power = np.asarray(input_power(spectrogram(waveform, frontend), frontend.scale)).sum(axis=-1)
    return float(np.std(10 * np.log10(power + 1e-20)))


def main() -> None:
    from dataclasses import replace

    import numpy as np
    import pandas as pd

    from data_pipeline.features.frontend import FrontendConfig
    from model.outputs import atomic_write_csv

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--stft", nargs="+", type=stft_setting, default=[stft_setting(s) for s in DEFAULT_STFTS],
                   metavar="FRAMExSTEPxFFT")
    p.add_argument("--out", default="runs/pulse-visibility")
    args = p.parse_args()

    base = FrontendConfig()
    frontends = {f"{length}x{step}x{fft}": replace(base, frame_length=length, frame_step=step, fft_length=fft)
                 for length, step, fft in args.stft}
    rows = []
    for carrier in ("tone", "noise band"):
        for rate in RATES:
            rng = np.random.default_rng(0)
            clips = [pulse_train(rate, phase, carrier, base.clip_samples, base.sample_rate_hz, rng) for phase in PHASES]
            rows += [{"carrier": carrier, "pulses_per_s": rate, "stft": name,
                      "visibility_db": round(float(np.mean([visibility_db(c, fe) for c in clips])), 2)}
                     for name, fe in frontends.items()]
    table = pd.DataFrame(rows)
    out = Path(args.out)
    atomic_write_csv(out / "pulse_visibility.csv", table)
    wide = table.pivot_table(index=["carrier", "pulses_per_s"], columns="stft", values="visibility_db", sort=False)
    print(wide[list(frontends)].to_string())
    plot(wide[list(frontends)], out / "pulse_visibility.png")
    print(f"wrote {out / 'pulse_visibility.csv'} and {out / 'pulse_visibility.png'}")


def plot(wide, path: Path) -> None:
    from model.outputs import atomic_save_figure
    from model.reporting.plots import new_figure

    fig, axes = new_figure(1, 2, figsize=(10, 4), sharey=True)
    for ax, carrier in zip(axes, ("tone", "noise band")):
        part = wide.loc[carrier]
        for name in part.columns:
            ax.plot(part.index, part[name], marker="o", label=f"frame x step x FFT {name}")
        ax.set(title=f"{carrier} at 1 kHz, half the time on", xlabel="pulses a second")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("pulsing seen by the front end (dB, std over frames)")
    axes[0].legend(fontsize=8)
    atomic_save_figure(path, fig)


if __name__ == "__main__":
    from model import cli

    cli.run(main)
