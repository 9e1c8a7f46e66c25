"""Train a detector from a clip table and write everything about the run into one folder.

    RUN_DIR/model.keras, detector.json   the detector (see model.detection.detector)
    RUN_DIR/split.csv                    every clip with its split, so the run can be audited
    RUN_DIR/history.csv, curves.png      loss and metrics per epoch
    RUN_DIR/logs/                        TensorBoard (`tensorboard --logdir runs`)
    RUN_DIR/test_metrics.json            accuracy, per-class precision/recall/F1 and confusion matrix on
                                         held-out clips (and per file, pooled, when files were windowed);
                                         with labelled recordings also event F1 and count MAE
    RUN_DIR/confusion_matrix.png
    RUN_DIR/predictions.csv              every held-out clip: true and predicted class, probabilities, loss
    RUN_DIR/top_losses.png               the worst mistakes, as spectrograms with file names
    RUN_DIR/embedding.png                t-SNE map of the network's features for the held-out clips
    RUN_DIR/counting_tuning.csv          with labelled recordings: every counting setting tried on the
                                         validation recordings, best first (the best is saved)
    RUN_DIR/unlabelled_calls.csv         with labelled recordings: the calls the detector counts in them where
                                         no label is (model.learning.unlabelled_calls)

Everything that happens during fit is a Keras callback (early stopping restoring the best weights,
TensorBoard, CSV history).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from data_pipeline.features.augment import AugmentConfig
from data_pipeline.features.frontend import SEED_FRONTEND, FrontendConfig
from data_pipeline.training_data.clips import group_split, load_clips, load_clips_and_waveforms
from data_pipeline.training_data.datasets import feature_dataset
from model.detection.counting import count_calls, score_recording
from model.detection.decisions import as_class_probabilities, pool_by_file
from model.detection.detector import Detector
from model.detection.events import CountingConfig
from model.interrupts import deferred, stop_if_interrupted
from model.learning.counting_tuning import tune_counting, warn_if_not_learnt
from model.learning.distribution import scaled_for_replicas
from model.learning.networks import build_model, is_shared_trunk, set_backbone_trainable
from model.learning.training_state import (
    RESUME_DIR,
    EpochOrder,
    StageState,
    training_key,
)
from model.learning.unlabelled_calls import background_recordings, check_for_unlabelled_calls
from model.outputs import atomic_write_csv, atomic_write_text
from model.reporting.diagnostics import (
    embedding_features,
    embedding_sample,
    plot_embedding,
    plot_top_losses,
    prediction_table,
)
from model.reporting.evaluation import clip_metrics, evaluate, format_summary
from model.reporting.plots import plot_confusion, plot_history


@dataclass
class TrainConfig:
    """How to train. `epochs` is a ceiling: early stopping usually ends sooner."""

    arch: str = "compact"
    network: dict = field(default_factory=dict)  # settings for the network builder, e.g. from a sweep
    epochs: int = 30
    batch_size: int = 32
    learning_rate: float = 1e-3
    patience: int = 5
    seed: int = 0
    split_fractions: tuple[float, float, float] = (0.7, 0.15, 0.15)
    decoder: str = "soundfile"
    augment: AugmentConfig | None = None  # see data_pipeline.features.augment
    # GPU options, off by default: on 2 CPU cores both made training slower (README, Throughput).
    mixed_precision: bool = False  # float16 compute, float32 weights and output
    jit_compile: bool = False  # XLA
    # Backbones with loaded (ImageNet) weights only: train the new head alone for this many epochs,
    # then unfreeze the backbone (its BatchNorm statistics stay) and fine-tune at learning_rate * fine_tune_factor.
    freeze_epochs: int = 3
    fine_tune_factor: float = 0.1
    # Two-class runs: add the generated bank of non-call sounds (data_pipeline.synthetic.negatives) to the
    # training split, this many clips per kind alone and as many mixed into the run's own training negatives.
    negative_bank_per_kind: int = 8  # 0: no bank
    # With the bank on: after the first fit, score this many more generated clips per kind (alone, and as
    # many mixed; two other seeds), add those scored >= `hard_negative_threshold` to training and validation and fit on for
    # at most `hard_negative_epochs` (and never more than `epochs`: a short run stays short; model.learning.hard_negatives).
    # 0: no mining.
    hard_negative_pool_per_kind: int = 32
    hard_negative_epochs: int = 10
    # A pool clip scored at or above this call probability is mined: near misses too, not only clips called
    # calls (0.5). Robustness benchmark, same seed and first fit: 4 false calls on the no-call material
    # against 10 at 0.5, damaged recordings the same; 7 recordings 0.050 / 0.984 against 0.075 / 0.976 (README).
    hard_negative_threshold: float = 0.2
    # Rounds of mining, each from fresh pools scored by the network the round before left: a fit on mined
    # clips can open new holes (a robustness fold mined no sirens, then called 3 of 64 fresh sirens after;
    # a second round mined them). A round that mines nothing for training ends the mining. docs/not-a-call.md, "Robustness".
    hard_negative_rounds: int = 2
    verbose: int = 2  # Keras: 1 = progress bar, 2 = one line per epoch (better in logs)

    def __post_init__(self):
        for name, low in (("epochs", 1), ("batch_size", 1), ("patience", 0), ("freeze_epochs", 0),
                          ("negative_bank_per_kind", 0), ("hard_negative_pool_per_kind", 0), ("hard_negative_rounds", 1),
                          ("hard_negative_epochs", 1)):
            if getattr(self, name) < low:
                raise ValueError(f"{name} must be {low} or more, got {getattr(self, name)}")
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be above 0, got {self.learning_rate}")
        if not 0.0 <= self.hard_negative_threshold <= 1.0:
            raise ValueError(f"hard_negative_threshold is a call probability, 0 to 1; got {self.hard_negative_threshold}")


MINING_SEED_OFFSET = 1000  # mining pools' seeds, round r: the run's seed + (2r - 1)x this (training) and
# + 2r x this (validation)


def add_mining_arguments(parser) -> None:
    """The hard-negative mining options of train.py and the benchmarks, defaults from TrainConfig;
    `mining_settings(args)` turns them into TrainConfig keywords."""
    parser.add_argument("--hard-negative-pool-per-kind", type=int, default=TrainConfig.hard_negative_pool_per_kind,
                        help="with the bank on: after training, score this many more generated clips per kind (alone, "
                             "and as many mixed), add those scored at or above --hard-negative-threshold and train on "
                             f"(0 = no mining; default {TrainConfig.hard_negative_pool_per_kind})")
    parser.add_argument("--hard-negative-threshold", type=float, default=TrainConfig.hard_negative_threshold,
                        help="mine the pool clips scored at or above this call probability "
                             f"(default {TrainConfig.hard_negative_threshold}: near misses too)")
    parser.add_argument("--hard-negative-rounds", type=int, default=TrainConfig.hard_negative_rounds,
                        help="rounds of mining, each from fresh pools scored by the network the round before left "
                             f"(default {TrainConfig.hard_negative_rounds})")


def mining_settings(args) -> dict:
    """TrainConfig keywords from the options `add_mining_arguments` declared."""
    return {name: getattr(args, name) for name in
            ("hard_negative_pool_per_kind", "hard_negative_threshold", "hard_negative_rounds")}


def add_network_arguments(parser) -> None:
    """--shared-trunk / --no-shared-trunk, of train.py and the benchmarks; `network_settings` applies it."""
    parser.add_argument("--shared-trunk", action=argparse.BooleanOptionalAction, default=None,
                        help="a compact network whose overlapping windows share their convolutions when counting "
                             "(frames standardised by their neighbours, time pooled to the counting hop; README "
                             "'Counting with shared convolutions'). Default: the preset's choice (capuchinbird: yes); "
                             "--no-shared-trunk trains the window network, each window standardised as a whole")


def network_settings(args, frontend: FrontendConfig, network: dict, hop_s: float | None = None,
                     shared_by_default: bool = False) -> dict:
    """The compact network's settings `network`, made to share its convolutions at `hop_s` (default: the
    counting hop) when --shared-trunk was given, or neither flag was and `shared_by_default` (the preset's
    `shared_trunk`, which the caller passes: presets import this module) says so
    (`model.learning.networks.shared_trunk_network`)."""
    shared = getattr(args, "shared_trunk", None)
    if not (shared_by_default if shared is None else shared):
        return network
    from model.learning.networks import shared_trunk_network

    shape = {k: network[k] for k in ("filters", "centre_fraction") if k in network}  # else the builder's defaults
    return {**network, **shared_trunk_network(frontend, hop_s or CountingConfig.hop_s, **shape)}


# The shared-convolution network scores fewer windows of a call above the threshold than the window network,
# so its calls come out shorter: 2.0 s counted 3 and 10 labelled recordings' models better than 2.25 s (README,
# "Counting with shared convolutions"); 1.5 s then added false calls, short stretches with no harmonic stack. With
# the harmonic gate to drop those, 1.5 s found calls that few-label models scored as 1.5-2 s runs and added no
# false call in ten runs' saved scores (docs/throughput.md, "The minimum call with the harmonic gate"). 2.25 s
# (CountingConfig) stays the window network's.
SHARED_MIN_CALL_S = 1.5


def default_counting(network: dict) -> CountingConfig:
    """The counting settings a model starts from; validation recordings may choose others, and keep these on a tie."""
    if is_shared_trunk(network):
        return CountingConfig(min_call_s=SHARED_MIN_CALL_S)
    return CountingConfig()


def default_frontend(arch: str) -> FrontendConfig:
    """The seed network keeps the blog post's front end; every other network uses the defaults."""
    return SEED_FRONTEND if arch == "seed" else FrontendConfig()


