"""Keras layers of the project's own, registered so `keras.saving.load_model` rebuilds them.

Imported by `model.detection.detector` before a model is loaded and by `model.learning.networks`
when one is built.
"""

from __future__ import annotations

import keras

from data_pipeline.features.frontend import input_power


@keras.saving.register_keras_serializable(package="capuchinbird")
class SilenceGate(keras.layers.Layer):
    """Call probability times [window's band power >= threshold]: a silent window scores exactly 0.

    Inputs: [spectrogram window [batch, frames, bins] as the front end gives it, probability [batch, 1]].
    threshold: `FrontendConfig.silence_threshold()`, in the units of `input_power` (the front end's);
    scale: the front end's scale ("log": power is exp(x)^2, "magnitude": x^2).
    bins: how many of the input's bins are the spectrogram (the first); None: all (no pulse panel).
    A step, not a learnt layer: digital silence and dither carry no information about calls, and a
    network standardising them sees only amplified rounding noise.
    """

    def __init__(self, threshold: float, scale: str = "log", bins: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.threshold = float(threshold)
        self.scale = scale
        self.bins = bins

    def call(self, inputs):
        features, probability = inputs
        if self.bins is not None:
            features = features[..., : self.bins]
        power = input_power(keras.ops.cast(features, "float32"), self.scale)
        loud = keras.ops.mean(power, axis=(1, 2)) >= self.threshold
        return probability * keras.ops.cast(keras.ops.expand_dims(loud, -1), probability.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape[1]

    def get_config(self):
        return {**super().get_config(), "threshold": self.threshold, "scale": self.scale, "bins": self.bins}


def with_silence_gate(net, threshold: float, scale: str, bins: int | None = None):
    """`net` (one sigmoid output) with its probability passed through a SilenceGate."""
    gated = SilenceGate(threshold, scale, bins, name="silence_gate", dtype="float32")([net.input, net.output])
    model = keras.Model(net.input, gated, name=net.name)
    model.backbone_weights = getattr(net, "backbone_weights", None)
    return model


@keras.saving.register_keras_serializable(package="capuchinbird")
class SlidingStandardise(keras.layers.Layer):
    """Each frame standardised by the mean and spread of the frames around it: x [batch, frames, bins, channels]
    minus the mean over frames t - context .. t + context (all bins and channels), divided by their standard
    deviation (frames past either end are left out, not counted as zeros).

    Why not the whole window's statistics (the compact network's LayerNormalization): those change with
    where a window starts, so overlapping windows of a long recording cannot share any computation.
    A frame's value here depends only on its neighbours, the same in a 3 s window and in a recording-long
    block, so counting can run the convolutions once per block (`model.detection.shared_trunk`); it keeps
    what the window statistics gave: a change of gain (a constant added to log levels) leaves it unchanged.
    """

    def __init__(self, context_frames: int, epsilon: float = 1e-3, **kwargs):
        super().__init__(**kwargs)
        if context_frames < 0:
            raise ValueError(f"context_frames must be >= 0, got {context_frames}")
        self.context_frames = int(context_frames)
        self.epsilon = float(epsilon)

    def call(self, x):
        ops = keras.ops
        moments = ops.stack([ops.mean(x, axis=(2, 3)), ops.mean(x * x, axis=(2, 3))], axis=-1)  # [batch, frames, 2]
        local = ops.average_pool(moments, 2 * self.context_frames + 1, strides=1, padding="same")
        mean, square = local[..., 0], local[..., 1]
        std = ops.sqrt(ops.maximum(square - mean * mean, 0.0) + self.epsilon)
        return (x - mean[:, :, None, None]) / std[:, :, None, None]

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "context_frames": self.context_frames, "epsilon": self.epsilon}
