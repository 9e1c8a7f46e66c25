"""Training that survives a kill: every finished epoch's state on disk, and a rerun that goes on from it.

    RUN_DIR/resume/<stage>.npz        after each epoch (written atomically): every variable of the
                                      network (weights and dropout's random state), the optimizer's,
                                      early stopping's progress and best weights, the history so far
    RUN_DIR/resume/<stage>.done.npz   the same when the stage's fit has returned

A stage is one `fit` of model.learning.training (the first fit, then one fit per round of mined hard negatives).
Rerunning the same command with the same --run-dir skips finished stages and goes on from the last
finished epoch, and ends as the uninterrupted run would: the same epochs, the same weights, the same
metrics, because the clips come in an order fixed by (seed, epoch) (EpochOrder) and dropout's random
state is restored with the weights. Keras' BackupAndRestore keeps weights, optimizer and epoch only;
without early stopping's progress and the random state a resumed run ends elsewhere. Each state
records a key of the data and settings it was made with; a state with another key is refused. The
folder is removed when training has finished.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from model.outputs import atomic_savez

RESUME_DIR = "resume"


class EpochOrder:
    """The epoch counter the training clips are ordered by (data_pipeline.training_data.datasets)."""

    def __init__(self):
        import tensorflow as tf

        self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False)

    def callback(self):
        import keras

        order = self

        class SetEpoch(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                order.epoch.assign(epoch)

        return SetEpoch()


def _variables(net) -> list:
    """Everything that must come back for a run to go on as if never stopped, in a fixed order."""
    return list(net.variables) + list(net.optimizer.variables)


class StageState:
    """The saved state of one training stage; `callback()` saves it after each epoch and, at the start
    of `fit`, puts the saved one back (after early stopping has reset itself)."""

    def __init__(self, run_dir: str | os.PathLike, stage: str, key: str, early_stopping):
        self.folder = Path(run_dir) / RESUME_DIR
        self.epoch_path = self.folder / f"{stage}.npz"
        self.done_path = self.folder / f"{stage}.done.npz"
        self.key, self.early_stopping = key, early_stopping

    def _read(self, path: Path) -> tuple[dict, list[np.ndarray], list[np.ndarray]] | None:
        if not path.exists():
            return None
        with np.load(path) as saved:
            meta = json.loads(str(saved["meta"]))
            if meta["key"] != self.key:
                raise ValueError(f"{path}: an interrupted training with other data or settings is saved here; "
                                 f"delete {self.folder} to start over, or train into another --run-dir")
            variables = [saved[f"v{i}"] for i in range(meta["variables"])]
            best = [saved[f"b{i}"] for i in range(meta["best_weights"])]
        return meta, variables, best

    def _write(self, path: Path, net, epochs_done: int, history: dict) -> None:
        es = self.early_stopping
        best = es.best_weights or []
        meta = {"key": self.key, "epochs_done": epochs_done, "history": history, "stop_training": bool(net.stop_training),
                "variables": len(_variables(net)), "best_weights": len(best),
                "early_stopping": {"wait": es.wait, "best": None if es.best is None else float(es.best),
                                   "best_epoch": es.best_epoch, "stopped_epoch": es.stopped_epoch}}
        arrays = {f"v{i}": np.asarray(v.numpy()) for i, v in enumerate(_variables(net))}
        arrays.update({f"b{i}": w for i, w in enumerate(best)})
        atomic_savez(path, meta=json.dumps(meta), **arrays)

    @staticmethod
    def _assign(net, values: list[np.ndarray]) -> None:
        if not net.optimizer.built:
            net.optimizer.build(net.trainable_variables)
        for variable, value in zip(_variables(net), values, strict=True):
            variable.assign(value)

    def finished(self, net) -> dict | None:
        """The history of this stage when it had finished before (its end state put back into `net`)."""
        saved = self._read(self.done_path)
        if saved is None:
            return None
        meta, variables, _ = saved
        self._assign(net, variables)
        return meta["history"]

    def pending(self) -> tuple[int, dict, bool]:
        """(epochs already done, their history, whether early stopping had ended the stage)."""
        saved = self._read(self.epoch_path)
        if saved is None:
            return 0, {}, False
        meta = saved[0]
        return meta["epochs_done"], meta["history"], meta["stop_training"]

    def finish(self, net, history: dict) -> None:
        self._write(self.done_path, net, len(history.get("loss", [])), history)

    def callback(self, history_before: dict):
        """Saves after every epoch (the history includes `history_before`); restores at train begin."""
        import keras

        state = self

        class SaveEachEpoch(keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.history = {k: list(v) for k, v in history_before.items()}

            def on_train_begin(self, logs=None):
                es = state.early_stopping
                # Every stage judges its epochs afresh: Keras 3.12.4 (the newest for Python 3.10) resets all of early
                # stopping's state at a fit's start but its best value, so a mining round, validated on harder clips
                # than the fit before, never beat that value and kept its first epoch's weights; Keras 3.15 resets it
                # (keras-team/keras pull request 22967).
                es.best = None
                saved = state._read(state.epoch_path)
                if saved is None:
                    return
                meta, variables, best = saved
                state._assign(self.model, variables)
                es.wait, es.best = meta["early_stopping"]["wait"], meta["early_stopping"]["best"]
                es.best_epoch, es.stopped_epoch = meta["early_stopping"]["best_epoch"], meta["early_stopping"]["stopped_epoch"]
                es.best_weights = best or None

            def on_epoch_end(self, epoch, logs=None):
                for name, value in (logs or {}).items():
                    self.history.setdefault(name, []).append(float(value))
                state._write(state.epoch_path, self.model, epoch + 1, self.history)

        return SaveEachEpoch()


def training_key(table, config: dict, frontend: dict, classes: list[str]) -> str:
    """What a saved state belongs to: the clips, their labels and splits, the settings."""
    import hashlib

    columns = [c for c in ("path", "start", "label", "split", "used") if c in table]
    digest = hashlib.sha256(table[columns].to_csv(index=False).encode())
    digest.update(json.dumps({"config": config, "frontend": frontend, "classes": classes}, sort_keys=True,
                             default=str).encode())
    return digest.hexdigest()[:16]
