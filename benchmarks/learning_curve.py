"""How counts on unheard forest recordings grow with the number of labelled recordings trained on.

    .venv/bin/python benchmarks/learning_curve.py [--sizes 3 5 7 10 20 all] [--folds 5] [--fold F ...] [--seed 0 [--train-seed N]]
        [--augment [--augment-without mixing|masks]] [--no-pitch-augment] [--frame-length 512 --frame-step 400 --fft-length 512]
        [--self-train [ROUNDS] [--pseudo-sure-score 0.9] [--pseudo-unsure-score 0.2] [--pseudo-background]]

The 40 shared recordings are dealt into folds by background family, as forest_crossval.py does.
For each fold and each size K, a model trains on K recordings drawn at random from the other folds
(its own validation recordings, for early stopping and the counting settings, come out of those K)
and counts every recording of the fold, which no model of that fold has heard. The draws are nested
(the 3 recordings are among the 5, the 5 among the 7, ...), so the curve shows the effect of more
labels rather than of a different draw; a draw whose first three recordings hold no call or share a
background family is redrawn. The per-recording
results of all folds are scored together against the hand labels.

Writes RUN_DIR/learning_curve.csv and learning_curve.png, and prints the table for the README. A rerun
reuses every model already trained on the same recordings (RUN_DIR/k<K>/fold<F>/split.csv says which) with
the same training settings (test_metrics.json),
so adding a size or recovering from a crash trains only what is missing. Each model's window scores on its
fold are kept (RUN_DIR/k<K>/fold<F>/window_scores.pkl), to try counting settings without the network.

With --self-train, each model labels the other recordings outside its fold itself, as if nobody had
(model.learning.pseudo_labels), and a model trains again on both (RUN_DIR/k<K>/fold<F>-self<r>, with its
pseudo_labels.csv and self_training.json, which a rerun compares before reusing it): a row
"K + self-training r" beside each size.
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def nested_draw(recordings: list[Path], calls_in: dict[str, int], seed: int) -> list[Path]:
    """`recordings` in a seeded random order whose first three hold at least one call between them and
    come from three background families (so every size from 3 up can train a call class and keep a
    recording for validation); take the first K for size K."""
    import numpy as np
    from forest_holdout import background_group

    rng = np.random.default_rng(seed)
    while True:
        order = [recordings[i] for i in rng.permutation(len(recordings))]
        first = order[:3]
        if sum(calls_in.get(r.name, 0) for r in first) and len({background_group(r.stem) for r in first}) == 3:
            return order


def reusable_self_trained(folder: Path, chosen: list[Path], unlabelled: list[Path], args, frontend, config):
    """The self-trained detector already in `folder` when its round was run with these self-training settings
    (its self_training.json) on these recordings, else None. Without --pseudo-background it trained only on the
    unlabelled recordings the model before found a sure call in (its pseudo_labels.csv)."""
    import json

    import pandas as pd
    from forest_holdout import reusable_detector

    from model.learning.self_training import SETTINGS_FILE, self_training_settings

    saved = folder / SETTINGS_FILE
    wanted = self_training_settings(args.pseudo_sure_score, args.pseudo_unsure_score, args.pseudo_background, unlabelled)
    if not saved.exists() or json.loads(saved.read_text()) != wanted:
        return None
    guessed = pd.read_csv(folder / "pseudo_labels.csv")
    taught = set(guessed["recording"] if args.pseudo_background else guessed.loc[guessed["confidence"] == "sure", "recording"])
    return reusable_detector(chosen + [r for r in unlabelled if r.name in taught], folder, frontend, config)


def main() -> None:
    import pandas as pd
    from forest_holdout import (
        add_augment_arguments,
        add_fold_argument,
        add_stft_arguments,
        background_folds,
        folds_to_run,
        forest_augment,
        forest_clips,
        forest_network,
        reusable_detector,
        with_stft,
    )

    from data_pipeline.audio.decoding import list_audio_files
    from data_pipeline.labels.annotations import read_call_labels
    from data_pipeline.labels.class_folders import KAGGLE_CLASSES
    from model.detection.counting import count_calls
    from model.learning.pseudo_labels import check_pseudo_scores
    from model.learning.self_training import add_self_training_arguments, self_training_round
    from model.learning.training import (
        TrainConfig,
        add_mining_arguments,
        add_network_arguments,
        default_frontend,
        mining_settings,
        train,
    )
    from model.outputs import atomic_write_csv
    from model.reporting.evaluation import evaluate, format_summary, summarise
    from model.reporting.plots import plot_learning_curve

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared"))
    p.add_argument("--run-dir", default="runs/learning-curve")
    p.add_argument("--sizes", nargs="+", default=["3", "5", "7", "10", "20", "all"],
                   help="numbers of labelled recordings to train on ('all': every recording outside the fold)")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--train-seed", type=int,
                   help="seed of the training alone (default: --seed): another model of the same folds and draws, "
                        "to average with the first (benchmarks/averaged_models.py RUN/k7 RUN2/k7)")
    add_augment_arguments(p)
    p.add_argument("--augment-without", choices=["mixing", "masks"],
                   help="with --augment: leave out the background mixing, or the frequency and time masks")
    p.add_argument("--self-train", type=int, nargs="?", const=1, default=0, metavar="ROUNDS",
                   help="also train each model again with the labels it writes for the fold's other recordings, as if "
                        "nobody had labelled them, ROUNDS times, each from the last (rows 'K + self-training r'; "
                        "model.learning.self_training; k<K>/fold<F>-self<r>)")
    add_self_training_arguments(p)
    add_fold_argument(p, "learning_curve-fold<F>.csv")
    p.add_argument("--negative-bank-per-kind", type=int, default=TrainConfig.negative_bank_per_kind)
    add_mining_arguments(p)
    add_stft_arguments(p)
    add_network_arguments(p)
    args = p.parse_args()
    check_pseudo_scores(args.pseudo_sure_score, args.pseudo_unsure_score)
    if args.augment_without and not args.augment:
        raise ValueError("--augment-without leaves a part out of --augment: give --augment too")
    folds_run, subset = folds_to_run(args)

    forest = Path(args.shared) / "forest"
    labels = read_call_labels(forest / "calls.csv")
    sure = labels[labels["confidence"] == "sure"]
    calls_in = sure.groupby("recording").size().to_dict()
    recordings = list_audio_files(forest)
    # Another STFT retrains (and replaces) the models of the same --run-dir: give each STFT a run folder of its own.
    frontend, _ = with_stft(default_frontend("compact"), args)
    augment = forest_augment(args, frontend)
    if args.augment_without == "mixing":
        augment = replace(augment, mix_probability=0.0)
    elif args.augment_without == "masks":
        augment = replace(augment, freq_mask_bins=0, time_mask_frames=0)
    train_seed = args.seed if args.train_seed is None else args.train_seed
    config = TrainConfig(seed=train_seed, split_fractions=(0.8, 0.2, 0.0), verbose=0,
                         augment=augment,
                         negative_bank_per_kind=args.negative_bank_per_kind,
                         network=forest_network(args, frontend, {}), **mining_settings(args))
    fold_of = background_folds(recordings, args.folds, args.seed)
    fewest = min(sum(f != fold for f in fold_of) for fold in range(args.folds))  # recordings outside a fold
    for size in args.sizes:  # one line before any training, not a traceback or a row named wrongly after it
        if size != "all" and not (size.isdigit() and 3 <= int(size) <= fewest):
            raise ValueError(f"--sizes {size}: give 'all' or a number of recordings from 3 (the first three hold "
                             f"calls from three families) to {fewest} (the fewest outside any fold)")
    run_dir = Path(args.run_dir)
    tables, rows, t0 = {}, [], time.time()
    for fold in folds_run:
        held = [r for r, f in zip(recordings, fold_of) if f == fold]
        order = nested_draw([r for r, f in zip(recordings, fold_of) if f != fold], calls_in, args.seed + fold)

        def count_held(detector, size, rounds, folder, chosen):
            """Count the fold with `detector` (trained on `chosen`, then `rounds` rounds of self-training)."""
            result = count_calls(detector, held, progress=False)
            with open(folder / "window_scores.pkl", "wb") as f:  # to try counting settings without the network
                pickle.dump(result.scores, f)
            per_rec, summary = evaluate(result.events, labels, [r.name for r in held])
            tables.setdefault((size, rounds), []).append(per_rec.assign(fold=fold))
            rows.append({"size": size, "self_training_rounds": rounds, "fold": fold, "recordings": len(chosen),
                         "calls": sum(calls_in.get(r.name, 0) for r in chosen)})
            after = f" + self-training {rounds}" if rounds else ""
            print(f"K={size}{after} fold {fold} ({len(chosen)} recordings, {rows[-1]['calls']} calls): {format_summary(summary)}",
                  flush=True)

        for size in args.sizes:
            chosen = order if size == "all" else order[: int(size)]
            folder = run_dir / f"k{size}" / f"fold{fold}"
            detector = reusable_detector(chosen, folder, frontend, config) or train(
                forest_clips(chosen, labels, frontend.clip_s), list(KAGGLE_CLASSES), folder, config,
                frontend=frontend, labels=labels)
            count_held(detector, size, 0, folder, chosen)
            rounds = args.self_train if size != "all" else 0  # "all" leaves no recording unlabelled
            unlabelled, mine = order[len(chosen):], labels[labels["recording"].isin({r.name for r in chosen})]
            for round_ in range(1, rounds + 1):
                again = run_dir / f"k{size}" / f"fold{fold}-self{round_}"
                detector = reusable_self_trained(again, chosen, unlabelled, args, frontend, config) or self_training_round(
                    detector, folder, again, forest_clips(chosen, labels, frontend.clip_s), list(KAGGLE_CLASSES),
                    unlabelled, mine, config, args.pseudo_sure_score, args.pseudo_unsure_score, progress=False,
                    background=args.pseudo_background, frontend=frontend)
                guessed = pd.read_csv(again / "pseudo_labels.csv")
                sure = guessed[guessed["confidence"] == "sure"].assign(score=1.0)
                _, truth = evaluate(sure[["recording", "start", "end", "score"]], labels, [r.name for r in unlabelled])
                print(f"K={size} round {round_} fold {fold}: the calls it trained on in the {len(unlabelled)} unlabelled "
                      f"recordings against their hand labels: {format_summary(truth)}", flush=True)
                count_held(detector, size, round_, again, chosen)
                folder = again

    folds = pd.DataFrame(rows)
    curve = []
    for (size, rounds), parts in tables.items():
        s = summarise(pd.concat(parts, ignore_index=True))
        mine = folds[(folds["size"] == size) & (folds["self_training_rounds"] == rounds)]
        curve.append({"size": size, "self_training_rounds": rounds,
                      "recordings": mine["recordings"].mean(), "calls": mine["calls"].mean(),
                      "count_mae": s["count_mae"], "exact": s["exact_count_fraction"], "precision": s["precision"],
                      "recall": s["recall"], "f1": s["f1"]})
    curve = pd.DataFrame(curve)
    atomic_write_csv(run_dir / f"learning_curve{subset}.csv", curve)
    plot_learning_curve(curve, run_dir / f"learning_curve{subset}.png")
    print("| labelled recordings (mean calls) | count MAE | exact counts | precision | recall | event F1 |")
    print("|---|---|---|---|---|---|")
    for r in curve.itertuples():
        after = f" + self-training {r.self_training_rounds}" if r.self_training_rounds else ""
        print(f"| {r.size}{after} ({r.recordings:.0f} rec., {r.calls:.0f} calls) | {r.count_mae:.3f} | {r.exact:.0%} | "
              f"{r.precision:.3f} | {r.recall:.3f} | {r.f1:.3f} |")
    without = f" without {args.augment_without}" if args.augment_without else ""
    pseudo = (f"self-training {args.self_train} round(s) at {args.pseudo_sure_score:g}/{args.pseudo_unsure_score:g}"
              f"{' with background' if args.pseudo_background else ''}, " if args.self_train else "")
    print(f"augment {args.augment}{without}, pitch {bool(augment and augment.pitch_probability)}, {pseudo}folds {folds_run}, "
          f"bank {args.negative_bank_per_kind} per kind, mining pool {args.hard_negative_pool_per_kind} per kind, "
          f"{args.hard_negative_rounds} round(s) at >= "
          f"{args.hard_negative_threshold:g}, frames {frontend.frame_length}/{frontend.frame_step}/{frontend.fft_length}; "
          f"{(time.time() - t0) / 60:.1f} min; "
          f"{os.cpu_count()} cores, "
          f"{time.strftime('%Y-%m-%d')}; {run_dir / f'learning_curve{subset}.csv'}")


if __name__ == "__main__":
    from model import cli

    cli.run(main)  # one-line errors; the MP3 decoder's chatter dropped
