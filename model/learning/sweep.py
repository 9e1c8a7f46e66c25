"""keras-tuner sweeps over the front end and the network, judged by validation PR-AUC.

PR-AUC on held-out clips, not accuracy: calls are rare, and what counting needs is a score that
ranks call windows above the rest. Every trial's settings and scores go to TensorBoard's HParams
dashboard (SWEEP_DIR/logs) and, at the end, to SWEEP_DIR/trials.csv (best first); the winner is
saved as SWEEP_DIR/best.json, which `python train.py --config best.json` retrains from.

Features depend on the front end, so each distinct front end is computed once and kept for the
sweep. The split is fixed by source group before the sweep, so every trial sees the same clips.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import time
from pathlib import Path
from typing import Callable

import keras_tuner as kt
import numpy as np
import pandas as pd

from data_pipeline.features.frontend import FrontendConfig
from data_pipeline.training_data.clips import group_split, load_clips
from data_pipeline.training_data.datasets import feature_dataset
from model.learning.distributed_sweep import heartbeats_while_training, requeue_lost_workers
from model.learning.networks import build_compact
from model.learning.sweep_settings import OBJECTIVE, check_sweep_settings, distributed_role, is_worker
from model.learning.training import class_weights
from model.outputs import atomic_write_csv, atomic_write_text


def frontend_from_hp(hp) -> FrontendConfig:
    frame_length = hp.Choice("frame_length", [400, 512, 1024])
    return FrontendConfig(
        clip_s=hp.Choice("clip_s", [2.0, 3.0, 4.0]),
        frame_length=frame_length,
        frame_step=hp.Choice("frame_step", [200, 400]),  # both divide the 0.25 s counting hop
        fft_length=max(512, 2 ** math.ceil(math.log2(frame_length))),
        max_freq_hz=hp.Choice("max_freq_hz", [2000.0, 2500.0, 4000.0]),
    )


def network_from_hp(hp) -> dict:
    base, depth = hp.Choice("base_filters", [8, 16, 32]), hp.Int("depth", 3, 5)
    return {"filters": [min(64, base * 2**i) for i in range(depth)], "dropout": hp.Float("dropout", 0.1, 0.5, step=0.1),
            "centre_fraction": hp.Choice("centre_fraction", [0.125, 0.25, 0.5])}


def config_from_hp(hp) -> dict:
    """The JSON `train.py --config` reads: front end, network and optimiser settings."""
    return {"frontend": frontend_from_hp(hp).to_dict(), "network": network_from_hp(hp),
            "learning_rate": hp.Float("learning_rate", 1e-4, 3e-3, sampling="log"),
            "batch_size": hp.Choice("batch_size", [16, 32, 64])}


class DetectorHyperModel(kt.HyperModel):
    """Builds the network and its data for one trial's hyperparameters."""

    def __init__(self, make_table: Callable[[float], pd.DataFrame], classes: list[str], split_of_group: dict, seed: int):
        super().__init__()
        self.make_table, self.classes, self.split_of_group, self.seed = make_table, classes, split_of_group, seed
        self._features: dict[str, tuple] = {}

    def data(self, frontend: FrontendConfig):
        key = json.dumps(frontend.to_dict(), sort_keys=True)
        if key not in self._features:
            table = self.make_table(frontend.clip_s)
            features, kept, _ = load_clips(table, frontend, features=True, progress=False)
            split = table["group"].map(self.split_of_group).to_numpy()
            y = table["label"].map({c: i for i, c in enumerate(self.classes)}).to_numpy(np.float32)
            self._features[key] = tuple((features[kept & (split == s)], y[kept & (split == s)]) for s in ("train", "val"))
        return self._features[key]

    def build(self, hp):
        import keras

        config = config_from_hp(hp)
        fe = FrontendConfig.from_dict(config["frontend"])
        net = build_compact(fe.input_shape, len(self.classes), panels=fe.panels, **config["network"])
        net.compile(optimizer=keras.optimizers.Adam(config["learning_rate"]), loss="binary_crossentropy",
                    metrics=[keras.metrics.AUC(curve="PR", name="pr_auc")])
        return net

    def fit(self, hp, model, *args, **kwargs):
        config = config_from_hp(hp)
        fe = FrontendConfig.from_dict(config["frontend"])
        (x_train, y_train), (x_val, y_val) = self.data(fe)
        train_ds = feature_dataset(x_train, y_train, fe, config["batch_size"], shuffle=True, seed=self.seed)
        val_ds = feature_dataset(x_val, y_val, fe, config["batch_size"])
        return model.fit(train_ds, validation_data=val_ds, class_weight=class_weights(y_train), shuffle=False, *args, **kwargs)


