"""Train a detector from a clip table and write everything about the run into one folder.

    RUN_DIR/model.keras, detector.json   the detector (see model.detector)
    RUN_DIR/split.csv                    every clip with its split, so the run can be audited
    RUN_DIR/history.csv, curves.png      loss and metrics per epoch
    RUN_DIR/logs/                        TensorBoard (`tensorboard --logdir runs`)
    RUN_DIR/test_metrics.json            precision, recall, F1 on held-out clips; with labelled
                                         recordings also event F1 and count MAE on test recordings
    RUN_DIR/confusion_matrix.png
    RUN_DIR/counting_tuning.csv          with labelled recordings: every counting setting tried on the
                                         validation recordings, best first (the best is saved)

Everything that happens during fit is a Keras callback (early stopping restoring the best weights,
TensorBoard, CSV history).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from data_pipeline.augment import AugmentConfig
from data_pipeline.clips import group_split, load_clips
from data_pipeline.datasets import feature_dataset
from data_pipeline.frontend import SEED_FRONTEND, FrontendConfig
from model.counting import count_calls, score_recording
from model.detector import Detector
from model.evaluation import clip_metrics, evaluate, format_summary
from model.events import CountingConfig
from model.networks import build_model
from model.outputs import atomic_write_csv, atomic_write_text
from model.plots import plot_confusion, plot_history
from model.tensorboard_logging import TensorBoardExtras
from model.tuning import tune_counting


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
    augment: AugmentConfig | None = None  # see data_pipeline.augment
    # GPU options, off by default: on 2 CPU cores both made training slower (README, Throughput).
    mixed_precision: bool = False  # float16 compute, float32 weights and output
    jit_compile: bool = False  # XLA
    verbose: int = 2  # Keras: 1 = progress bar, 2 = one line per epoch (better in logs)


def default_frontend(arch: str) -> FrontendConfig:
    """The seed network keeps the blog post's front end; every other network uses the defaults."""
    return SEED_FRONTEND if arch == "seed" else FrontendConfig()


def apply_swept_config(path: str | os.PathLike, config: TrainConfig) -> tuple[TrainConfig, FrontendConfig]:
    """(training settings, front end) with a sweep's best.json (see model.sweep) applied over `config`."""
    from dataclasses import replace

    swept = json.loads(Path(path).read_text())
    config = replace(config, arch="compact", network=swept.get("network", {}),
                     learning_rate=swept.get("learning_rate", config.learning_rate),
                     batch_size=swept.get("batch_size", config.batch_size))
    return config, FrontendConfig.from_dict(swept["frontend"])


def class_weights(y: np.ndarray) -> dict[int, float]:
    """Weights that make each of the two classes count as much as the other in the loss."""
    counts = np.bincount(y.astype(int), minlength=2)
    return {i: len(y) / (2.0 * max(1, c)) for i, c in enumerate(counts)}


