"""Does the pulse panel tell a trill from a Capuchinbird call? A front-end measurement, no model, no training.

    .venv/bin/python benchmarks/pulse_spread.py [--shared ../shared] [--out runs/pulse-spread]

The pulse gate's measure (`data_pipeline.features.pulsing.pulse_spread_db`: the front end's pulse panel, sub-frames
of 128 samples): for each 1 s piece, the spread of level over the sub-frames of each frame (dB), averaged over the
frames and over the bins of 400-2400 Hz weighted by their power: inside every sure call of `../shared/forest`
(pieces from 0.5 s after its start to 1.5 s before its end), in forest background at least 2 s from any
labelled call (four pieces per recording), and in single frog trills (the kind no bank holds) and
insect bands of the generated bank, each at -26 dBFS over pink noise 20 dB below. Prints percentiles per
group; writes OUT/pulse_spread.csv (one row per piece).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

def main() -> None:
    import numpy as np
    import pandas as pd
    from robustness import _free_stretches, _place  # stretches away from every labelled call

    from data_pipeline.audio.decoding import read_stretch
    from data_pipeline.features.frontend import FrontendConfig
    from data_pipeline.features.pulsing import pulse_frontend, pulse_spread_db
    from data_pipeline.labels.annotations import read_call_labels
    from data_pipeline.synthetic.capuchinbird import pink_noise, rms
    from data_pipeline.synthetic.negatives import frog_trill, synth_negative
    from model.outputs import atomic_write_csv

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared"))
    p.add_argument("--out", default="runs/pulse-spread")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    fe = pulse_frontend(FrontendConfig())  # the pulse gate's measure (data_pipeline.features.pulsing)
    sr, rng = fe.sample_rate_hz, np.random.default_rng(args.seed)
    labels = read_call_labels(Path(args.shared) / "forest" / "calls.csv")
    rows = []
    for recording, calls in labels.groupby("recording"):
        audio = read_stretch(Path(args.shared) / "forest" / recording, 0, 180, sr)
        pieces = [("call", s) for call in calls[calls["confidence"] == "sure"].itertuples()
                  for s in np.arange(call.start + 0.5, call.end - 1.5, 1.0)]
        labelled = [(c.start, c.end) for c in calls[calls["confidence"] != "none"].itertuples()]
        free = _free_stretches(len(audio) / sr, labelled, margin_s=2.0)
        pieces += [("background", s) for s in (_place(rng, free, 1.0) for _ in range(4)) if s is not None]
        if pieces:
            cut = np.stack([audio[int(s * sr): int(s * sr) + sr] for _, s in pieces])
            rows += [(group, recording, v) for (group, _), v in zip(pieces, pulse_spread_db(cut, fe))]
    generated = []
    for _ in range(300):
        trill, params = frog_trill(rng, sr, sr)
        rate = params["pulses_per_s"]
        generated.append(("frog trill, " + ("5-20" if rate < 20 else "20-40" if rate < 40 else "40-100") + " a second", trill))
    generated += [("insects (bank kind)", synth_negative(rng, "insects", sr, sr)) for _ in range(100)]
    generated = [(g, x) for g, x in generated if rms(x) > 0]
    clips = np.stack([0.05 * x / rms(x) + 0.005 * pink_noise(rng, sr, sr) for _, x in generated]).astype(np.float32)
    rows += [(group, "generated", v) for (group, _), v in zip(generated, pulse_spread_db(clips, fe))]
    table = pd.DataFrame(rows, columns=["group", "source", "spread_db"])
    out = Path(args.out)
    atomic_write_csv(out / "pulse_spread.csv", table)
    summary = table.groupby("group")["spread_db"].describe(percentiles=[0.1, 0.5, 0.9])[["count", "10%", "50%", "90%"]]
    print(summary.round(2).to_string())
    print(f"{out / 'pulse_spread.csv'}")


if __name__ == "__main__":
    from model import cli

    cli.run(main)
