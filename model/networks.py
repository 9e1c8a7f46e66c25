"""The classifiers: spectrogram window [frames, bins] in, class probabilities out.

Only Keras 3 layers, no raw TensorFlow ops, so a network also builds on the JAX and PyTorch
backends. Each builder is a plain function, so a `tf.distribute` strategy scope can wrap it.

- "compact" (default): four Conv-ReLU-MaxPool blocks, frequency averaged away, time pooled over
  the central part of the window only. The score therefore answers "is a call sounding in the
  middle of this window?", with the window's edges as context, which is what lets counting keep
  apart calls separated by only a second of quiet. No BatchNorm: with the few hundred clips a
  user has, its running statistics lag and validation collapsed to "all calls" (measured on the
  end-to-end test's data: validation accuracy 0.80 with BatchNorm, 1.00 without); the
  per-window standardisation at the input does the job instead.
- "seed": the reference network of the blog post this project starts from (two 16-filter 3x3
  convolutions with max-pooling, Flatten, Dense 128, Dropout 0.3), for comparison.
"""

from __future__ import annotations

ARCHITECTURES = ("compact", "seed")


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
):
    """Compact CNN; `centre_fraction` of the time axis (after the convolutions) is pooled for the score."""
    import keras
    from keras import layers

    frames, bins = input_shape
    inputs = keras.Input(shape=(frames, bins), name="spectrogram")
    x = layers.Reshape((frames, bins, 1))(inputs)
    # Per-window standardisation: gain and recording level do not change the score.
    x = layers.LayerNormalization(axis=(1, 2, 3), center=False, scale=False, name="standardise")(x)
    for i, f in enumerate(filters):
        x = layers.Conv2D(f, 3, padding="same", activation="relu", name=f"conv{i}")(x)
        x = layers.MaxPooling2D(2, padding="same")(x)
    t, fq = x.shape[1], x.shape[2]
    x = layers.AveragePooling2D(pool_size=(1, fq), name="average_frequency")(x)
    x = layers.Reshape((t, filters[-1]))(x)
    keep = max(1, int(round(t * centre_fraction)))
    crop = t - keep
    if crop:
        x = layers.Cropping1D((crop // 2, crop - crop // 2), name="centre_of_window")(x)
    x = layers.GlobalMaxPooling1D()(x)
    x = layers.Dropout(dropout)(x)
    return keras.Model(inputs, _head(n_classes)(x), name="compact")


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


def build_model(arch: str, input_shape: tuple[int, int], n_classes: int = 2, **kwargs):
    """Network by name (see ARCHITECTURES)."""
    if arch == "compact":
        return build_compact(input_shape, n_classes, **kwargs)
    if arch == "seed":
        return build_seed(input_shape, n_classes)
    raise ValueError(f"unknown architecture {arch!r}; choose one of {ARCHITECTURES}")
