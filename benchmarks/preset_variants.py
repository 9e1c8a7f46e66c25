"""Cross-validate a preset with front-end or network settings changed, to compare against it.

    .venv/bin/python benchmarks/preset_variants.py --data-dir ../shared/heart --preset heart \
        --set median_subtraction=true --set mel_bins=48 [--network centre_fraction=0.5] [--folds 5]

Prints the per-class table (model.learning.crossval.format_crossval) and one summary line; every fold's run
lands under --run-dir. A variant that wins here becomes the preset (model/learning/presets.py), where
`python train.py --preset NAME --folds 5` repeats the number.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def parse_settings(pairs: list[str]) -> dict:
    """['mel_bins=48', 'median_subtraction=true', 'max_freq_hz=null'] -> values parsed as JSON where possible."""
    out = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def main() -> None:
    from data_pipeline.training_data.clips import training_clips
    from model.detection.events import CountingConfig
    from model.learning.crossval import cross_validate
    from model.learning.presets import PRESETS, bank_per_kind, get_preset
    from model.learning.training import TrainConfig

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", required=True)
    p.add_argument("--preset", required=True, choices=sorted(PRESETS))
    p.add_argument("--set", action="append", default=[], help="front-end setting key=value (repeatable)")
    p.add_argument("--network", action="append", default=[], help="network setting key=value (repeatable)")
    p.add_argument("--hop-s", type=float, help="seconds between training windows of long files (default: the preset's)")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--epochs", type=int, default=TrainConfig.epochs)
    p.add_argument("--patience", type=int, default=TrainConfig.patience)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--run-dir", default="runs/preset-variant")
    args = p.parse_args()

    preset = get_preset(args.preset)
    if args.hop_s:
        preset = replace(preset, window_hop_s=args.hop_s)
    frontend = replace(preset.frontend, **parse_settings(args.set))
    network = {**preset.network, **parse_settings(args.network)}
    config = TrainConfig(epochs=args.epochs, patience=args.patience, seed=args.seed, network=network, verbose=0,
                         negative_bank_per_kind=bank_per_kind(preset))
    clips, classes, _ = training_clips(args.data_dir, None, None, frontend.clip_s, preset.window_hop_s)
    counting = CountingConfig(hop_s=preset.window_hop_s) if preset.window_hop_s else None
    t0 = time.time()
    summary = cross_validate(clips, classes, args.run_dir, args.folds, config, frontend, counting, preset.pooling)
    m, s = summary["mean"], summary["std"]
    changes = args.set + args.network + ([f"hop_s={args.hop_s}"] if args.hop_s else [])
    print(f"{args.preset} {' '.join(changes) or '(preset)'}: accuracy {m['accuracy']:.3f} ± {s['accuracy']:.3f}, "
          f"macro F1 {m['macro_f1']:.3f} ± {s['macro_f1']:.3f}; {time.time() - t0:.0f} s")


if __name__ == "__main__":
    from model import cli

    cli.run(main)  # one-line errors; the MP3 decoder's chatter dropped
