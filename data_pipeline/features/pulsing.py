"""How much a stretch of audio pulses: the measure counting's pulse gate reads (model.detection.events).

A Capuchinbird's call is a growl and then a stack of harmonics that hold their level; a frog's trill or an
insect's chirping is a train of pulses. The front end's 32 ms frames average pulses of 40 a second and more
away, so to the network a fast trill looks like a harmonic stack, as a call does (README, "Knowing what is not
a call"). Sub-frames of 8 ms see them: in each frame of the front end and each frequency bin, the spread of
log level over its sub-frames (`frontend.pulse_panel`), in dB, averaged over the bins of PULSE_BAND_HZ weighted
by their power and over the frames. Over the calls found in benchmark runs it was 2.7-4.7 dB (3,857 calls,
every condition), over the frog choruses called 7.0-47.5 and the insect stream 25.9-26.4
(`benchmarks/pulse_gate.py`; docs/not-a-call.md, "Calls that pulse").
"""

from __future__ import annotations

import functools
import math
from dataclasses import replace

import numpy as np

from data_pipeline.features.frontend import FrontendConfig, input_power, pulse_panel, spectrogram

PULSE_BAND_HZ = (400.0, 2400.0)  # where Capuchinbird calls and the frogs and insects that fooled the network lie
SUBFRAME_S = 0.008  # 128 samples at 16 kHz
PIECE_S = 1.0  # the audio measured for each window: this much around its centre
# Windows scored at least this get their pulse spread measured; the others are no call at any threshold counting
# tuning tries (0.3 and up), and measuring them would cost counting time for nothing.
MEASURED_FROM_SCORE = 0.2
DB_PER_LOG = 20 / math.log(10)  # the pulse panel is in natural-log units of magnitude


def pulse_frontend(frontend: FrontendConfig) -> FrontendConfig | None:
    """The front end with its pulse panel at SUBFRAME_S, or None where pulsing cannot be measured through it
    (mel bands, median subtraction, a frame step not divisible into sub-frames, no bin in PULSE_BAND_HZ)."""
    try:
        measuring = replace(frontend, pulse_frame_length=max(1, round(SUBFRAME_S * frontend.sample_rate_hz)))
    except ValueError:
        return None
    return measuring if _band(measuring).any() else None


def _band(frontend: FrontendConfig) -> np.ndarray:
    lo, hi = frontend.bin_range
    hz = np.arange(lo, hi) * frontend.sample_rate_hz / frontend.fft_length
    return (hz >= PULSE_BAND_HZ[0]) & (hz <= PULSE_BAND_HZ[1])


def pulse_spread_db(pieces: np.ndarray, measuring: FrontendConfig) -> np.ndarray:
    """Pulse spread (dB) of each piece of audio [n, samples] through `measuring` (from `pulse_frontend`): over all
    its frames, the spread of each band bin weighted by the bin's power. NaN for a piece shorter than a frame."""
    pieces = np.asarray(pieces, np.float32)
    return np.array([_spread(_frame_terms(measuring)(piece).numpy().sum(axis=0)) for piece in pieces]).reshape(len(pieces))


def window_pulse_spreads(audio: np.ndarray, starts: np.ndarray, window: int, scores: np.ndarray,
                         measuring: FrontendConfig | None) -> np.ndarray:
    """Pulse spread (dB) of the PIECE_S around the centre of each window (`window` samples from `starts` in
    `audio`) scored MEASURED_FROM_SCORE or more; NaN for the others, and for all where `measuring` is None.

    The sub-frames are analysed once over the stretch from the first piece measured to the last, not piece by
    piece (pieces of windows 0.25 s apart overlap fourfold), and each piece sums the frames it holds: the same
    figure as `pulse_spread_db` of the piece where it starts on a frame (as the default front end's do: 1 s into
    a 3 s window is frame 40).
    """
    out = np.full(len(scores), np.nan, np.float32)
    measured = np.flatnonzero(np.asarray(scores) >= MEASURED_FROM_SCORE) if measuring is not None else []
    if len(measured):
        piece = int(PIECE_S * measuring.sample_rate_hz)
        first = np.round((np.asarray(starts)[measured] + (window - piece) // 2) / measuring.frame_step).astype(int)
        first = np.maximum(first, 0)  # a window shorter than a piece: from its start
        out[measured] = _piece_spreads(audio, first, piece, measuring)
    return out


def stretch_pulse_spread_db(audio: np.ndarray, measuring: FrontendConfig, hop_s: float = 0.25) -> float:
    """Pulse spread (dB) of a stretch of audio as the pulse gate reads a call: the median over PIECE_S pieces
    every `hop_s` along it (the whole stretch where it is shorter than a piece); NaN if none could be measured."""
    piece = min(len(audio), int(PIECE_S * measuring.sample_rate_hz))
    hop = max(1, int(round(hop_s * measuring.sample_rate_hz / measuring.frame_step)))
    first = np.arange(0, max(1, measuring.n_frames(len(audio)) - measuring.n_frames(piece) + 1), hop)
    spreads = _piece_spreads(audio, first, piece, measuring)
    spreads = spreads[np.isfinite(spreads)]
    return float(np.median(spreads)) if len(spreads) else float("nan")


def _piece_spreads(audio: np.ndarray, first_frames: np.ndarray, piece: int, measuring: FrontendConfig) -> np.ndarray:
    """Pulse spread of the pieces of `piece` samples that start on frames `first_frames` of `audio`."""
    step, count = measuring.frame_step, measuring.n_frames(piece)
    lo = int(first_frames.min())
    stretch = np.asarray(audio[lo * step: int(first_frames.max()) * step + piece], np.float32)
    terms = _frame_terms(measuring)(stretch).numpy() if len(stretch) >= measuring.frame_length else np.zeros((0, 2))
    sums = np.concatenate([np.zeros((1, 2)), np.cumsum(terms, axis=0, dtype=np.float64)])
    a = np.minimum(first_frames - lo, len(terms))
    b = np.minimum(a + count, len(terms))
    return _spread(sums[b] - sums[a])


def _spread(sums: np.ndarray) -> np.ndarray:
    """Power-weighted mean spread (dB) from [..., 2] sums over frames of (spread x power, power); NaN without power."""
    num, den = np.asarray(sums, np.float64)[..., 0], np.asarray(sums, np.float64)[..., 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, np.nan)


@functools.lru_cache(maxsize=8)
def _frame_terms(measuring: FrontendConfig):
    """audio [samples] -> [frames, 2]: per frame of `measuring`, the sum over PULSE_BAND_HZ's bins of spread (dB)
    x power, and of power; traced once per front end (run eagerly, its ops cost more in Python than in arithmetic)."""
    import tensorflow as tf

    band = np.flatnonzero(_band(measuring))

    def terms(audio):
        power = tf.gather(input_power(spectrogram(audio, measuring), measuring.scale), band, axis=-1)
        spread = tf.gather(pulse_panel(audio, measuring), band, axis=-1) * DB_PER_LOG
        return tf.stack([tf.reduce_sum(spread * power, -1), tf.reduce_sum(power, -1)], -1)

    return tf.function(terms, input_signature=[tf.TensorSpec([None], tf.float32)])
