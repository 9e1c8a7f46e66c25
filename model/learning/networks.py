"""The classifiers: spectrogram window [frames, bins] in, class probabilities out.

Only Keras 3 layers, no raw TensorFlow ops, so a network also builds on the JAX and PyTorch
backends. Each builder is a plain function, so a `tf.distribute` strategy scope can wrap it.

- "compact" (default): four Conv-ReLU-MaxPool blocks, frequency averaged away, time pooled over
  the central part of the window only. The score therefore answers "is a call sounding in the
  middle of this window?", with the window's edges as context, which is what lets counting keep
  apart calls separated by only a second of quiet. No BatchNorm: with the few hundred clips a
  user has, its running statistics lag and validation collapsed to "all calls" (measured on the
  end-to-end test's data: validation accuracy 0.80 with BatchNorm, 1.00 without); the
  standardisation at the input does the job instead. Built with `shared_trunk_network`'s settings
  (the capuchinbird preset's network since 2026-12-04; `train.py --no-shared-trunk` for the other) it
  standardises each frame by its neighbours and pools time to the counting hop, so counting runs its
  convolutions once per block of windows (`model.detection.shared_trunk`); without them it standardises
  its whole window, and counting scores window by window.
- "seed": the reference network of the blog post this project starts from (two 16-filter 3x3
  convolutions with max-pooling, Flatten, Dense 128, Dropout 0.3), for comparison.
- "efficientnetb0", "resnet50": an ImageNet backbone from keras.applications on the spectrogram
  as a 3-channel image (transfer learning; see `build_pretrained` and the freeze schedule in
  model.learning.training).

The head has one sigmoid unit for two classes (the probability of the second class: the call)
and a softmax over the classes otherwise.
"""

from __future__ import annotations

import warnings

PRETRAINED = {"efficientnetb0": "EfficientNetB0", "resnet50": "ResNet50"}  # name -> keras.applications builder
ARCHITECTURES = ("compact", "seed", *PRETRAINED)


def _head(n_classes: int):
    import keras

    # float32 output even under a mixed-precision policy, so probabilities and losses stay exact.
    if n_classes == 2:
        return keras.layers.Dense(1, activation="sigmoid", name="call_probability", dtype="float32")
    return keras.layers.Dense(n_classes, activation="softmax", name="class_probabilities", dtype="float32")


