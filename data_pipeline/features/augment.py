"""Training-time augmentation on cached spectrograms: fresh variants every epoch at no decoding cost.

- Background mixing: a random "other" clip is added to the example at -12 to 0 dB (in magnitude,
  phases ignored), so calls are heard over backgrounds they were not recorded in. The label is
  kept: an other clip holds no call at its centre.
- Time shift: a roll of a few frames (clips are labelled by their centre; shifts stay well inside
  the 0.5 s margin around labelled call edges).
- SpecAugment: one frequency band and one time stretch masked to the clip's mean.
- Pitch (`pitch_probability`, off in `--augment`, on with `--pitch-augment`): the clip's frequencies times a factor
  drawn log-uniformly from `pitch_range`, its timing kept (each frame's linear bins read at bin / factor). Every
  sure call of ../shared/forest has a fundamental of 133-156 Hz, so a model learns the Capuchinbird at one pitch:
  played 25% higher, unheard recordings lost calls (benchmarks/pitch_shift.py; docs/not-a-call.md "Calls at another pitch").
  Bins the shift reads from above the band repeat the top bin, so no edge appears that the data never has.

Gain is not augmented: the compact network standardises each window, so a gain change cannot
move its score (tests/test_networks.py holds that).

Every draw is stateless, from a key the caller derives from (seed, epoch, clip): the same run gives
the same variants, and a training run resumed at epoch k sees what an uninterrupted one would.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from data_pipeline.features.frontend import FrontendConfig


@dataclass(frozen=True)
class AugmentConfig:
    mix_probability: float = 0.5
    mix_gain_db: tuple[float, float] = (-12.0, 0.0)
    max_shift_frames: int = 4
    freq_mask_bins: int = 12
    time_mask_frames: int = 10
    pitch_probability: float = 0.0
    pitch_range: tuple[float, float] = (0.8, 1.25)

    def __post_init__(self):
        lo, hi = self.pitch_range
        if not 0.5 <= lo <= hi <= 2.0:
            raise ValueError(f"pitch_range must be two factors from 0.5 to 2, the lower first; got {self.pitch_range}")
        for name in ("mix_probability", "pitch_probability"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} is a probability, 0 to 1; got {getattr(self, name)}")

    def to_dict(self) -> dict:
        return asdict(self)


PITCH_ONLY = AugmentConfig(mix_probability=0.0, max_shift_frames=0, freq_mask_bins=0, time_mask_frames=0,
                           pitch_probability=0.5)


def takes_pitch(frontend: FrontendConfig) -> bool:
    """Whether pitch augmentation can read `frontend`'s spectrograms: linear frequency bins, no pulse panel."""
    return not frontend.mel_bins and frontend.panels == 1


def augment_setting(augment: bool, pitch: bool) -> AugmentConfig | None:
    """The augmentation the command-line flags ask for: `--augment`'s parts, `--pitch-augment`'s pitch, both, or
    none (None)."""
    if not augment:
        return PITCH_ONLY if pitch else None
    return replace(AugmentConfig(), pitch_probability=PITCH_ONLY.pitch_probability) if pitch else AugmentConfig()


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


def _pitch(spec, frontend: FrontendConfig, pitch_range: tuple[float, float], key):
    """`spec` with every frame's frequencies times a factor drawn log-uniformly from `pitch_range` (linear bins,
    interpolated; above the band the top bin repeats)."""
    import numpy as np
    import tensorflow as tf

    lo_bin, hi_bin = frontend.bin_range
    n = hi_bin - lo_bin
    factor = tf.exp(tf.random.stateless_uniform([], key, *np.log(pitch_range)))
    source = tf.clip_by_value(tf.range(lo_bin, hi_bin, dtype=tf.float32) / factor - lo_bin, 0.0, n - 1.0)
    below = tf.cast(tf.floor(source), tf.int32)
    above = tf.minimum(below + 1, n - 1)
    weight = source - tf.cast(below, tf.float32)
    return tf.gather(spec, below, axis=1) * (1 - weight) + tf.gather(spec, above, axis=1) * weight


def make_augment(frontend: FrontendConfig, config: AugmentConfig = AugmentConfig()):
    """Map function ((spectrogram, label), (background spectrogram, _), key) -> (spectrogram, label).

    key: a stateless-random seed, int64 [2]; the variant is a function of the inputs and the key alone.
    """
    import tensorflow as tf

    if config.pitch_probability and not takes_pitch(frontend):
        raise ValueError("pitch augmentation reads linear frequency bins: a front end with mel bins or a pulse panel "
                         "cannot take it")

    def augment(example, background, key):
        spec, label = example
        bg = background[0]
        if config.pitch_probability:  # from a key of its own, so --augment's other draws stay what they were
            pitch_key, factor_key = tf.unstack(tf.random.experimental.stateless_split(
                tf.random.experimental.stateless_fold_in(key, 1), 2))
            shifted = _pitch(spec, frontend, config.pitch_range, factor_key)
            spec = tf.where(tf.random.stateless_uniform([], pitch_key) < config.pitch_probability, shifted, spec)
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
