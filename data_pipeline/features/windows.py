"""Overlapping model-input windows over a long recording, read in blocks so memory stays flat.

Window k covers samples [k * hop, k * hop + clip) of the resampled recording, for every k whose
window fits; where that leaves the end uncovered, one last window ends exactly at the recording's
end. Nothing is zero-padded except a recording shorter than one window (padded, as short training
clips are): padding puts digital silence into a window, which a network never heard in training
and may score as anything (it scored 1.0 at the end of forest recordings). Training windows of long
files are cut the same way (`window_starts`).

Each block's spectrogram is computed once and the grid windows are sliced out of it, which gives
exactly the frames `frame_features(pad_or_crop(...))` gives for each window on its own (tests hold
that), at a fraction of the cost. Per-window steps (`window_features`) run on the sliced windows,
so they match clips exactly too.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Iterator

import numpy as np

from data_pipeline.features.frontend import FrontendConfig, span_features, window_features


@dataclass
class WindowBatch:
    """Consecutive windows, `hop_frames` apart, and the block of frames they are cut from."""

    starts_s: np.ndarray  # start of each window, seconds from the start of the recording
    span: object  # tf.Tensor [frames, bins]: window k is span[k * hop_frames : k * hop_frames + window frames]
    frontend: FrontendConfig
    hop_frames: int
    audio: np.ndarray  # the samples under the span: window k starts at sample k * hop_frames * frame_step

    @cached_property
    def spectrograms(self):
        """tf.Tensor [windows, frames, bins], each window as the network takes it (`window_features`); cut once
        per batch, however many networks score it (model.detection.detector.AveragedDetector)."""
        import tensorflow as tf

        frames = tf.signal.frame(self.span, self.frontend.input_shape[0], self.hop_frames, axis=0)
        return window_features(frames[: len(self.starts_s)], self.frontend)


def hop_samples(frontend: FrontendConfig, hop_s: float) -> int:
    """Window hop in samples; it must be a whole number of STFT frames so windows share frames."""
    hop = int(round(hop_s * frontend.sample_rate_hz))
    if hop <= 0 or hop % frontend.frame_step:
        raise ValueError(
            f"hop_s={hop_s} is not a positive multiple of the frame step "
            f"({frontend.frame_step_s:g} s = {frontend.frame_step} samples)"
        )
    return hop


def window_starts(n_samples: int, clip_samples: int, hop: int) -> np.ndarray:
    """Start of every window over an `n_samples` recording (see module doc), in samples.

    Works in any unit: seconds too (`cut_into_windows` passes durations).
    """
    if n_samples <= clip_samples:
        return np.zeros(1, type(hop))
    starts = np.arange(0, n_samples - clip_samples + 1e-9, hop)
    if starts[-1] + clip_samples < n_samples - 1e-9:
        starts = np.append(starts, n_samples - clip_samples)
    return starts


def n_windows(n_samples: int, clip_samples: int, hop: int) -> int:
    """Windows over an `n_samples` recording: every sample lies under at least one."""
    return len(window_starts(n_samples, clip_samples, hop))


def iter_windows(
    audio_blocks: Iterator[np.ndarray],
    frontend: FrontendConfig,
    hop_s: float,
    max_windows_per_batch: int = 64,
) -> Iterator[WindowBatch]:
    """Spectrogram windows from consecutive blocks of resampled audio (see module doc).

    max_windows_per_batch: windows per batch (per network call when counting). 64 rather than 256 counted
    the 40 shared recordings 1.19x faster (smaller calls fit the caches) with ~120 MB less peak memory,
    the same counts (benchmarks/count_throughput.py, README). Every batch but a recording's last is full,
    whatever the size of the audio blocks, so the network (padded to a full batch) does no wasted work.
    """
    hop = hop_samples(frontend, hop_s)
    clip = frontend.clip_samples
    hop_frames = hop // frontend.frame_step
    buffer = np.zeros(0, np.float32)
    tail = np.zeros(0, np.float32)  # the last `clip` samples seen, for a final window ending at the end
    first = 0  # index of the next grid window; the buffer starts at sample first * hop
    total = 0  # samples seen so far

    def emit(count: int) -> WindowBatch:
        span = buffer[: (count - 1) * hop + clip]
        if len(span) < (count - 1) * hop + clip:
            span = np.pad(span, (0, (count - 1) * hop + clip - len(span)))
        return WindowBatch(((first + np.arange(count)) * hop) / frontend.sample_rate_hz, span_features(frontend)(span),
                           frontend, hop_frames, span)

    full = (max_windows_per_batch - 1) * hop + clip  # samples under a full batch
    for block in audio_blocks:
        buffer = np.concatenate([buffer, block])
        tail = np.concatenate([tail, block])[-clip:]
        total += len(block)
        while len(buffer) >= full:  # only full batches while more audio may come, whatever the block size
            yield emit(max_windows_per_batch)
            buffer = buffer[max_windows_per_batch * hop :]
            first += max_windows_per_batch
    if len(buffer) >= clip:  # the grid windows left at the end: fewer than a batch
        count = 1 + (len(buffer) - clip) // hop
        yield emit(count)
        first += count
    if total <= clip:  # shorter than one window: the one window, zero-padded
        if first == 0:
            yield emit(1)
    elif (first - 1) * hop + clip < total:  # the grid stops short of the end: one window ending there
        yield WindowBatch(np.array([(total - clip) / frontend.sample_rate_hz]), span_features(frontend)(tail), frontend,
                          hop_frames, tail)
