"""Train a call detector or a sound classifier, or cross-validate one. See README.md; `--help` lists the options."""

import argparse
import time
from pathlib import Path

from model import cli


def main() -> int:
    from data_pipeline.audio_io import DECODER_BACKENDS
    from data_pipeline.augment import AugmentConfig
    from data_pipeline.clips import training_clips
    from data_pipeline.frontend import SEED_FRONTEND
    from model.events import CountingConfig
    from model.networks import ARCHITECTURES
    from model.presets import PRESETS, get_preset
    from model.training import TrainConfig, apply_swept_config, train

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--data-dir", help="labelled files: a folder per class (the Kaggle layout is one), a CSV of file,label, "
                   "or a PhysioNet, ESC-50, Freesound or Kaggle-whale folder (default: data, unless --recordings is given)")
    p.add_argument("--audio-dir", help="where the files a CSV lists are (default: found beside the CSV)")
    p.add_argument("--recordings", nargs="+", help="long recordings (files or folders) with calls labelled in --labels")
    p.add_argument("--labels", help="labelled calls in --recordings: CSV recording,start,end[,confidence] or a Raven table")
    p.add_argument("--run-dir", help="output folder (default: runs/<time>-<preset>-<arch>[-<K>fold])")
    p.add_argument("--preset", default="capuchinbird", choices=sorted(PRESETS),
                   help="front end, windowing and pooling for a kind of sound (see model/presets.py)")
    p.add_argument("--folds", type=int, help="k-fold cross-validation instead of one train/validation/test split "
                   "(the dataset's own folds when it has them)")
    p.add_argument("--arch", default="compact", choices=ARCHITECTURES,
                   help="compact CNN (default), the blog post's seed network, or an ImageNet backbone")
    p.add_argument("--freeze-epochs", type=int, default=TrainConfig.freeze_epochs,
                   help="ImageNet backbones: epochs training the new head alone before fine-tuning everything")
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

    preset = get_preset(args.preset)
    config = TrainConfig(arch=args.arch, epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.learning_rate,
                         patience=args.patience, seed=args.seed, decoder=args.decoder,
                         augment=AugmentConfig() if args.augment else None,
                         mixed_precision=args.mixed_precision, jit_compile=args.jit, freeze_epochs=args.freeze_epochs,
                         network=preset.network if args.arch == "compact" else {})
    frontend = SEED_FRONTEND if args.arch == "seed" else preset.frontend
    if args.config:
        config, frontend = apply_swept_config(args.config, config)
    clips, classes, labels = training_clips(args.data_dir, args.recordings, args.labels, frontend.clip_s,
                                            preset.window_hop_s, args.audio_dir)
    counting = CountingConfig(hop_s=preset.window_hop_s) if preset.window_hop_s else None
    name = f"{args.preset}-{args.arch}" + (f"-{args.folds}fold" if args.folds else "")
    run_dir = Path(args.run_dir or f"runs/{time.strftime('%Y%m%d-%H%M%S')}-{name}")
    if args.folds:
        from model.crossval import cross_validate

        cross_validate(clips, classes, run_dir, args.folds, config, frontend, counting, preset.pooling)
    else:
        train(clips, classes, run_dir, config, frontend=frontend, counting=counting, labels=labels, pooling=preset.pooling)
    return 0


if __name__ == "__main__":
    cli.run(main)