def apply_swept_config(path: str | os.PathLike, config: TrainConfig) -> tuple[TrainConfig, FrontendConfig]:
    """(training settings, front end) with a sweep's best.json (see model.learning.sweep) applied over `config`."""
    from dataclasses import replace

    swept = json.loads(Path(path).read_text())
    config = replace(config, arch="compact", network=swept.get("network", {}),
                     learning_rate=swept.get("learning_rate", config.learning_rate),
                     batch_size=swept.get("batch_size", config.batch_size))
    return config, FrontendConfig.from_dict(swept["frontend"])


def class_weights(y: np.ndarray, n_classes: int = 2) -> dict[int, float]:
    """Weights that make every class count as much as any other in the loss."""
    counts = np.bincount(y.astype(int), minlength=n_classes)
    return {i: len(y) / (n_classes * max(1, c)) for i, c in enumerate(counts)}


# Training steps the network runs per call from Python. The compact network's steps are short enough for Python's
# work between them to show: the end-to-end test's training took 0.86-0.88x the time with 8 (0.90x with 32), to the
# same weights bit for bit. Callbacks still run every epoch; a progress bar moves every 8 steps. Under a
# tf.distribute strategy one step a call: Keras' loop of several fails there (TensorFlow 2.21, MirroredStrategy:
# "You must feed a value for placeholder tensor").
STEPS_PER_EXECUTION = 8


