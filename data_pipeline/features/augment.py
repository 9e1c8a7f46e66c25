"""Training-time augmentation on cached spectrograms: fresh variants every epoch at no decoding cost.

- Background mixing: a random "other" clip is added to the example at -12 to 0 dB (in magnitude,
  phases ignored), so calls are heard over backgrounds they were not recorded in. The label is
  kept: an other clip holds no call at its centre.
- Time shift: a roll of a few frames (clips are labelled by their centre; shifts stay well inside
  the 0.5 s margin around labelled call edges).
- SpecAugment: one frequency band and one time stretch masked to the clip's mean.

Gain is not augmented: the compact network standardises each window, so a gain change cannot
move its score (tests/test_networks.py holds that).
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


def _mask(spec, axis: int, max_width: int, fill):
    import tensorflow as tf

    if max_width <= 0:
        return spec
    size = tf.shape(spec)[axis]
    width = tf.random.uniform([], 0, max_width + 1, tf.int32)
    start = tf.random.uniform([], 0, tf.maximum(1, size - width), tf.int32)
    idx = tf.range(size)
    keep = tf.logical_or(idx < start, idx >= start + width)
    keep = tf.reshape(keep, [-1, 1] if axis == 0 else [1, -1])
    return tf.where(keep, spec, fill)


def make_augment(frontend: FrontendConfig, config: AugmentConfig = AugmentConfig()):
    """Map function ((spectrogram, label), (background spectrogram, _)) -> (spectrogram, label)."""
    import tensorflow as tf

    def augment(example, background):
        spec, label = example
        bg = background[0]
        lo, hi = config.mix_gain_db
        gain = 10.0 ** (tf.random.uniform([], lo, hi) / 20.0)
        if frontend.scale == "log":
            mixed = tf.math.log(tf.exp(spec) + gain * tf.exp(bg))
        else:
            mixed = spec + gain * bg
        spec = tf.where(tf.random.uniform([]) < config.mix_probability, mixed, spec)
        if config.max_shift_frames:
            spec = tf.roll(spec, tf.random.uniform([], -config.max_shift_frames, config.max_shift_frames + 1, tf.int32), 0)
        fill = tf.reduce_mean(spec)
        spec = _mask(spec, 1, config.freq_mask_bins, fill)
        spec = _mask(spec, 0, config.time_mask_frames, fill)
        return spec, label

    return augment
