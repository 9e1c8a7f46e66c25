"""Train a call detector. See README.md; `python train.py --help` lists the options."""

import argparse
import time
from pathlib import Path

from model import cli


def main() -> int:
    from data_pipeline.audio_io import DECODER_BACKENDS
    from data_pipeline.augment import AugmentConfig
    from data_pipeline.clips import training_clips
    from model.networks import ARCHITECTURES
    from model.training import TrainConfig, apply_swept_config, default_frontend, train

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--data-dir", help="Kaggle layout or a folder per class (default: data, unless --recordings is given)")
    p.add_argument("--recordings", nargs="+", help="long recordings (files or folders) with calls labelled in --labels")
    p.add_argument("--labels", help="labelled calls in --recordings: CSV recording,start,end[,confidence] or a Raven table")
    p.add_argument("--run-dir", help="output folder (default: runs/<time>-<arch>)")
    p.add_argument("--arch", default="compact", choices=ARCHITECTURES)
    p.add_argument("--config", help="best.json from tune.py: its front end, network, learning rate and batch size override the flags")
    p.add_argument("--epochs", type=int, default=TrainConfig.epochs, help="ceiling; early stopping ends sooner")
    p.add_argument("--batch-size", type=int, default=TrainConfig.batch_size)
    p.add_argument("--learning-rate", type=float, default=TrainConfig.learning_rate)
    p.add_argument("--patience", type=int, default=TrainConfig.patience, help="early-stopping patience, epochs")
    p.add_argument("--seed", type=int, default=TrainConfig.seed)
    p.add_argument("--decoder", default="soundfile", choices=DECODER_BACKENDS)
    p.add_argument("--augment", action=argparse.BooleanOptionalAction, default=False,
                   help="background mixing, time shifts and SpecAugment masks (see data_pipeline/augment.py)")
    p.add_argument("--mixed-precision", action="store_true", help="float16 compute (for GPUs; slower on CPU)")
    p.add_argument("--jit", action="store_true", help="compile with XLA (for GPUs; slower on CPU)")
    args = p.parse_args()

    config = TrainConfig(arch=args.arch, epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.learning_rate,
                         patience=args.patience, seed=args.seed, decoder=args.decoder,
                         augment=AugmentConfig() if args.augment else None,
                         mixed_precision=args.mixed_precision, jit_compile=args.jit)
    frontend = default_frontend(args.arch)
    if args.config:
        config, frontend = apply_swept_config(args.config, config)
    clips, classes, labels = training_clips(args.data_dir, args.recordings, args.labels, frontend.clip_s)
    run_dir = Path(args.run_dir or f"runs/{time.strftime('%Y%m%d-%H%M%S')}-{args.arch}")
    train(clips, classes, run_dir, config, frontend=frontend, labels=labels)
    return 0


if __name__ == "__main__":
    cli.run(main)
