"""Overlapping model-input windows over a long recording, read in blocks so memory stays flat.

Window k covers samples [k * hop, k * hop + clip) of the resampled recording; the last window is
zero-padded past the end (as short training clips are). Each block's spectrogram is computed once
and the windows are sliced out of it, which gives exactly the frames `spectrogram(pad_or_crop(...))`
gives for each window on its own (tests hold that), at a fraction of the cost. Per-window steps
(`window_features`) run on the sliced windows, so they match clips exactly too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from data_pipeline.frontend import FrontendConfig, spectrogram, window_features


@dataclass
class WindowBatch:
    starts_s: np.ndarray  # start of each window, seconds from the start of the recording
    spectrograms: object  # tf.Tensor [windows, frames, bins]


def hop_samples(frontend: FrontendConfig, hop_s: float) -> int:
    """Window hop in samples; it must be a whole number of STFT frames so windows share frames."""
    hop = int(round(hop_s * frontend.sample_rate_hz))
    if hop <= 0 or hop % frontend.frame_step:
        raise ValueError(
            f"hop_s={hop_s} is not a positive multiple of the frame step "
            f"({frontend.frame_step_s:g} s = {frontend.frame_step} samples)"
        )
    return hop


def n_windows(n_samples: int, clip_samples: int, hop: int) -> int:
    """Windows needed so that every sample of an `n_samples` recording lies under one."""
    if n_samples <= clip_samples:
        return 1
    return 1 + -(-(n_samples - clip_samples) // hop)


def iter_windows(
    audio_blocks: Iterator[np.ndarray],
    frontend: FrontendConfig,
    hop_s: float,
    max_windows_per_batch: int = 256,
) -> Iterator[WindowBatch]:
    """Spectrogram windows from consecutive blocks of resampled audio (see module doc)."""
    import tensorflow as tf

    hop = hop_samples(frontend, hop_s)
    clip = frontend.clip_samples
    hop_frames = hop // frontend.frame_step
    frames_per_window = frontend.input_shape[0]
    buffer = np.zeros(0, np.float32)
    first = 0  # index of the next window; the buffer starts at sample first * hop
    total = 0  # samples seen so far

    def emit(count: int) -> WindowBatch:
        span = buffer[: (count - 1) * hop + clip]
        if len(span) < (count - 1) * hop + clip:
            span = np.pad(span, (0, (count - 1) * hop + clip - len(span)))
        spec = spectrogram(span, frontend)
        windows = tf.signal.frame(spec, frames_per_window, hop_frames, axis=0)[:count]
        return WindowBatch(((first + np.arange(count)) * hop) / frontend.sample_rate_hz, window_features(windows, frontend))

    for block in audio_blocks:
        buffer = np.concatenate([buffer, block])
        total += len(block)
        while len(buffer) >= clip:
            count = min(max_windows_per_batch, 1 + (len(buffer) - clip) // hop)
            yield emit(count)
            buffer = buffer[count * hop :]
            first += count
    remaining = n_windows(total, clip, hop) - first
    while remaining > 0:
        count = min(max_windows_per_batch, remaining)
        yield emit(count)
        buffer = buffer[count * hop :]
        first += count
        remaining -= count
