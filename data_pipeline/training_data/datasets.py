"""tf.data pipelines from clip spectrograms to training batches.

Features are computed once, when the clips are cut (`clips.load_clips`: each file decoded once,
each clip turned into its spectrogram with the shared front end), so the pipeline starts from
them: slices -> shuffle -> augment -> batch -> prefetch. Augmentation draws per (epoch, clip), so
every epoch sees fresh variants, and the same ones in every run of the same seed.
"""

from __future__ import annotations

import numpy as np

from data_pipeline.features.augment import AugmentConfig, make_augment
from data_pipeline.features.frontend import FrontendConfig

# Augmentation draws from its own stream of the run's seed, apart from the clips' order.
AUGMENT_STREAM = 0x61756720


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

    augment: random augmentation (training only; needs `epoch`). Each clip's variant, and the label-0
        clip of this same dataset mixed into it as background, are drawn from (seed, epoch, clip)
        alone, so augmented runs repeat and resume exactly as plain ones do.
    """
    import tensorflow as tf

    autotune = tf.data.AUTOTUNE
    n = len(features)
    if augment is not None and labels is not None:
        if epoch is None:
            raise ValueError("augmentation is drawn from (seed, epoch, clip): pass the epoch variable "
                             "(model.learning.training_state.EpochOrder)")
        ds = _augmented(features, labels, frontend, augment, seed, epoch, shuffle)
    elif shuffle and epoch is not None:
        ds = _in_epoch_order(features, labels, seed, epoch)
    else:
        ds = tf.data.Dataset.from_tensor_slices(features if labels is None else (features, labels))
        if shuffle:
            ds = ds.shuffle(n, seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).prefetch(autotune)


def _epoch_indices(n: int, seed: int, epoch, shuffle: bool = True):
    """(epoch, clip index) for the n clips of a pass, in a permutation drawn from (seed, epoch) when
    shuffling; the epoch variable is read once, when the pass begins."""
    import tensorflow as tf

    def one_pass(_):
        e = tf.cast(epoch.read_value(), tf.int64)
        order = tf.range(n)
        if shuffle:
            order = tf.random.experimental.stateless_shuffle(order, tf.stack([tf.constant(seed, tf.int64), e]))
        return tf.data.Dataset.from_tensor_slices((tf.fill([n], e), order))

    passes = tf.data.Dataset.from_tensors(0).flat_map(one_pass)
    return passes.apply(tf.data.experimental.assert_cardinality(n))


def _in_epoch_order(features: np.ndarray, labels: np.ndarray | None, seed: int, epoch):
    """The clips in a permutation drawn from (seed, the epoch variable's value when a pass begins)."""
    import tensorflow as tf

    x = tf.constant(features)
    y = None if labels is None else tf.constant(labels)
    return _epoch_indices(len(features), seed, epoch).map(
        lambda _, i: tf.gather(x, i) if y is None else (tf.gather(x, i), tf.gather(y, i)))


def _augmented(features: np.ndarray, labels: np.ndarray, frontend: FrontendConfig, config: AugmentConfig,
               seed: int, epoch, shuffle: bool):
    """(spectrogram, label) per clip, each augmented with a key folded from (seed, epoch, clip index)."""
    import tensorflow as tf

    backgrounds = np.flatnonzero(labels == 0)
    if not len(backgrounds):
        raise ValueError("augmentation mixes label-0 clips (no call) into the others as backgrounds, "
                         "and these training clips hold none")
    x, y, quiet = tf.constant(features), tf.constant(labels), tf.constant(backgrounds, tf.int64)
    augment = make_augment(frontend, config)
    stream = tf.constant([seed, AUGMENT_STREAM], tf.int64)

    def one(e, i):
        fold_in = tf.random.experimental.stateless_fold_in
        key = fold_in(fold_in(stream, e), tf.cast(i, tf.int64))
        pick_key, variant_key = tf.unstack(tf.random.experimental.stateless_split(key, 2))
        j = tf.gather(quiet, tf.random.stateless_uniform([], pick_key, 0, len(backgrounds), tf.int64))
        return augment((tf.gather(x, i), tf.gather(y, i)), (tf.gather(x, j), tf.gather(y, j)), variant_key)

    return _epoch_indices(len(features), seed, epoch, shuffle).map(one, num_parallel_calls=tf.data.AUTOTUNE)
