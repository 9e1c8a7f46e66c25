"""Train a call detector or a sound classifier, or cross-validate one. See README.md; `--help` lists the options."""

import argparse
import tempfile
import time
from pathlib import Path

from model import cli


def main() -> int:
    from dataclasses import replace

    from data_pipeline.audio.decoding import DECODER_BACKENDS, require_decoder
    from data_pipeline.features.frontend import SEED_FRONTEND
    from data_pipeline.training_data.clips import training_clips
    from model.learning.distribution import STRATEGIES, is_chief, make_strategy
    from model.learning.networks import ARCHITECTURES
    from model.learning.presets import PRESETS, bank_per_kind, get_preset, preset_augment, preset_counting, shares_by_default
    from model.learning.pseudo_labels import check_pseudo_scores
    from model.learning.self_training import add_self_training_arguments, train_with_self_training, unlabelled_recordings
    from model.learning.training import (
        TrainConfig,
        add_mining_arguments,
        add_network_arguments,
        apply_swept_config,
        mining_settings,
        network_settings,
        train,
    )

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--data-dir", help="labelled files: a folder per class (the Kaggle layout is one), a CSV of file,label, "
                   "or a PhysioNet, ESC-50, Freesound or Kaggle-whale folder (default: data, unless --recordings is given)")
    p.add_argument("--audio-dir", help="where the files a CSV lists are (default: found beside the CSV)")
    p.add_argument("--recordings", nargs="+", help="long recordings (files or folders) with calls labelled in --labels")
    p.add_argument("--labels", help=cli.LABELS_HELP + ", of the --recordings")
    p.add_argument("--allow-missing-recordings", action="store_true",
                   help="train even when --labels names recordings not among --recordings (they are left out)")
    p.add_argument("--review", help="a review of a count over --recordings (review.py's <output>_review.csv): "
                   "confirmed items train as calls, rejected ones as hard negatives, unsure ones not at all; in a "
                   "reviewed recording --labels does not cover, the stretches clear of every listed item as background")
    p.add_argument("--unlabelled", nargs="+",
                   help="recordings (files or folders) nobody labelled, beside --recordings: the model trained on the labels "
                        "labels them itself and a model trains again on both (self-training; README, 'Recordings nobody "
                        "labelled')")
    p.add_argument("--self-training-rounds", type=int, default=1,
                   help="with --unlabelled: how many times the last model labels them and a model trains again")
    add_self_training_arguments(p)
    p.add_argument("--negatives", nargs="+", help="files or folders of audio known to hold no call, added as negatives")
    p.add_argument("--negative-bank-per-kind", type=int,
                   help="generated non-call clips per kind, alone and as many mixed into your negatives "
                        "(silence, tones, engines, speech, heartbeats, ...; 0 = none; "
                        f"default {TrainConfig.negative_bank_per_kind} for the capuchinbird and glass_break presets, "
                        "0 for the others)")
    add_mining_arguments(p)
    add_network_arguments(p)
    p.add_argument("--run-dir", help="output folder (default: runs/<time>-<preset>-<arch>[-<K>fold])")
    p.add_argument("--preset", default="capuchinbird", choices=sorted(PRESETS),
                   help="front end, windowing and pooling for a kind of sound (see model/learning/presets.py)")
    p.add_argument("--folds", type=int, help="k-fold cross-validation instead of one train/validation/test split "
                   "(the dataset's own folds when it has them)")
    p.add_argument("--arch", default="compact", choices=ARCHITECTURES,
                   help="compact CNN (default), the blog post's seed network, or an ImageNet backbone")
    p.add_argument("--freeze-epochs", type=int, default=TrainConfig.freeze_epochs,
                   help="ImageNet backbones: epochs training the new head alone before fine-tuning everything")
    p.add_argument("--config",
                   help="best.json from tune.py: its front end, network, learning rate and batch size override the flags")
    p.add_argument("--epochs", type=int, default=TrainConfig.epochs,
                   help="ceiling, of the first fit and of each mining round; early stopping ends sooner")
    p.add_argument("--batch-size", type=int, default=TrainConfig.batch_size)
    p.add_argument("--learning-rate", type=float, default=TrainConfig.learning_rate)
    p.add_argument("--patience", type=int, default=TrainConfig.patience, help="early-stopping patience, epochs")
    p.add_argument("--seed", type=int, default=TrainConfig.seed)
    p.add_argument("--decoder", default="soundfile", choices=DECODER_BACKENDS,
                   help="soundfile (default) or tfio (tensorflow-io, TensorFlow 2.16 only: requirements-tfio.txt)")
    p.add_argument("--augment", action=argparse.BooleanOptionalAction, default=False,
                   help="background mixing, time shifts and SpecAugment masks (see data_pipeline/features/augment.py)")
    p.add_argument("--pitch-augment", action=argparse.BooleanOptionalAction, default=None,
                   help="half the training clips at another pitch, 0.8-1.25 times (default: the preset's, on for "
                        "capuchinbird where the front end has linear bins; README, 'Calls at another pitch')")
    p.add_argument("--mixed-precision", action="store_true", help="float16 compute (for GPUs; slower on CPU)")
    p.add_argument("--jit", action="store_true", help="compile with XLA (for GPUs; slower on CPU)")
    p.add_argument("--strategy", default="none", choices=STRATEGIES,
                   help="mirrored: every GPU of this machine; multiworker: several processes or machines from TF_CONFIG. "
                        "--batch-size and --learning-rate are then per replica (README, 'Training on several GPUs or machines')")
    args = p.parse_args()
    require_decoder(args.decoder)
    if args.folds is not None and args.folds < 2:
        p.error(f"--folds must be 2 or more (cross-validation holds each fold out once), got {args.folds}")
    if args.folds and args.strategy != "none":
        p.error("--strategy trains one model; cross-validation (--folds) runs without it")
    if args.unlabelled:
        if not (args.recordings and args.labels):
            p.error("--unlabelled goes with --recordings and --labels: the model that labels them learns from those")
        if args.folds or args.strategy != "none":
            p.error("--unlabelled trains one model after another on one machine: not with --folds or --strategy")
        if args.self_training_rounds < 1:
            p.error(f"--self-training-rounds must be 1 or more, got {args.self_training_rounds}")
        check_pseudo_scores(args.pseudo_sure_score, args.pseudo_unsure_score)

    preset = get_preset(args.preset)
    config = TrainConfig(arch=args.arch, epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.learning_rate,
                         patience=args.patience, seed=args.seed, decoder=args.decoder,
                         mixed_precision=args.mixed_precision, jit_compile=args.jit, freeze_epochs=args.freeze_epochs,
                         network=preset.network if args.arch == "compact" else {},
                         negative_bank_per_kind=bank_per_kind(preset, args.negative_bank_per_kind),
                         **mining_settings(args))
    strategy = make_strategy(args.strategy)  # before any other TensorFlow work (the settings above are checked first)
    frontend = SEED_FRONTEND if args.arch == "seed" else preset.frontend
    if args.config:
        config, frontend = apply_swept_config(args.config, config)
    config = replace(config, augment=preset_augment(preset, frontend, args.augment, args.pitch_augment))
    if config.negative_bank_per_kind > 0:
        from data_pipeline.synthetic.negatives import check_sample_rate

        try:
            check_sample_rate(frontend.sample_rate_hz)  # before any data is read
        except ValueError as err:
            p.error(str(err))
    if args.shared_trunk and config.arch != "compact":
        p.error(f"--shared-trunk is a setting of the compact network, not of {config.arch!r}")
    config = replace(config, network=network_settings(args, frontend, config.network, preset.window_hop_s,
                                                      shares_by_default(preset, config.arch, args.config)))
    clips, classes, labels = training_clips(args.data_dir, args.recordings, args.labels, frontend.clip_s,
                                            preset.window_hop_s, args.audio_dir, args.allow_missing_recordings, args.negatives,
                                            args.review)
    counting = preset_counting(preset)
    name = f"{args.preset}-{args.arch}" + (f"-{args.folds}fold" if args.folds else "")
    run_dir = Path(args.run_dir or f"runs/{time.strftime('%Y%m%d-%H%M%S')}-{name}")
    if args.unlabelled:
        unlabelled = unlabelled_recordings(args.unlabelled, set(labels["recording"]))
        train_with_self_training(clips, classes, run_dir, config, unlabelled, labels, args.self_training_rounds,
                                 args.pseudo_sure_score, args.pseudo_unsure_score, args.pseudo_background,
                                 frontend=frontend, counting=counting, pooling=preset.pooling)
    elif args.folds:
        from model.learning.crossval import cross_validate

        cross_validate(clips, classes, run_dir, args.folds, config, frontend, counting, preset.pooling)
    elif is_chief(strategy):
        train(clips, classes, run_dir, config, frontend=frontend, counting=counting, labels=labels, pooling=preset.pooling,
              strategy=strategy)
    else:  # a multiworker run's other workers train in step with the chief; only the chief's run folder is kept
        with tempfile.TemporaryDirectory(prefix="train-worker-") as scratch:
            train(clips, classes, scratch, config, frontend=frontend, counting=counting, labels=labels,
                  pooling=preset.pooling, strategy=strategy)
    return 0


if __name__ == "__main__":
    cli.run(main)