def build_compact(
    input_shape: tuple[int, int],
    n_classes: int = 2,
    filters: tuple[int, ...] = (16, 32, 64, 64),
    dropout: float = 0.3,
    centre_fraction: float = 0.125,
    time_pooling: str = "max",
    panels: int = 1,
    time_pools: tuple[int, ...] | None = None,
    normalisation: str = "window",
    context_frames: int = 20,
):
    """Compact CNN; `centre_fraction` of the time axis (after the convolutions) is pooled for the
    score, by its maximum ("is it there?") or its average ("how much of it is there?"). `panels`:
    the input's bins are that many panels side by side (the front end's `panels`), taken as channels,
    each standardised on its own.

    time_pools: each block's max-pooling factor along time (None: 2 in every block; frequency is always
    halved). normalisation: "window" standardises the whole window; "sliding" standardises each frame by
    the `context_frames` on either side of it (`model.layers.SlidingStandardise`). With "sliding" and time
    pools whose product is the counting hop in frames, overlapping windows share their convolutions when
    counting (`shared_trunk_network`, `model.detection.shared_trunk`)."""
    import keras
    from keras import layers

    frames, bins = input_shape
    inputs = keras.Input(shape=(frames, bins), name="spectrogram")
    time_pools = tuple(time_pools or (2,) * len(filters))
    if len(time_pools) != len(filters) or min(time_pools) < 1:
        raise ValueError(f"time_pools needs one factor >= 1 per block ({len(filters)}), got {time_pools}")
    if normalisation not in ("window", "sliding"):
        raise ValueError(f"normalisation must be 'window' or 'sliding', got {normalisation!r}")
    if normalisation == "sliding":
        from model.layers import SlidingStandardise

        if panels != 1:
            raise ValueError("normalisation 'sliding' takes a front end without a pulse panel")
        x = layers.Reshape((frames, bins, 1))(inputs)
        x = SlidingStandardise(context_frames, name="standardise")(x)
    elif panels == 1:
        x = layers.Reshape((frames, bins, 1))(inputs)
        # Per-window standardisation: gain and recording level do not change the score.
        x = layers.LayerNormalization(axis=(1, 2, 3), center=False, scale=False, name="standardise")(x)
    else:
        x = layers.Reshape((frames, panels, bins // panels))(inputs)
        x = layers.Permute((1, 3, 2), name="panels_as_channels")(x)
        x = layers.LayerNormalization(axis=(1, 2), center=False, scale=False, name="standardise")(x)
    for i, (f, pool) in enumerate(zip(filters, time_pools)):
        x = layers.Conv2D(f, 3, padding="same", activation="relu", name=f"conv{i}")(x)
        x = layers.MaxPooling2D((pool, 2), padding="same", name=f"pool{i}")(x)
    t, fq = x.shape[1], x.shape[2]
    x = layers.AveragePooling2D(pool_size=(1, fq), name="average_frequency")(x)
    x = layers.Reshape((t, filters[-1]), name="frames_by_features")(x)
    left, right = centre_crop(t, centre_fraction)
    if left or right:
        x = layers.Cropping1D((left, right), name="centre_of_window")(x)
    if time_pooling not in ("max", "average"):
        raise ValueError(f"time_pooling must be 'max' or 'average', got {time_pooling!r}")
    x = (layers.GlobalMaxPooling1D if time_pooling == "max" else layers.GlobalAveragePooling1D)(name="pool_centre")(x)
    x = layers.Dropout(dropout)(x)
    return keras.Model(inputs, _head(n_classes)(x), name="compact")


def centre_crop(steps: int, centre_fraction: float) -> tuple[int, int]:
    """(steps cropped at the start, at the end) of the compact network's time axis, keeping the centre."""
    crop = steps - max(1, int(round(steps * centre_fraction)))
    return crop // 2, crop - crop // 2


def shared_trunk_network(frontend, hop_s: float, filters: tuple[int, ...] = (16, 32, 64, 64),
                         centre_fraction: float = 0.125) -> dict:
    """Compact-network settings whose windows `hop_s` apart share their convolutions when counting
    (`model.detection.shared_trunk`): time pools whose product is the hop in frames (the prime factors,
    smallest first, then 1s), and frames standardised by as many neighbours as the score's centre can
    see without reaching past its window's edges."""
    from data_pipeline.features.windows import hop_samples
    from model.detection.shared_trunk import centre_frames

    hop_frames = hop_samples(frontend, hop_s) // frontend.frame_step
    factors, n, d = [], hop_frames, 2
    while n > 1:
        while n % d == 0:
            factors.append(d)
            n //= d
        d += 1
    while len(factors) > len(filters):
        factors = sorted([factors[0] * factors[1], *factors[2:]])
    pools = tuple(factors) + (1,) * (len(filters) - len(factors))
    frames = frontend.input_shape[0]
    steps = -(-frames // hop_frames)  # 'same' pooling rounds up at every block
    left, right = centre_crop(steps, centre_fraction)
    first, last = centre_frames(frames, pools, steps - left - right, left)
    context = min(first, frames - 1 - last)
    if context < 0:
        raise ValueError(f"shared convolutions at a {hop_s:g} s hop need a score from the middle of each window; with "
                         f"{frontend.clip_s:g} s windows and centre_fraction {centre_fraction:g} it would reach past the "
                         "window's edges")
    return {"filters": tuple(filters), "centre_fraction": centre_fraction, "time_pools": pools,
            "normalisation": "sliding", "context_frames": context}


def is_shared_trunk(network: dict) -> bool:
    """Whether compact-network settings are `shared_trunk_network`'s (frames standardised by their neighbours)."""
    return network.get("normalisation") == "sliding"


def build_seed(input_shape: tuple[int, int], n_classes: int = 2):
    """The blog post's network, as published (with max-pooling after each convolution)."""
    import keras
    from keras import layers

    frames, bins = input_shape
    inputs = keras.Input(shape=(frames, bins), name="spectrogram")
    x = layers.Reshape((frames, bins, 1))(inputs)
    x = layers.Conv2D(16, 3, activation="relu")(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Conv2D(16, 3, activation="relu")(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    x = layers.Dense(128, activation="relu")(x)
    x = layers.Dropout(0.3)(x)
    return keras.Model(inputs, _head(n_classes)(x), name="seed")


def build_pretrained(
    input_shape: tuple[int, int],
    n_classes: int = 2,
    backbone: str = "efficientnetb0",
    weights: str | None = "imagenet",
    min_image_size: int = 32,
    dropout: float = 0.3,
):
    """An ImageNet backbone on the spectrogram drawn as a grey 3-channel image.

    Each window is standardised, spread over the 0-255 range the EfficientNet expects (ResNet's
    caffe preprocessing wants the same range centred on 0) and copied to three channels; windows
    smaller than `min_image_size` (the applications' minimum, 32) are scaled up.

    weights: "imagenet" loads the published weights when they can be downloaded (or are cached in
        ~/.keras/models); without network the backbone starts from random weights, with a warning.
        A path loads weights saved from the same backbone. None (tests) never downloads.
    The returned model's `backbone_weights` says what was loaded (None: random), which decides the
    freeze schedule in model.learning.training.
    """
    import keras
    from keras import layers

    if backbone not in PRETRAINED:
        raise ValueError(f"unknown backbone {backbone!r}; choose one of {list(PRETRAINED)}")
    frames, bins = input_shape
    size = (max(frames, min_image_size), max(bins, min_image_size))
    inputs = keras.Input(shape=(frames, bins), name="spectrogram")
    x = layers.Reshape((frames, bins, 1))(inputs)
    x = layers.LayerNormalization(axis=(1, 2, 3), center=False, scale=False, name="standardise")(x)
    if size != (frames, bins):
        x = layers.Resizing(*size, name="to_min_image_size")(x)
    x = layers.Rescaling(48.0, offset=128.0 if backbone.startswith("efficientnet") else 0.0, name="to_pixel_range")(x)
    x = layers.Concatenate(name="grey_to_rgb")([x, x, x])
    # The application's own name names its weights file, so it is kept.
    make = getattr(keras.applications, PRETRAINED[backbone])
    try:
        base = make(include_top=False, weights=weights, input_shape=(*size, 3), pooling="avg")
    except Exception as err:  # no network, or weights that do not fit: train from scratch rather than stop
        warnings.warn(f"could not load {weights} weights for {backbone} ({err}); starting from random weights")
        base, weights = make(include_top=False, weights=None, input_shape=(*size, 3), pooling="avg"), None
    x = layers.Dropout(dropout)(base(x))
    model = keras.Model(inputs, _head(n_classes)(x), name=backbone)
    model.backbone_weights = weights
    return model


def backbone_of(net):
    """The pretrained backbone (a nested keras Model) inside a network, or None."""
    import keras

    return next((layer for layer in net.layers if isinstance(layer, keras.Model)), None)


def set_backbone_trainable(net, trainable: bool) -> None:
    """Freeze or unfreeze the backbone; its BatchNorm layers stay frozen either way, keeping the
    pretrained statistics (Keras 3 runs a frozen BatchNorm in inference mode; a `training=False`
    on the nested call is not kept by the functional model: measured, the statistics moved)."""
    import keras

    base = backbone_of(net)
    base.trainable = trainable
    for layer in base.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False


def build_model(arch: str, input_shape: tuple[int, int], n_classes: int = 2, frontend=None, **kwargs):
    """Network by name (see ARCHITECTURES); `kwargs` go to its builder.

    frontend: the FrontendConfig the network is fed; a detector (two classes) whose front end has a
    silence floor gets the SilenceGate on its output (`model.layers`). Only "compact" takes a front
    end with a pulse panel.
    """
    panels = frontend.panels if frontend is not None else 1
    if panels > 1 and arch != "compact":
        raise ValueError(f"a front end with a pulse panel needs the compact network, not {arch!r}")
    if arch == "compact":
        net = build_compact(input_shape, n_classes, panels=panels, **kwargs)
    elif arch == "seed":
        net = build_seed(input_shape, n_classes)
    elif arch in PRETRAINED:
        net = build_pretrained(input_shape, n_classes, backbone=arch, **kwargs)
    else:
        raise ValueError(f"unknown architecture {arch!r}; choose one of {ARCHITECTURES}")
    threshold = frontend.silence_threshold() if frontend is not None else None
    if threshold is not None and n_classes == 2:
        from model.layers import with_silence_gate

        net = with_silence_gate(net, threshold, frontend.scale, frontend.n_bins if panels > 1 else None)
    return net
