"""Which pulsed sounds in the call band does a model call? A probe of the weakest point the robustness
benchmark measured (a generated frog chorus, docs/not-a-call.md "Pulsed sounds in the call band").

    .venv/bin/python benchmarks/pulsed_sounds.py RUN [RUN ...] [--clips 600] [--out runs/pulsed-sounds]

Single frog trills (data_pipeline.synthetic.negatives.frog_trill: a kind no model trains on), one caller
per clip of the model's window length, at -26 dBFS over pink noise 20 dB below, each with the parameters
drawn for it. Every model (a run folder) scores every clip as one window; a score at or above the model's
counting threshold is a "called" clip. Prints the share of clips each model calls by pulse rate, by
dominant frequency and by carrier; writes OUT/pulsed_sounds.csv (parameters and every model's score) and
OUT/pulsed_sounds.png (share called against pulse rate, a line per model). Seconds per model; no training,
so a new model (a new front end, another bank) can be checked against the old ones at once.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

RATE_BINS = [5, 10, 20, 40, 70, 100]  # pulses a second; the default front end sees 20 and slower as pulses (40 frames/s)
FREQ_BINS = [400, 800, 1200, 1600, 2000, 2400]
TRILL_RMS, NOISE_RMS = 0.05, 0.005  # -26 dBFS over pink noise at -46 dBFS


def trill_clips(n_clips: int, n: int, sr: int, seed: int):
    """(clips [n_clips, n] float32, their parameters as a table): one frog_trill each over faint pink noise."""
    import numpy as np
    import pandas as pd

    from data_pipeline.synthetic.capuchinbird import pink_noise, rms
    from data_pipeline.synthetic.negatives import frog_trill

    rng = np.random.default_rng(seed)
    clips, rows = [], []
    for _ in range(n_clips):
        trill, params = frog_trill(rng, n, sr)
        clips.append(TRILL_RMS * trill / rms(trill) + NOISE_RMS * pink_noise(rng, n, sr))
        rows.append(params)
    return np.stack(clips).astype(np.float32), pd.DataFrame(rows)


def called_shares(table, models: list[str]):
    """Share of clips each model called, by pulse rate, dominant frequency and carrier (one table each)."""
    import pandas as pd

    called = table[models].assign(mean=table[models].mean(axis=1))
    groups = {"pulses per second": pd.cut(table["pulses_per_s"], RATE_BINS),
              "dominant frequency (Hz)": pd.cut(table["dominant_hz"], FREQ_BINS),
              "carrier": table["carrier"]}
    return {name: called.groupby(by, observed=True).mean().assign(clips=called.groupby(by, observed=True).size())
            for name, by in groups.items()}


def short_names(runs: list[str]) -> list[str]:
    """The fewest trailing path parts that tell the runs apart (fold0, fold1 ... for one benchmark's folds)."""
    for depth in range(1, max(len(Path(r).parts) for r in runs) + 1):
        names = ["/".join(Path(r).parts[-depth:]) for r in runs]
        if len(set(names)) == len(names):
            return names
    raise ValueError("the same run folder is given twice")


def main() -> None:
    from data_pipeline.features.frontend import clip_features
    from model.detection.detector import Detector
    from model.outputs import atomic_save_figure, atomic_write_csv
    from model.reporting.plots import new_figure

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+", help="run folders of trained detectors")
    p.add_argument("--clips", type=int, default=600)
    p.add_argument("--seed", type=int, default=123)
    p.add_argument("--out", default="runs/pulsed-sounds")
    args = p.parse_args()
    if args.clips < len(RATE_BINS):
        p.error(f"--clips must be at least {len(RATE_BINS)}")

    table, cache, names = None, {}, short_names(args.runs)
    for run, name in zip(args.runs, names):
        detector = Detector.load(run)
        fe = detector.frontend
        if (fe.sample_rate_hz, fe.clip_samples) not in cache:  # the same draws at every rate: same parameters
            cache[fe.sample_rate_hz, fe.clip_samples] = trill_clips(args.clips, fe.clip_samples, fe.sample_rate_hz, args.seed)
        clips, params = cache[fe.sample_rate_hz, fe.clip_samples]
        table = params.copy() if table is None else table
        scores = detector.score(clip_features(clips, fe).numpy())
        table[f"score {name}"] = scores
        table[name] = scores >= detector.counting.threshold
        print(f"{run}: called {table[name].mean():.0%} of {len(table)} trills", flush=True)

    out = Path(args.out)
    atomic_write_csv(out / "pulsed_sounds.csv", table)
    shares = called_shares(table, names)
    for name, share in shares.items():
        print(f"\nshare of clips called, by {name}:")
        print(share.round(2).to_string())
    fig, ax = new_figure(figsize=(6, 3.5))
    by_rate = shares["pulses per second"]
    centres = [f"{b.left:g}-{b.right:g}" for b in by_rate.index]
    for name in names:
        ax.plot(centres, by_rate[name], marker="o", label=name)
    ax.set_xlabel("pulses per second")
    ax.set_ylabel("share of trills called")
    ax.set_ylim(0, 1)
    ax.legend(fontsize="small")
    atomic_save_figure(out / "pulsed_sounds.png", fig)
    print(f"\n{out / 'pulsed_sounds.csv'}, {out / 'pulsed_sounds.png'}")


if __name__ == "__main__":
    from model import cli

    cli.run(main)  # one-line errors; the MP3 decoder's chatter dropped
