import numpy as np
import pytest
import tensorflow as tf

from data_pipeline.features.augment import AugmentConfig, make_augment
from data_pipeline.features.frontend import FrontendConfig, spectrogram
from data_pipeline.training_data.datasets import feature_dataset

KEY = tf.constant([0, 0], tf.int64)


def test_mixing_adds_the_background_in_magnitude_and_keeps_the_label():
    fe = FrontendConfig()
    spec = tf.fill(fe.input_shape, np.log(1.0).astype(np.float32))
    bg = tf.fill(fe.input_shape, np.log(3.0).astype(np.float32))
    config = AugmentConfig(mix_probability=1.0, mix_gain_db=(0.0, 0.0), max_shift_frames=0, freq_mask_bins=0,
                           time_mask_frames=0)
    out, label = make_augment(fe, config)((spec, 1.0), (bg, 0.0), KEY)
    np.testing.assert_allclose(out.numpy(), np.log(4.0), rtol=1e-5)  # |1| + |3| in magnitude
    assert label == 1.0


def test_masks_cover_at_most_their_width_and_nothing_without_them():
    fe = FrontendConfig()
    spec = tf.random.stateless_normal(fe.input_shape, seed=[1, 2])
    config = AugmentConfig(mix_probability=0.0, max_shift_frames=0, freq_mask_bins=12, time_mask_frames=10)
    widths = set()
    for k in range(20):
        out, _ = make_augment(fe, config)((spec, 0.0), (spec, 0.0), tf.constant([7, k], tf.int64))
        changed = out.numpy() != spec.numpy()
        masked_bins, masked_frames = changed.all(axis=0), changed.all(axis=1)
        assert masked_bins.sum() <= 12 and masked_frames.sum() <= 10
        # Every changed cell lies in a masked band or a masked stretch: nothing else is touched.
        assert not (changed & ~masked_bins[None, :] & ~masked_frames[:, None]).any()
        widths.add((int(masked_bins.sum()), int(masked_frames.sum())))
    assert len(widths) > 5  # each key draws its own masks
    off = AugmentConfig(mix_probability=0.0, max_shift_frames=0, freq_mask_bins=0, time_mask_frames=0)
    np.testing.assert_array_equal(make_augment(fe, off)((spec, 0.0), (spec, 0.0), KEY)[0], spec)


def test_augmented_training_batches_keep_shapes_and_labels():
    fe = FrontendConfig(clip_s=1.0)
    rng = np.random.default_rng(0)
    waves = rng.standard_normal((10, fe.clip_samples)).astype(np.float32)
    labels = np.array([0, 1] * 5, np.float32)
    ds = feature_dataset(spectrogram(waves, fe).numpy(), labels, fe, batch_size=4, shuffle=True, augment=AugmentConfig(),
                         seed=0, epoch=tf.Variable(0, dtype=tf.int64))
    seen = [y.numpy() for x, y in ds]
    assert sorted(np.concatenate(seen).tolist()) == sorted(labels.tolist())
    x, _ = next(iter(ds))
    assert x.shape == (4, *fe.input_shape) and np.isfinite(x.numpy()).all()


def _passes(features, labels, fe, epochs, seed, config=AugmentConfig()):
    """What a training run's epochs see: one dataset, the epoch variable set before each pass."""
    epoch = tf.Variable(0, dtype=tf.int64)
    ds = feature_dataset(features, labels, fe, batch_size=4, shuffle=True, augment=config, seed=seed, epoch=epoch)
    out = []
    for e in epochs:
        epoch.assign(e)
        out.append(np.concatenate([x.numpy() for x, _ in ds]))
    return out


def test_augmented_epochs_repeat_from_the_seed_and_a_resumed_run_sees_the_same():
    # Draws were once unseeded (tf.random.uniform in a parallel map, a background stream reshuffled per pass):
    # no two runs of one seed trained on the same variants, and a run resumed at epoch k saw others.
    fe = FrontendConfig(clip_s=1.0)
    waves = np.random.default_rng(0).standard_normal((12, fe.clip_samples)).astype(np.float32)
    features, labels = spectrogram(waves, fe).numpy(), np.array([0, 1, 0] * 4, np.float32)
    whole = _passes(features, labels, fe, [0, 1, 2], seed=3)
    np.testing.assert_array_equal(_passes(features, labels, fe, [0, 1, 2], seed=3)[2], whole[2])
    np.testing.assert_array_equal(_passes(features, labels, fe, [2], seed=3)[0], whole[2])  # resumed at epoch 2
    assert not np.array_equal(whole[1], whole[2])  # fresh variants every epoch
    assert not np.array_equal(_passes(features, labels, fe, [2], seed=4)[0], whole[2])


