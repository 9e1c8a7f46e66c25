"""Score overlapping windows with the convolutions run once per block, not once per window.

Counting scores a 3 s window every 0.25 s, so each stretch of spectrogram lies in twelve windows.
A compact network built for sharing (`model.learning.networks.shared_trunk_network`) standardises
each frame by its neighbours (`model.layers.SlidingStandardise`) instead of by its window, and pools
time by factors whose product is the hop in frames; its score comes from the centre of its window
only. Then a window's score depends only on frames inside it, each feature-map step of a block is
one hop, and window k's centre is the block's steps k + left ... k + left + keep - 1: the network's
own layers run once over the block, and each window's score is read off there. A test holds the
scores equal to scoring each window on its own (`tests/test_shared_trunk.py`).

Any other network (the default compact one standardises its whole window) is scored window by
window, as before.
"""

from __future__ import annotations

import math

import numpy as np

from data_pipeline.features.frontend import FrontendConfig, input_power


def centre_frames(frames: int, time_pools: tuple[int, ...], keep: int, left: int) -> tuple[int, int]:
    """(first, last) input frame that the centre steps [left, left + keep) of a compact network's
    feature map depend on: each block is a 3-wide 'same' convolution, then a time pooling."""
    first, last = left, left + keep - 1
    for pool in reversed(time_pools):
        first, last = first * pool - 1, last * pool + pool  # the pooled conv outputs, then the conv's reach
    return first, last


def _layer_names(net) -> set[str]:
    return {layer.name for layer in net.layers}


def time_pools_of(net) -> tuple[int, ...]:
    """The time pooling factor of each of the network's blocks (layers pool0, pool1, ...)."""
    return block_time_pools({layer.name: getattr(layer, "pool_size", None) for layer in net.layers})


def block_time_pools(pool_sizes: dict) -> tuple[int, ...]:
    """The time pooling factors of the blocks pool0, pool1, ... from each layer name's pool size: read from a
    network (`time_pools_of`) or from a saved model's config (`model.detection.detector.shares_when_counted`)."""
    pools = []
    while f"pool{len(pools)}" in pool_sizes:
        pools.append(int(pool_sizes[f"pool{len(pools)}"][0]))
    return tuple(pools)


def shareable(net, frontend: FrontendConfig, hop_frames: int) -> bool:
    """Whether `net`'s windows `hop_frames` apart can share one run of its convolutions (module doc)."""
    from model.layers import SlidingStandardise

    names = _layer_names(net)
    sliding = "standardise" in names and isinstance(net.get_layer("standardise"), SlidingStandardise)
    return shares_at(sliding, "pool_centre" in names, time_pools_of(net), frontend, hop_frames)


def shares_at(sliding: bool, pools_centre: bool, time_pools: tuple[int, ...], frontend: FrontendConfig,
              hop_frames: int) -> bool:
    """The rule of `shareable`, on what it reads from a network (also read from a saved model's config,
    `model.detection.detector.shares_when_counted`): frames standardised by their neighbours, a single-panel
    front end without median subtraction, a score pooled from the centre, and time pools whose product is the hop."""
    if not sliding or not pools_centre or frontend.median_subtraction or frontend.panels != 1:
        return False
    return bool(time_pools) and math.prod(time_pools) == hop_frames


class SharedTrunk:
    """Scores of consecutive windows from one run of `net`'s layers over the frames they are cut from."""

    def __init__(self, net, frontend: FrontendConfig, hop_frames: int, batch_windows: int = 64):
        import keras
        from keras import layers

        self.frames_per_window = frontend.input_shape[0]
        self.hop_frames = hop_frames
        self.batch_windows = batch_windows  # windows per span when counting (data_pipeline.features.windows)
        names, pools = _layer_names(net), time_pools_of(net)
        steps = net.get_layer("frames_by_features").output.shape[1]
        left, right = net.get_layer("centre_of_window").cropping if "centre_of_window" in names else (0, 0)
        keep = steps - left - right
        bins = frontend.n_bins

        span = keras.Input(shape=(None, bins), name="span")
        x = layers.Reshape((-1, bins, 1))(span)
        x = net.get_layer("standardise")(x)
        for i in range(len(pools)):
            x = net.get_layer(f"pool{i}")(net.get_layer(f"conv{i}")(x))
        x = net.get_layer("average_frequency")(x)
        x = layers.Reshape((-1, x.shape[-1]))(x)
        x = layers.Cropping1D((left, 0))(x)
        centre = net.get_layer("pool_centre")
        pool = layers.MaxPooling1D if isinstance(centre, layers.GlobalMaxPooling1D) else layers.AveragePooling1D
        x = pool(pool_size=keep, strides=1, padding="valid")(x)  # window k: steps k + left ... k + left + keep - 1
        head = net.get_layer("call_probability" if "call_probability" in names else "class_probabilities")
        outputs = [head(x)]
        if "silence_gate" in names:  # each window's mean band power, as the gate takes it
            gate = net.get_layer("silence_gate")
            power = keras.ops.mean(input_power(span, gate.scale), axis=-1, keepdims=True)  # [1, frames, 1]
            window_power = keras.ops.average_pool(power, self.frames_per_window, strides=hop_frames, padding="valid")
            outputs.append(keras.ops.cast(window_power >= gate.threshold, "float32"))
        self.model = keras.Model(span, outputs, name="shared_trunk")

    def probabilities(self, span, count: int) -> np.ndarray:
        """[count, outputs] for the `count` windows cut from `span` [frames, bins], `hop_frames` apart.

        A shorter span is zero-padded to `batch_windows` windows, so the network is traced for one
        length only (a window's score does not depend on frames outside it)."""
        frames = (max(count, self.batch_windows) - 1) * self.hop_frames + self.frames_per_window
        span = np.asarray(span, np.float32)[:frames]
        span = np.pad(span, ((0, frames - len(span)), (0, 0)))
        outputs = self.model.predict_on_batch(span[None])
        if not isinstance(outputs, (list, tuple)):
            return np.asarray(outputs)[0, :count]
        scores, loud = (np.asarray(o)[0, :count] for o in outputs)
        return scores * loud
