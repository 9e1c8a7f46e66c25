"""Training on several devices or machines with tf.distribute (`train.py --strategy`).

    mirrored      every GPU this machine shows (tf.distribute.MirroredStrategy); with none, the CPU
    multiworker   the GPUs (or CPUs) of several processes or machines, described by TF_CONFIG
                  (tf.distribute.MultiWorkerMirroredStrategy)

`--batch-size` and `--learning-rate` are per replica: the global batch is the batch size times the
number of replicas, and the learning rate is scaled by the same factor (the linear scaling rule),
so adding devices shortens an epoch without changing the size of each update per example seen.

With multiworker, every process runs the same training; only the chief (task 0) writes the run
folder, the others write into a temporary folder that is removed at the end.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace

STRATEGIES = ("none", "mirrored", "multiworker")


def make_strategy(name: str):
    """The tf.distribute strategy called `name` (None for "none"). Create it before any other
    TensorFlow work: multiworker starts its collective ops when it is made. "none" imports nothing, so
    train.py can still say in a moment that its data is not there."""
    if name == "none":
        return None
    import tensorflow as tf

    if name == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        devices = [d.name for d in gpus] or [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices)
    if name == "multiworker":
        cluster = _tf_config()
        if not cluster.get("cluster", {}).get("worker"):
            raise ValueError("--strategy multiworker needs TF_CONFIG naming the workers, e.g. "
                             '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, "task": {"type": "worker", "index": 0}} '
                             "(README, 'Training on several GPUs or machines')")
        return _reducing_each_value(tf.distribute.MultiWorkerMirroredStrategy())
    raise ValueError(f"--strategy must be one of {', '.join(STRATEGIES)}, not {name!r}")


def _reducing_each_value(strategy):
    """`strategy`, with `reduce` working as Keras 3's fit calls it under MultiWorkerMirroredStrategy.

    Keras 3 reduces a whole first batch, (x, y, weights), to build the model, and every scalar in
    the logs with axis=0 (keras.src.backend.tensorflow.trainer: _maybe_symbolic_build and
    reduce_per_replica); the strategy reduces single values only, and a scalar has no axis 0
    (keras-team/keras#20585, open since 2024). Here a structure is reduced value by value, and a
    scalar across replicas only.
    """
    import tensorflow as tf

    reduce = strategy.reduce

    def one(op, value, axis):
        local = strategy.experimental_local_results(value)[0]
        return reduce(op, value, axis=None if local.shape.rank == 0 else axis)

    strategy.reduce = lambda op, value, axis=None: tf.nest.map_structure(lambda v: one(op, v, axis), value)
    return strategy


def _tf_config() -> dict:
    text = os.environ.get("TF_CONFIG", "")
    try:
        return json.loads(text) if text else {}
    except json.JSONDecodeError as err:
        raise ValueError(f"TF_CONFIG is not JSON ({err})") from None


def is_chief(strategy) -> bool:
    """Whether this process writes the run folder: always, but for multiworker's non-chief workers."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.cluster_spec().as_dict():
        return True
    return resolver.task_type in ("chief", None) or (resolver.task_type == "worker" and resolver.task_id == 0)


def scaled_for_replicas(config, strategy):
    """`config` with the global batch and the learning rate scaled by the number of replicas."""
    replicas = 1 if strategy is None else strategy.num_replicas_in_sync
    if replicas == 1:
        return config
    return replace(config, batch_size=config.batch_size * replicas, learning_rate=config.learning_rate * replicas)