def _compile(net, config: TrainConfig, n_classes: int, learning_rate: float) -> None:
    import keras
    import tensorflow as tf

    if n_classes == 2:
        loss = "binary_crossentropy"
        metrics = [keras.metrics.Precision(name="precision"), keras.metrics.Recall(name="recall"),
                   keras.metrics.AUC(name="auc"), keras.metrics.AUC(curve="PR", name="pr_auc")]
    else:
        loss, metrics = "sparse_categorical_crossentropy", [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
    net.compile(jit_compile=config.jit_compile, optimizer=keras.optimizers.Adam(learning_rate), loss=loss, metrics=metrics,
                steps_per_execution=1 if tf.distribute.has_strategy() else STEPS_PER_EXECUTION)


def train(
    clips: pd.DataFrame,
    classes: list[str],
    run_dir: str | os.PathLike,
    config: TrainConfig = TrainConfig(),
    frontend: FrontendConfig | None = None,
    counting: CountingConfig | None = None,
    labels: pd.DataFrame | None = None,
    strategy=None,
    pooling: str = "max",
    labelled_by_hand: set[str] | None = None,
) -> Detector:
    """Train on `clips` (see data_pipeline.training_data.clips), save the detector and reports in `run_dir`.

    clips: may carry a `split` column (train/val/test) to fix the split, as cross-validation does;
        otherwise groups are split by `config.split_fractions`.
    pooling: how the windows of one file become the file's probabilities ("max" or "mean"; see
        model.detection.decisions.pool_by_file); saved with the detector for predict.py.

    labels: labelled calls of the long recordings the clips were cut from (if any); the validation
        recordings then choose the counting settings saved with the model, and the test recordings
        are counted and scored, and the calls counted where no label is are listed (unlabelled_calls.csv).
    labelled_by_hand: the recordings of `labels` a person labelled, the only ones that list is made for
        (self-training adds the calls a model guessed); default: all of them.
    strategy: an optional `tf.distribute.Strategy` (model.learning.distribution); the model is built and
        compiled in its scope, and config's batch size and learning rate, per replica, are scaled by
        the number of replicas.
    """
    import contextlib

    import keras

    from model.reporting.tensorboard_logging import TensorBoardExtras  # imports Keras: here, not when settings are checked

    n_classes = len(classes)
    if n_classes < 2:
        raise ValueError(f"need at least 2 classes to train, got {classes}")
    frontend = frontend or default_frontend(config.arch)
    if frontend.pulse_frame_length and config.augment is not None:
        raise ValueError("--augment mixes spectrograms, which a front end with a pulse panel cannot: use one or the other")
    with_bank = n_classes == 2 and config.negative_bank_per_kind > 0
    if with_bank:
        from data_pipeline.synthetic.negatives import check_sample_rate

        check_sample_rate(frontend.sample_rate_hz)
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(config.seed)
    replicas = 1 if strategy is None else strategy.num_replicas_in_sync
    if replicas > 1:
        config = scaled_for_replicas(config, strategy)
        print(f"{replicas} replicas: global batch {config.batch_size}, learning rate {config.learning_rate:g} "
              f"(per replica x {replicas})")

    table = clips.reset_index(drop=True).copy()
    if "split" not in table:
        table["split"] = group_split(table, config.split_fractions, config.seed)
    bank = backgrounds = None
    background_rows = _background_rows(table, classes[0], config) if with_bank else []
    features, kept, failures, waveforms = load_clips_and_waveforms(table, frontend, background_rows,
                                                                   backend=config.decoder)
    if with_bank:
        backgrounds = [waveforms[r] for r in background_rows if r in waveforms]
        bank = _negative_bank(backgrounds, frontend, run_dir, config).assign(label=classes[0])
        bank_features, bank_kept, bank_failures = load_clips(bank, frontend, features=True, backend=config.decoder,
                                                             progress=False)
        table = pd.concat([table, bank], ignore_index=True)
        features, kept = np.concatenate([features, bank_features]), np.concatenate([kept, bank_kept])
        failures += bank_failures
    del waveforms
    for line in failures:
        print(f"skipped {line}")
    table["used"] = kept
    atomic_write_csv(run_dir / "split.csv", table)
    targets = table["label"].map({c: i for i, c in enumerate(classes)}).to_numpy(np.float32 if n_classes == 2 else np.int32)

    masks = [kept & (table["split"] == split).to_numpy() for split in ("train", "val", "test")]
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = ((features[m], targets[m]) for m in masks)
    del features  # each split holds its own copy
    if len(np.unique(y_train)) < 2 or len(x_val) == 0:
        raise ValueError(f"not enough data to train: {len(x_train)} training and {len(x_val)} validation clips "
                         f"after the group split; need two classes in training and some validation clips")
    per_class = "/".join(str(int(np.sum(y_train == k))) for k in range(n_classes))
    print(f"clips: {len(x_train)} train ({per_class} per class {'/'.join(classes)}), {len(x_val)} validation, "
          f"{len(x_test)} test; groups never cross splits")

    order = EpochOrder()  # the clips' order is a function of (seed, epoch): a resumed run repeats it
    train_ds = feature_dataset(x_train, y_train, frontend, config.batch_size, shuffle=True,
                               augment=config.augment, seed=config.seed, epoch=order.epoch)
    val_ds = feature_dataset(x_val, y_val, frontend, config.batch_size)

    def in_scope():
        return strategy.scope() if strategy is not None else contextlib.nullcontext()

    with in_scope():
        keras.mixed_precision.set_global_policy("mixed_float16" if config.mixed_precision else "float32")
        try:
            net = build_model(config.arch, frontend.input_shape, n_classes, frontend=frontend, **config.network)
        finally:
            keras.mixed_precision.set_global_policy("float32")
        pretrained = getattr(net, "backbone_weights", None) is not None
        if pretrained:
            set_backbone_trainable(net, config.freeze_epochs <= 0)  # see _fit
        _compile(net, config, n_classes, config.learning_rate)
    callbacks = [
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.patience, restore_best_weights=True),
        keras.callbacks.TensorBoard(log_dir=str(run_dir / "logs")),
        keras.callbacks.CSVLogger(str(run_dir / "history.csv")),
        TensorBoardExtras(run_dir / "logs", x_val, y_val, classes),
        order.callback(),
        keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: stop_if_interrupted(),  # safe points
                                       on_test_batch_end=lambda batch, logs: stop_if_interrupted()),  # (model.interrupts)
    ]
    key = training_key(table, asdict(config), frontend.to_dict(), list(classes))
    history = _fit(net, train_ds, val_ds, callbacks, config, n_classes, class_weights(y_train, n_classes), in_scope,
                   StageState(run_dir, "fit", key, callbacks[0]), freeze_first=pretrained and config.freeze_epochs > 0)
    mined = None
    if bank is not None and config.hard_negative_pool_per_kind > 0:
        mined, history = _fit_on_hard_negatives(net, (x_train, y_train), (x_val, y_val), callbacks, history,
                                                backgrounds, frontend, run_dir, config, order, key)
    plot_history(pd.DataFrame(history), run_dir / "curves.png")

    counting = counting or default_counting(config.network)
    pulsing = harmonic = gliding = None  # of the calls in the files that decoded
    if len(classes) == 2 and counting.max_pulse_spread_db:
        pulsing = _most_pulsing_call_db(table[kept], labels, classes[1], frontend)
    if len(classes) == 2 and (counting.min_harmonicity or counting.max_pitch_glide_oct_s):
        harmonic, gliding = _sure_call_stacks(table[kept], labels, classes[1], frontend)
    counting = counting.for_labelled_calls(_longest_call_s(table, labels), pulsing, harmonic, gliding)
    detector = Detector(net, frontend, list(classes), config.arch, counting, pooling=pooling)
    detector.save(run_dir)

    report = {"train_config": asdict(config), "replicas": replicas, "failures": failures, "epochs_run": len(history["loss"]),
              "clips_per_label": table[kept].groupby("label").size().to_dict()}
    if bank is not None:
        report["negative_bank"] = bank.groupby("kind").size().to_dict()
    if mined is not None:
        report["hard_negatives"] = {"pool_per_kind": config.hard_negative_pool_per_kind,
                                    "threshold": config.hard_negative_threshold,
                                    "rounds": config.hard_negative_rounds,
                                    **{split: mined[mined["split"] == split].groupby("kind").size().to_dict()
                                       for split in ("train", "val")}}
    held_out = {"validation": (x_val, y_val, table.loc[masks[1]]), "test": (x_test, y_test, table.loc[masks[2]])}
    # Windows of a labelled recording carry both classes: pooling them per file would score nothing real.
    report.update(_evaluate_held_out(net, held_out, classes, frontend, config.batch_size, pooling, run_dir,
                                     per_file=labels is None))
    key = next(k for k in ("test_files", "test", "validation_files", "validation") if k in report)
    final = report[key]
    what = {"test_files": "test files (windows pooled per file)", "test": f"test clips ({frontend.clip_s:g} s windows)",
            "validation_files": "validation files (windows pooled per file)",
            "validation": f"validation clips ({frontend.clip_s:g} s windows)"}[key]
    plot_confusion(np.array(final["confusion"]), classes, run_dir / "confusion_matrix.png", what)
    f1s = ", ".join(f"{c} {m['f1']:.3f}" for c, m in final["per_class"].items())
    print(f"{what}: accuracy {final['accuracy']:.3f}, F1 per class: {f1s} ({final['clips']})")
    if labels is not None:  # what a detector is judged by: calls counted in whole recordings, last
        report.update(_tune_and_test_on_recordings(detector, table, labels, run_dir, labelled_by_hand))
    atomic_write_text(run_dir / "test_metrics.json", json.dumps(report, indent=2) + "\n")
    shutil.rmtree(run_dir / RESUME_DIR, ignore_errors=True)  # finished: nothing left to resume
    print(f"run folder: {run_dir}")
    return detector