def train(
    clips: pd.DataFrame,
    classes: list[str],
    run_dir: str | os.PathLike,
    config: TrainConfig = TrainConfig(),
    frontend: FrontendConfig | None = None,
    counting: CountingConfig | None = None,
    labels: pd.DataFrame | None = None,
    strategy=None,
) -> Detector:
    """Train on `clips` (see data_pipeline.clips), save the detector and reports in `run_dir`.

    labels: labelled calls of the long recordings the clips were cut from (if any); the validation
        recordings then choose the counting settings saved with the model, and the test recordings
        are counted and scored.
    strategy: an optional `tf.distribute.Strategy`; the model is built and compiled in its scope.
    """
    import contextlib

    import keras

    if len(classes) != 2:
        raise ValueError(f"training supports 2 classes (call / no call) so far; got {len(classes)}: {classes}")
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    frontend = frontend or default_frontend(config.arch)
    keras.utils.set_random_seed(config.seed)

    table = clips.reset_index(drop=True).copy()
    table["split"] = group_split(table, config.split_fractions, config.seed)
    features, kept, failures = load_clips(table, frontend, features=True, backend=config.decoder)
    for line in failures:
        print(f"skipped {line}")
    table["used"] = kept
    atomic_write_csv(run_dir / "split.csv", table)
    targets = table["label"].map({c: i for i, c in enumerate(classes)}).to_numpy(np.float32)

    masks = [kept & (table["split"] == split).to_numpy() for split in ("train", "val", "test")]
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = ((features[m], targets[m]) for m in masks)
    del features  # each split holds its own copy
    if len(np.unique(y_train)) < 2 or len(x_val) == 0:
        raise ValueError(f"not enough data to train: {len(x_train)} training and {len(x_val)} validation clips "
                         f"after the group split; need both classes in training and some validation clips")
    print(f"clips: {len(x_train)} train, {len(x_val)} validation, {len(x_test)} test "
          f"(positives {int(y_train.sum())}/{int(y_val.sum())}/{int(y_test.sum())}); groups never cross splits")

    train_ds = feature_dataset(x_train, y_train, frontend, config.batch_size, shuffle=True,
                                   augment=config.augment, seed=config.seed)
    val_ds = feature_dataset(x_val, y_val, frontend, config.batch_size)

    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        keras.mixed_precision.set_global_policy("mixed_float16" if config.mixed_precision else "float32")
        try:
            net = build_model(config.arch, frontend.input_shape, len(classes), **config.network)
        finally:
            keras.mixed_precision.set_global_policy("float32")
        net.compile(
            jit_compile=config.jit_compile,
            optimizer=keras.optimizers.Adam(config.learning_rate),
            loss="binary_crossentropy",
            metrics=[keras.metrics.Precision(name="precision"), keras.metrics.Recall(name="recall"),
                     keras.metrics.AUC(name="auc"), keras.metrics.AUC(curve="PR", name="pr_auc")],
        )
    callbacks = [
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.patience, restore_best_weights=True),
        keras.callbacks.TensorBoard(log_dir=str(run_dir / "logs")),
        keras.callbacks.CSVLogger(str(run_dir / "history.csv")),
        TensorBoardExtras(run_dir / "logs", x_val, y_val, classes),
    ]
    history = net.fit(train_ds, validation_data=val_ds, epochs=config.epochs, class_weight=class_weights(y_train),
                      callbacks=callbacks, verbose=config.verbose,
                      shuffle=False)  # the dataset shuffles itself, every epoch
    plot_history(pd.DataFrame(history.history), run_dir / "curves.png")

    detector = Detector(net, frontend, list(classes), config.arch, counting or CountingConfig())
    detector.save(run_dir)

    report = {"train_config": asdict(config), "failures": failures,
              "epochs_run": len(history.history["loss"])}
    for name, (x, y) in {"validation": (x_val, y_val), "test": (x_test, y_test)}.items():
        if len(x):
            prob = net.predict(feature_dataset(x, None, frontend, config.batch_size), verbose=0)[:, 0]
            report[name] = clip_metrics(y, prob)
    if labels is not None:
        report.update(_tune_and_test_on_recordings(detector, table, labels, run_dir))
    final = report.get("test", report["validation"])
    plot_confusion(np.array(final["confusion"]), classes, run_dir / "confusion_matrix.png",
                   "test clips" if "test" in report else "validation clips")
    atomic_write_text(run_dir / "test_metrics.json", json.dumps(report, indent=2) + "\n")
    m = final
    print(f"held-out clips: precision {m['precision']:.3f}, recall {m['recall']:.3f}, F1 {m['f1']:.3f} "
          f"({m['clips']} clips); run folder {run_dir}")
    return detector


def _labelled_recordings(table: pd.DataFrame, labels: pd.DataFrame, split: str) -> list[str]:
    names = set(labels["recording"])
    files = table.loc[table["split"] == split, "file"].unique()
    return sorted(f for f in files if Path(f).name in names)


def _tune_and_test_on_recordings(detector: Detector, table: pd.DataFrame, labels: pd.DataFrame, run_dir: Path) -> dict:
    """Choose counting settings on the validation recordings; count and score the test recordings."""
    report = {}
    val = _labelled_recordings(table, labels, "val")
    if val:
        scores = [score_recording(detector, f) for f in val]
        best, tried = tune_counting(scores, labels, detector.frontend.clip_s, detector.counting)
        atomic_write_csv(run_dir / "counting_tuning.csv", tried)
        detector.counting = best
        detector.save_config(run_dir)
        report["counting"] = best.to_dict()
        report["validation_recordings"] = {"recordings": [Path(f).name for f in val], **tried.iloc[0].to_dict()}
        print(f"counting settings chosen on {len(val)} validation recordings: {best}")
    test = _labelled_recordings(table, labels, "test")
    if test:
        result = count_calls(detector, test, progress=False)
        per_rec, summary = evaluate(result.events, labels, list(result.counts["recording"]))
        atomic_write_csv(run_dir / "test_recordings.csv", per_rec)
        report["test_recordings"] = summary
        print(f"test recordings: {format_summary(summary)}")
    return report
