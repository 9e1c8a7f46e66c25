import numpy as np
import pytest

from data_pipeline.features.frontend import SEED_FRONTEND, FrontendConfig
from model.learning.networks import build_model


def test_compact_network_is_small_and_gain_invariant():
    fe = FrontendConfig()
    net = build_model("compact", fe.input_shape)
    assert net.count_params() < 100_000
    x = np.random.default_rng(0).standard_normal((2, *fe.input_shape)).astype(np.float32)
    # A louder recording shifts a log spectrogram by a constant: the score must not move.
    np.testing.assert_allclose(net(x, training=False), net(x + 3.0, training=False), atol=1e-4)


def test_a_pulse_panel_is_a_second_channel_standardised_on_its_own():
    fe = FrontendConfig(pulse_frame_length=128)
    net = build_model("compact", fe.input_shape, frontend=fe)
    assert net.get_layer("panels_as_channels").output.shape[1:] == (119, 81, 2)
    x = np.random.default_rng(0).standard_normal((2, *fe.input_shape)).astype(np.float32)
    louder = x + np.concatenate([np.full(81, 3.0), np.zeros(81)]).astype(np.float32)  # a gain moves the spectrogram only
    np.testing.assert_allclose(net(x, training=False), net(louder, training=False), atol=1e-4)
    with pytest.raises(ValueError, match="compact"):
        build_model("seed", fe.input_shape, frontend=fe)


def test_seed_network_matches_the_blog_post():
    net = build_model("seed", SEED_FRONTEND.input_shape)
    kinds = [type(layer).__name__ for layer in net.layers]
    assert kinds == ["InputLayer", "Reshape", "Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Flatten",
                     "Dense", "Dropout", "Dense"]
    assert net.layers[2].filters == 16 and net.layers[7].units == 128 and net.layers[8].rate == 0.3


def test_more_than_two_classes_get_a_softmax_head():
    net = build_model("compact", (50, 40), n_classes=5)
    out = np.asarray(net(np.zeros((3, 50, 40), np.float32)))
    assert out.shape == (3, 5)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, atol=1e-5)


def test_mixed_precision_keeps_a_float32_output():
    import keras

    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        net = build_model("compact", (50, 40))
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert net.layers[2].compute_dtype == "float16"
    assert net.output.dtype == "float32"