def _background_rows(table: pd.DataFrame, negative: str, config: TrainConfig) -> list[int]:
    """Row positions of up to 48 of the training split's own negative clips, for the generated sounds to be
    mixed into: drawn from the training split only, so no held-out recording is heard in training."""
    pool = table[(table["split"] == "train") & (table["label"] == negative)]
    return pool.sample(min(len(pool), 48), random_state=config.seed).index.tolist() if len(pool) else []


def _negative_bank(backgrounds: list[np.ndarray], frontend: FrontendConfig, run_dir: Path,
                   config: TrainConfig) -> pd.DataFrame:
    """Clip rows for the generated non-call bank, all in the training split (validation and test stay
    the user's own data). The bank is written to run_dir/generated_negatives/ and listed, with its
    kinds, in generated_negatives.csv."""
    from data_pipeline.synthetic.negatives import write_negative_bank

    bank = write_negative_bank(run_dir / "generated_negatives", frontend.sample_rate_hz, frontend.clip_s,
                               seed=config.seed, per_kind=config.negative_bank_per_kind, backgrounds=backgrounds)
    atomic_write_csv(run_dir / "generated_negatives.csv", bank)
    print(f"generated non-call bank: {len(bank)} clips of {bank['kind'].nunique()} kinds, "
          f"{int(bank['mixed'].sum())} mixed into training negatives (run_dir/generated_negatives.csv)")
    return bank.assign(start=0.0, group="generated:" + bank["kind"], split="train")