def test_the_mixed_in_background_is_a_no_call_clip_of_the_same_data():
    fe = FrontendConfig(clip_s=1.0)
    waves = np.random.default_rng(1).standard_normal((9, fe.clip_samples)).astype(np.float32)
    features, labels = spectrogram(waves, fe).numpy(), np.array([1, 0, 1, 1, 0, 1, 1, 0, 1], np.float32)
    mix_only = AugmentConfig(mix_probability=1.0, mix_gain_db=(0.0, 0.0), max_shift_frames=0, freq_mask_bins=0,
                             time_mask_frames=0)
    epoch = tf.Variable(0, dtype=tf.int64)
    ds = feature_dataset(features, labels, fe, batch_size=9, shuffle=False, augment=mix_only, seed=0, epoch=epoch)
    x, y = (t.numpy() for t in next(iter(ds)))
    np.testing.assert_array_equal(y, labels)
    picked = []
    for i in range(9):  # log(|a| + |b|) for the clip and one of the label-0 clips 1, 4, 7
        err = [np.abs(x[i] - np.logaddexp(features[i], features[j])).max() for j in range(9)]
        picked.append(int(np.argmin(err)))
        assert min(err) < 1e-4
    assert set(picked) <= {1, 4, 7} and len(set(picked)) > 1
    with pytest.raises(ValueError, match="pass the epoch variable"):
        feature_dataset(features, labels, fe, augment=mix_only)
    with pytest.raises(ValueError, match="hold none"):
        feature_dataset(features, np.ones(9, np.float32), fe, augment=mix_only, epoch=epoch)


def _tone_spectrogram(fe, hz):
    t = np.arange(fe.clip_samples) / fe.sample_rate_hz
    harmonics = sum(np.sin(2 * np.pi * k * hz * t) / k for k in (1, 2, 3))  # a small harmonic stack
    return spectrogram(harmonics[None].astype(np.float32), fe)[0]


def test_pitch_moves_a_harmonic_stack_where_the_same_stack_higher_or_lower_lies():
    from data_pipeline.features.augment import _pitch

    fe = FrontendConfig(clip_s=1.0)
    for factor in (0.8, 1.25):
        shifted = _pitch(_tone_spectrogram(fe, 400.0), fe, (factor, factor), KEY).numpy().mean(axis=0)
        played = _tone_spectrogram(fe, 400.0 * factor).numpy().mean(axis=0)
        peaks = lambda s: set(np.argsort(s)[-3:].tolist())  # noqa: E731 - the three harmonics' bins
        assert peaks(shifted) == peaks(played), factor
        assert np.isfinite(shifted).all()


def test_pitch_draws_its_factor_apart_and_leaves_the_other_parts_as_they_were():
    """Turning pitch on (here at a factor of exactly 1) must not change what --augment's other draws give."""
    from dataclasses import replace

    fe = FrontendConfig()
    spec = tf.random.stateless_normal(fe.input_shape, seed=[5, 6])
    bg = tf.random.stateless_normal(fe.input_shape, seed=[7, 8])
    still = replace(AugmentConfig(), pitch_probability=1.0, pitch_range=(1.0, 1.0))
    for k in range(5):
        key = tf.constant([11, k], tf.int64)
        np.testing.assert_allclose(make_augment(fe, still)((spec, 1.0), (bg, 0.0), key)[0],
                                   make_augment(fe, AugmentConfig())((spec, 1.0), (bg, 0.0), key)[0], atol=1e-6)
    from data_pipeline.features.augment import PITCH_ONLY

    moved = [make_augment(fe, PITCH_ONLY)((spec, 1.0), (bg, 0.0), tf.constant([11, k], tf.int64))[0].numpy()
             for k in range(20)]
    unchanged = sum(np.array_equal(m, spec.numpy()) for m in moved)
    assert 4 <= unchanged <= 16  # about half the clips keep their pitch (pitch_probability 0.5)


def test_pitch_settings_out_of_range_and_mel_bins_are_refused_in_one_line():
    from data_pipeline.features.augment import PITCH_ONLY, augment_setting

    with pytest.raises(ValueError, match="pitch_range"):
        AugmentConfig(pitch_range=(0.3, 1.0))
    with pytest.raises(ValueError, match="pitch_probability"):
        AugmentConfig(pitch_probability=1.5)
    with pytest.raises(ValueError, match="mel bins"):
        make_augment(FrontendConfig(mel_bins=40), PITCH_ONLY)
    assert augment_setting(False, False) is None and augment_setting(False, True) == PITCH_ONLY
    assert augment_setting(True, True).pitch_probability == 0.5 and augment_setting(True, False) == AugmentConfig()


def test_the_capuchinbird_preset_trains_with_pitch_where_its_front_end_can_and_others_do_not():
    """train.py's augmentation with neither --pitch-augment nor --no-pitch-augment: the preset's pitch where the front
    end has linear bins and no pulse panel (a sweep's best.json may choose mel bands), none for the other presets."""
    from data_pipeline.features.augment import PITCH_ONLY
    from model.learning.presets import get_preset, preset_augment

    capuchinbird = get_preset("capuchinbird")
    assert preset_augment(capuchinbird, capuchinbird.frontend) == PITCH_ONLY
    assert preset_augment(capuchinbird, FrontendConfig(mel_bins=40)) is None
    assert preset_augment(capuchinbird, FrontendConfig(pulse_frame_length=128)) is None
    assert preset_augment(capuchinbird, capuchinbird.frontend, pitch=False) is None
    assert preset_augment(capuchinbird, capuchinbird.frontend, augment=True) == AugmentConfig(pitch_probability=0.5)
    for name in ("heart", "glass_break", "whale", "everyday"):
        assert preset_augment(get_preset(name), get_preset(name).frontend) is None, name