def run_sweep(
    make_table: Callable[[float], pd.DataFrame],
    classes: list[str],
    out_dir: str | os.PathLike,
    tuner: str = "hyperband",
    max_trials: int = 20,
    max_epochs: int = 10,
    time_budget_s: float | None = None,
    resume: bool = False,
    seed: int = 0,
    worker_silence_s: float = 0.0,
) -> pd.DataFrame | None:
    """Run a sweep; returns the trials table (best first) and writes trials.csv and best.json.

    In keras-tuner's distributed mode (distributed_role) the chief does that once every worker is done;
    a worker runs the trials it is handed, into the same `out_dir`, and returns None. The chief hands the
    trial of a worker silent for `worker_silence_s` to the next (model.learning.distributed_sweep; 0: never).
    """
    import keras

    out_dir = Path(out_dir)
    role = distributed_role()
    resume = check_sweep_settings(out_dir, tuner, max_trials, max_epochs, time_budget_s, resume, worker_silence_s)
    if len(classes) != 2:
        raise ValueError(f"sweeps tune call detectors (2 classes; objective {OBJECTIVE}); this data has {len(classes)}. "
                         f"Compare settings for N classes with benchmarks/preset_variants.py")
    reference = make_table(FrontendConfig().clip_s)
    split = group_split(reference, (0.8, 0.2, 0.0), seed)
    split_of_group = dict(zip(reference["group"], split))
    hypermodel = DetectorHyperModel(make_table, classes, split_of_group, seed)
    objective = kt.Objective(OBJECTIVE, direction="max")
    common = dict(objective=objective, seed=seed, directory=str(out_dir), project_name="trials", overwrite=False)
    if tuner == "hyperband":
        search = kt.Hyperband(hypermodel, max_epochs=max_epochs, factor=3, **common)
    elif tuner == "bayesian":
        search = kt.BayesianOptimization(hypermodel, max_trials=max_trials, **common)
    else:
        search = kt.RandomSearch(hypermodel, max_trials=max_trials, **common)
    search.oracle.max_trials = max_trials  # Hyperband has no cap of its own

    start = time.time()
    on_trial_end = search.on_trial_end

    def stop_when_over_budget(trial):
        on_trial_end(trial)
        if time_budget_s is not None and time.time() - start > time_budget_s:
            search.oracle.max_trials = len(search.oracle.trials)  # ends after this trial; state stays resumable

    search.on_trial_end = stop_when_over_budget
    keras.utils.set_random_seed(seed)
    epochs = {} if tuner == "hyperband" else {"epochs": max_epochs}
    if role == "chief":
        watched = requeue_lost_workers(search.oracle, worker_silence_s)
    else:
        watched = heartbeats_while_training(search) if is_worker(role) else contextlib.nullcontext()
    with watched:
        search.search(callbacks=[keras.callbacks.TensorBoard(log_dir=str(out_dir / "logs")),
                                 keras.callbacks.EarlyStopping(monitor=OBJECTIVE, mode="max", patience=3)],
                      verbose=1, **epochs)
    if is_worker(role):
        return None

    trials = [t for t in search.oracle.trials.values() if t.score is not None]
    table = pd.DataFrame([{"trial": t.trial_id, **t.hyperparameters.values, OBJECTIVE: t.score} for t in trials])
    table = table.sort_values(OBJECTIVE, ascending=False, ignore_index=True)
    atomic_write_csv(out_dir / "trials.csv", table)
    best = search.oracle.get_best_trials(1)[0]
    atomic_write_text(out_dir / "best.json", json.dumps(config_from_hp(best.hyperparameters), indent=2) + "\n")
    return table