def _fit_on_hard_negatives(net, train: tuple, val: tuple, callbacks: list, history: dict, backgrounds, frontend,
                           run_dir: Path, config: TrainConfig, order: EpochOrder, key: str) -> tuple[pd.DataFrame, dict]:
    """Mine generated clips the fitted network calls and fit on with them among the training negatives for at
    most `hard_negative_epochs` (or `epochs`, if fewer), for up to `hard_negative_rounds` rounds; (mined rows,
    history of every epoch).

    Each round mines two fresh pools, from two seeds: one for training, one for validation. Early stopping
    watches the validation clips together with every round's mined validation clips, so it keeps the epoch
    that best rejects them too; the user's validation clips alone would not see what the mining is for. The
    clips mined in earlier rounds stay. Written to run_dir/mined_negatives/round<r>/<split>/ and listed in
    mined_negatives.csv (round, split). Each round's fit is a stage of its own, so a killed run resumes.
    """
    import keras

    from model.learning.hard_negatives import mine_hard_negatives

    def plus(data, x):
        return np.concatenate([data[0], x]), np.concatenate([data[1], np.zeros(len(x), data[1].dtype)])

    for callback in callbacks:
        if isinstance(callback, keras.callbacks.CSVLogger):
            callback.append = True  # the history goes on in the same file
    folder, at, tables = run_dir / "mined_negatives", config.hard_negative_threshold, []
    mine = functools.partial(mine_hard_negatives, net, frontend, per_kind=config.hard_negative_pool_per_kind,
                             backgrounds=backgrounds, threshold=at)
    for r in range(1, config.hard_negative_rounds + 1):
        seed = config.seed + (2 * r - 1) * MINING_SEED_OFFSET
        x_mined, mined, pool = mine(folder / f"round{r}" / "train", seed)
        x_check, check, _ = mine(folder / f"round{r}" / "val", seed + MINING_SEED_OFFSET)
        table = pd.concat([mined.assign(split="train"), check.assign(split="val")], ignore_index=True).assign(round=r)
        tables.append(table)
        atomic_write_csv(run_dir / "mined_negatives.csv", pd.concat(tables, ignore_index=True))
        print(f"hard negatives, round {r}: {len(mined)} + {len(check)} of 2 x {pool} further generated clips scored "
              f">= {at} ({', '.join(f'{k} {n}' for k, n in table['kind'].value_counts().items()) or 'none'}; "
              f"mined_negatives.csv)")
        if not len(mined):
            break
        train, val = plus(train, x_mined), plus(val, x_check)
        train_ds = feature_dataset(*train, frontend, config.batch_size, shuffle=True, augment=config.augment,
                                   seed=config.seed + r, epoch=order.epoch)
        val_ds = feature_dataset(*val, frontend, config.batch_size)
        done = len(history["loss"])
        fit = dict(validation_data=val_ds, class_weight=class_weights(train[1]), verbose=config.verbose, shuffle=False)
        stage = StageState(run_dir, "mining" if r == 1 else f"mining{r}", key, callbacks[0])
        round_epochs = min(config.hard_negative_epochs, config.epochs)
        history = _resumable_fit(net, train_ds, callbacks, stage, history, done, done + round_epochs, fit)
    return pd.concat(tables, ignore_index=True), history


