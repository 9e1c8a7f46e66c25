"""Training-time augmentation on cached spectrograms: fresh variants every epoch at no decoding cost.

- Background mixing: a random "other" clip is added to the example at -12 to 0 dB (in magnitude,
  phases ignored), so calls are heard over backgrounds they were not recorded in. The label is
  kept: an other clip holds no call at its centre.
- Time shift: a roll of a few frames (clips are labelled by their centre; shifts stay well inside
  the 0.5 s margin around labelled call edges).
- SpecAugment: one frequency band and one time stretch masked to the clip's mean.

Gain is not augmented: the compact network standardises each window, so a gain change cannot
move its score (tests/test_networks.py holds that).

Every draw is stateless, from a key the caller derives from (seed, epoch, clip): the same run gives
the same variants, and a training run resumed at epoch k sees what an uninterrupted one would.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from data_pipeline.features.frontend import FrontendConfig


@dataclass(frozen=True)
class AugmentConfig:
    mix_probability: float = 0.5
    mix_gain_db: tuple[float, float] = (-12.0, 0.0)
    max_shift_frames: int = 4
    freq_mask_bins: int = 12
    time_mask_frames: int = 10

    def to_dict(self) -> dict:
        return asdict(self)


def _mask(spec, axis: int, max_width: int, fill, key):
    import tensorflow as tf

    if max_width <= 0:
        return spec
    width_key, start_key = tf.unstack(tf.random.experimental.stateless_split(key, 2))
    size = tf.shape(spec)[axis]
    width = tf.random.stateless_uniform([], width_key, 0, max_width + 1, tf.int32)
    start = tf.random.stateless_uniform([], start_key, 0, tf.maximum(1, size - width), tf.int32)
    idx = tf.range(size)
    keep = tf.logical_or(idx < start, idx >= start + width)
    keep = tf.reshape(keep, [-1, 1] if axis == 0 else [1, -1])
    return tf.where(keep, spec, fill)


def make_augment(frontend: FrontendConfig, config: AugmentConfig = AugmentConfig()):
    """Map function ((spectrogram, label), (background spectrogram, _), key) -> (spectrogram, label).

    key: a stateless-random seed, int64 [2]; the variant is a function of the inputs and the key alone.
    """
    import tensorflow as tf

    def augment(example, background, key):
        spec, label = example
        bg = background[0]
        gain_key, mix_key, shift_key, freq_key, time_key = tf.unstack(tf.random.experimental.stateless_split(key, 5))
        lo, hi = config.mix_gain_db
        gain = 10.0 ** (tf.random.stateless_uniform([], gain_key, lo, hi) / 20.0)
        if frontend.scale == "log":
            mixed = tf.math.log(tf.exp(spec) + gain * tf.exp(bg))
        else:
            mixed = spec + gain * bg
        spec = tf.where(tf.random.stateless_uniform([], mix_key) < config.mix_probability, mixed, spec)
        if config.max_shift_frames:
            m = config.max_shift_frames
            spec = tf.roll(spec, tf.random.stateless_uniform([], shift_key, -m, m + 1, tf.int32), 0)
        fill = tf.reduce_mean(spec)
        spec = _mask(spec, 1, config.freq_mask_bins, fill, freq_key)
        spec = _mask(spec, 0, config.time_mask_frames, fill, time_key)
        return spec, label

    return augment
