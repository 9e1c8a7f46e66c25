import numpy as np
import tensorflow as tf

from data_pipeline.features.augment import AugmentConfig, make_augment
from data_pipeline.features.frontend import FrontendConfig, spectrogram
from data_pipeline.training_data.datasets import feature_dataset


def test_mixing_adds_the_background_in_magnitude_and_keeps_the_label():
    fe = FrontendConfig()
    spec = tf.fill(fe.input_shape, np.log(1.0).astype(np.float32))
    bg = tf.fill(fe.input_shape, np.log(3.0).astype(np.float32))
    config = AugmentConfig(mix_probability=1.0, mix_gain_db=(0.0, 0.0), max_shift_frames=0, freq_mask_bins=0,
                           time_mask_frames=0)
    out, label = make_augment(fe, config)((spec, 1.0), (bg, 0.0))
    np.testing.assert_allclose(out.numpy(), np.log(4.0), rtol=1e-5)  # |1| + |3| in magnitude
    assert label == 1.0


def test_masks_cover_at_most_their_width_and_nothing_without_them():
    fe = FrontendConfig()
    spec = tf.random.stateless_normal(fe.input_shape, seed=[1, 2])
    tf.random.set_seed(0)
    config = AugmentConfig(mix_probability=0.0, max_shift_frames=0, freq_mask_bins=12, time_mask_frames=10)
    for _ in range(20):
        out, _ = make_augment(fe, config)((spec, 0.0), (spec, 0.0))
        changed = out.numpy() != spec.numpy()
        masked_bins, masked_frames = changed.all(axis=0), changed.all(axis=1)
        assert masked_bins.sum() <= 12 and masked_frames.sum() <= 10
        # Every changed cell lies in a masked band or a masked stretch: nothing else is touched.
        assert not (changed & ~masked_bins[None, :] & ~masked_frames[:, None]).any()
    off = AugmentConfig(mix_probability=0.0, max_shift_frames=0, freq_mask_bins=0, time_mask_frames=0)
    np.testing.assert_array_equal(make_augment(fe, off)((spec, 0.0), (spec, 0.0))[0], spec)


def test_augmented_training_batches_keep_shapes_and_labels():
    fe = FrontendConfig(clip_s=1.0)
    rng = np.random.default_rng(0)
    waves = rng.standard_normal((10, fe.clip_samples)).astype(np.float32)
    labels = np.array([0, 1] * 5, np.float32)
    ds = feature_dataset(spectrogram(waves, fe).numpy(), labels, fe, batch_size=4, shuffle=True, augment=AugmentConfig(),
                         seed=0)
    seen = [y.numpy() for x, y in ds]
    assert sorted(np.concatenate(seen).tolist()) == sorted(labels.tolist())
    x, _ = next(iter(ds))
    assert x.shape == (4, *fe.input_shape) and np.isfinite(x.numpy()).all()