def _resumable_fit(net, train_ds, callbacks: list, stage: StageState, history: dict, start: int, epochs: int,
                   fit: dict) -> dict:
    """net.fit from epoch `start` to `epochs`, going on from `stage`'s saved state when an earlier run of
    the same training was stopped (model.learning.training_state); the history of every epoch, those
    before `start` (`history`) included."""
    finished = stage.finished(net)
    if finished is not None:
        print(f"resuming: the {stage.done_path.stem.split('.')[0]} stage had finished ({stage.done_path})")
        return finished
    done, before, stopped = stage.pending()
    csv_log = callbacks[2]
    if done:
        print(f"resuming after epoch {done} ({stage.epoch_path}; delete {stage.folder} to start over)")
        _write_history_csv(Path(csv_log.filename), before)  # the rows of the epochs saved, no more
        csv_log.append = True
    else:
        before = history
    with deferred():  # a Ctrl-C stops training after the batch, not inside TensorFlow (model.interrupts)
        more = net.fit(train_ds, epochs=epochs, initial_epoch=epochs if stopped else max(start, done),
                       callbacks=callbacks + [stage.callback(before)], **fit).history
    merged = {k: before.get(k, []) + more.get(k, []) for k in {*before, *more}}
    stage.finish(net, merged)
    return merged


