"""tf.data pipelines from clip spectrograms to training batches.

Features are computed once, when the clips are cut (`clips.load_clips`: each file decoded once,
each clip turned into its spectrogram with the shared front end), so the pipeline starts from
them: slices -> shuffle -> augment -> batch -> prefetch. Random augmentation runs per epoch, so
every epoch sees fresh variants.
"""

from __future__ import annotations

import numpy as np

from data_pipeline.features.augment import AugmentConfig, make_augment
from data_pipeline.features.frontend import FrontendConfig


def feature_dataset(
    features: np.ndarray,
    labels: np.ndarray | None,
    frontend: FrontendConfig,
    batch_size: int = 32,
    shuffle: bool = False,
    augment: AugmentConfig | None = None,
    seed: int = 0,
    epoch=None,
):
    """Batches of (spectrogram [frames, bins], label) or, with labels=None, spectrograms alone.

    shuffle: a new order every epoch. With `epoch` (an integer tf.Variable the caller sets at the
        start of each epoch, model.learning.training_state.EpochOrder), the order is a function of
        (seed, epoch) alone, so a training run resumed at epoch k sees what an uninterrupted one
        would; without it, tf.data reshuffles on every pass (an order that depends on how many times
        the dataset was iterated, which a resumed run cannot repeat).

    augment: random augmentation (training only); its backgrounds are the label-0 clips of this
        same dataset, drawn in a separate shuffled stream.
    """
    import tensorflow as tf

    autotune = tf.data.AUTOTUNE
    n = len(features)
    if shuffle and epoch is not None:
        ds = _in_epoch_order(features, labels, seed, epoch)
    else:
        ds = tf.data.Dataset.from_tensor_slices(features if labels is None else (features, labels))
        if shuffle:
            ds = ds.shuffle(n, seed=seed, reshuffle_each_iteration=True)
    if augment is not None and labels is not None:
        backgrounds = ds.filter(lambda x, y: tf.equal(y, 0)).shuffle(n, seed=seed + 1).repeat()
        ds = tf.data.Dataset.zip((ds, backgrounds)).map(make_augment(frontend, augment), num_parallel_calls=autotune)
    return ds.batch(batch_size).prefetch(autotune)


def _in_epoch_order(features: np.ndarray, labels: np.ndarray | None, seed: int, epoch):
    """The clips in a permutation drawn from (seed, the epoch variable's value when a pass begins)."""
    import tensorflow as tf

    x = tf.constant(features)
    y = None if labels is None else tf.constant(labels)

    def permutation(_):
        key = tf.stack([tf.constant(seed, tf.int64), tf.cast(epoch.read_value(), tf.int64)])
        return tf.data.Dataset.from_tensor_slices(tf.random.experimental.stateless_shuffle(tf.range(len(features)), key))

    order = tf.data.Dataset.from_tensors(0).flat_map(permutation)
    clips = order.map(lambda i: tf.gather(x, i) if y is None else (tf.gather(x, i), tf.gather(y, i)))
    return clips.apply(tf.data.experimental.assert_cardinality(len(features)))
