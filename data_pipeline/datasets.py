"""tf.data pipelines from decoded clips to batches of spectrograms.

Order follows the TensorFlow guide: slices -> map(spectrogram, parallel) -> cache -> shuffle ->
augment -> batch -> prefetch. The spectrogram is deterministic, so it is computed once and cached;
random augmentation comes after the cache so every epoch sees fresh variants.

Decoding happens before the pipeline (`clips.load_clip_waveforms`): each long recording is decoded
once for all the clips cut from it, and a bad file is reported by name instead of failing a graph.
"""

from __future__ import annotations

import numpy as np

from data_pipeline.augment import AugmentConfig, make_augment
from data_pipeline.frontend import FrontendConfig, spectrogram


def spectrogram_dataset(
    waveforms: np.ndarray,
    labels: np.ndarray | None,
    frontend: FrontendConfig,
    batch_size: int = 32,
    shuffle: bool = False,
    augment: AugmentConfig | None = None,
    seed: int = 0,
):
    """Batches of (spectrogram [frames, bins], label) or, with labels=None, spectrograms alone.

    augment: random augmentation after the cache (training only); its backgrounds are the
        label-0 clips of this same dataset, drawn in a separate shuffled stream.
    """
    import tensorflow as tf

    autotune = tf.data.AUTOTUNE
    items = waveforms if labels is None else (waveforms, labels)
    ds = tf.data.Dataset.from_tensor_slices(items)
    if labels is None:
        ds = ds.map(lambda w: spectrogram(w, frontend), num_parallel_calls=autotune)
    else:
        ds = ds.map(lambda w, y: (spectrogram(w, frontend), y), num_parallel_calls=autotune)
    ds = ds.cache()
    if shuffle:
        ds = ds.shuffle(len(waveforms), seed=seed, reshuffle_each_iteration=True)
    if augment is not None and labels is not None:
        backgrounds = ds.filter(lambda x, y: tf.equal(y, 0)).shuffle(len(waveforms), seed=seed + 1).repeat()
        ds = tf.data.Dataset.zip((ds, backgrounds)).map(make_augment(frontend, augment), num_parallel_calls=autotune)
    return ds.batch(batch_size).prefetch(autotune)