def _write_history_csv(path: Path, history: dict) -> None:
    """history.csv as Keras' CSVLogger writes it: epoch, then the metrics in sorted order."""
    epochs = len(history.get("loss", []))
    table = pd.DataFrame({"epoch": range(epochs), **{k: history[k] for k in sorted(history)}})
    atomic_write_csv(path, table)


def _fit(net, train_ds, val_ds, callbacks: list, config: TrainConfig, n_classes: int, weights: dict, in_scope,
         stage: StageState, freeze_first: bool = False) -> dict:
    """Fit with the callbacks (early stopping first); returns the history of every epoch.

    freeze_first: the backbone is frozen for the first `config.freeze_epochs` (head first, so the
    random head does not wreck the pretrained features), then unfrozen and fine-tuned at a lower rate.
    """
    fit = dict(validation_data=val_ds, class_weight=weights, verbose=config.verbose,
               shuffle=False)  # the dataset shuffles itself, every epoch
    history, start = {}, 0
    if freeze_first:
        tensorboard, csv_log = callbacks[1], callbacks[2]
        with deferred():
            history = net.fit(train_ds, epochs=config.freeze_epochs, callbacks=[tensorboard, csv_log, callbacks[-1]],
                              **fit).history
        csv_log.append = True  # the fine-tuning epochs continue the same history.csv
        start = config.freeze_epochs
        if config.epochs > start:  # otherwise the backbone stays frozen, for any fit that follows too
            set_backbone_trainable(net, True)
            with in_scope():
                _compile(net, config, n_classes, config.learning_rate * config.fine_tune_factor)
    if config.epochs > start:
        history = _resumable_fit(net, train_ds, callbacks, stage, history, start, config.epochs, fit)
    return history


def _evaluate_held_out(net, held_out: dict, classes: list[str], frontend: FrontendConfig, batch_size: int,
                       pooling: str, run_dir: Path, per_file: bool = True) -> dict:
    """Metrics per held-out split (per clip, and per file when files were windowed); predictions,
    top losses and embedding plot for the test clips (validation clips when there is no test split)."""
    report, scored = {}, {}
    for name, (x, y, rows) in held_out.items():
        if not len(x):
            continue
        probs = as_class_probabilities(net.predict(feature_dataset(x, None, frontend, batch_size), verbose=0))
        report[name] = clip_metrics(y, probs, classes)
        files = rows["file"].to_numpy()
        if per_file and len(set(files)) < len(files):  # windows of longer files: also one decision per file
            names, pooled = pool_by_file(files, probs, pooling)
            truth = pd.Series(y, index=files).groupby(level=0).first().reindex(names).to_numpy()
            report[f"{name}_files"] = clip_metrics(truth, pooled, classes)
        scored[name] = (x, y, probs, rows)
    name = "test" if "test" in scored else "validation"
    x, y, probs, rows = scored[name]
    predictions = prediction_table(rows, probs, classes)
    atomic_write_csv(run_dir / "predictions.csv", predictions)
    plot_top_losses(predictions, x, frontend, run_dir / "top_losses.png", title=f"worst {name} clips")
    shown = embedding_sample(len(x))
    plot_embedding(embedding_features(net, x[shown]), y[shown].astype(int), classes, run_dir / "embedding.png",
                   title=f"t-SNE of the network's features, {name} clips")
    return report


def _longest_call_s(table: pd.DataFrame, labels: pd.DataFrame | None) -> float | None:
    """The longest labelled call of the recordings training and validation drew on (None: no call lengths)."""
    if labels is None or len(labels) == 0:
        return None
    heard = {Path(f).name for f in table.loc[table["split"] != "test", "file"].unique()}
    lengths = (labels["end"] - labels["start"])[labels["recording"].isin(heard)].dropna()
    return float(lengths.max()) if len(lengths) else None


