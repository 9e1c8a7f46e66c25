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
):
    """Batches of (spectrogram [frames, bins], label) or, with labels=None, spectrograms alone.

    augment: random augmentation (training only); its backgrounds are the label-0 clips of this
        same dataset, drawn in a separate shuffled stream.
    """
    import tensorflow as tf

    autotune = tf.data.AUTOTUNE
    n = len(features)
    ds = tf.data.Dataset.from_tensor_slices(features if labels is None else (features, labels))
    if shuffle:
        ds = ds.shuffle(n, seed=seed, reshuffle_each_iteration=True)
    if augment is not None and labels is not None:
        backgrounds = ds.filter(lambda x, y: tf.equal(y, 0)).shuffle(n, seed=seed + 1).repeat()
        ds = tf.data.Dataset.zip((ds, backgrounds)).map(make_augment(frontend, augment), num_parallel_calls=autotune)
    return ds.batch(batch_size).prefetch(autotune)