def _most_pulsing_call_db(table: pd.DataFrame, labels: pd.DataFrame | None, call_class: str,
                          frontend: FrontendConfig) -> float | None:
    """The highest pulse spread (dB) among the calls training and validation drew on, each measured as the pulse
    gate measures a call (data_pipeline.features.pulsing; `_heard_call_stretches`); None: none measured, or no
    gate to set."""
    from data_pipeline.audio.decoding import read_stretch
    from data_pipeline.features.pulsing import pulse_frontend, stretch_pulse_spread_db

    measuring = pulse_frontend(frontend)
    if measuring is None:
        return None
    spreads = [stretch_pulse_spread_db(read_stretch(f, start, end, frontend.sample_rate_hz), measuring)
               for f, start, end in _heard_call_stretches(table, labels, call_class, frontend)]
    spreads = [s for s in spreads if np.isfinite(s)]
    return max(spreads) if spreads else None


def _sure_call_stacks(table: pd.DataFrame, labels: pd.DataFrame | None, call_class: str,
                      frontend: FrontendConfig) -> tuple[float | None, float | None]:
    """(the lowest harmonicity, the fastest pitch glide) among the sure calls training and validation drew on, each
    measured as the harmonic and pitch-glide gates measure a call (data_pipeline.features.harmonicity); faint calls,
    which no count needs, are left out. None: none measured."""
    from data_pipeline.audio.decoding import read_stretch
    from data_pipeline.features.harmonicity import stretch_stack

    rate = frontend.sample_rate_hz
    measured = [stretch_stack(read_stretch(f, start, end, rate), rate)
                for f, start, end in _heard_call_stretches(table, labels, call_class, frontend, ("sure",))]
    harmonic = [h for h, _ in measured if np.isfinite(h)]
    gliding = [g for _, g in measured if np.isfinite(g)]
    return min(harmonic) if harmonic else None, max(gliding) if gliding else None


def _heard_call_stretches(table: pd.DataFrame, labels: pd.DataFrame | None, call_class: str, frontend: FrontendConfig,
                          confidences: tuple[str, ...] = ("sure", "faint")) -> list[tuple[str, float, float]]:
    """(file, start, end) of every call training and validation drew on: the labelled calls of their recordings
    whole, and each call clip from elsewhere (a folder of clips) as it was cut."""
    heard = table[table["split"] != "test"]
    labelled = set(labels["recording"]) if labels is not None else set()
    files = {Path(f).name: f for f in heard["file"].unique()}
    stretches = [(files[c.recording], c.start, c.end) for c in (labels.itertuples() if labels is not None else [])
                 if c.recording in files and c.confidence in confidences]
    clips = heard[(heard["label"] == call_class) & ~heard["file"].map(lambda f: Path(f).name in labelled)]
    return stretches + [(c.file, c.start, c.start + frontend.clip_s) for c in clips.itertuples()]


def _labelled_recordings(table: pd.DataFrame, labels: pd.DataFrame, split: str) -> list[str]:
    names = set(labels["recording"])
    files = table.loc[table["split"] == split, "file"].unique()
    return sorted(f for f in files if Path(f).name in names)


def _tune_and_test_on_recordings(detector: Detector, table: pd.DataFrame, labels: pd.DataFrame, run_dir: Path,
                                 labelled_by_hand: set[str] | None = None) -> dict:
    """Choose counting settings on the validation recordings; count and score the test recordings; list the calls
    counted in labelled recordings where no label is (model.learning.unlabelled_calls)."""
    report = {}
    val = _labelled_recordings(table, labels, "val")
    if val:
        scores = [score_recording(detector, f) for f in val]
        best, tried = tune_counting(scores, labels, detector.frontend.clip_s, detector.counting)
        warn_if_not_learnt(tried, labels, [Path(f).name for f in val])
        atomic_write_csv(run_dir / "counting_tuning.csv", tried)
        detector.counting = best
        detector.save_config(run_dir)
        report["counting"] = best.to_dict()
        report["validation_recordings"] = {"recordings": [Path(f).name for f in val], **tried.iloc[0].to_dict()}
        print(f"counting settings chosen on {len(val)} validation recordings: {best}")
    test = _labelled_recordings(table, labels, "test")
    counted = {}
    if test:
        result = count_calls(detector, test, progress=False)
        per_rec, summary = evaluate(result.events, labels, list(result.counts["recording"]))
        atomic_write_csv(run_dir / "test_recordings.csv", per_rec)
        report["test_recordings"] = summary
        print(f"test recordings (calls counted and matched to the labelled calls): {format_summary(summary)}")
        counted["test"] = result.events
    negative = detector.classes[1 - detector.positive_class]
    checked = background_recordings(table, labels, negative, labelled_by_hand)
    report["unlabelled_calls"] = check_for_unlabelled_calls(detector, checked, labels, run_dir, counted)
    return report
