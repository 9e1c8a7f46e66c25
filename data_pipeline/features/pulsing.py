"""How much a stretch of audio pulses: the measure counting's pulse gate reads (model.detection.events).

A Capuchinbird's call is a growl and then a stack of harmonics that hold their level; a frog's trill or an
insect's chirping is a train of pulses. The front end's 32 ms frames average pulses of 40 a second and more
away, so to the network a fast trill looks like a harmonic stack, as a call does (README, "Knowing what is not
a call"). Sub-frames of 8 ms see them: in each frame of the front end and each frequency bin, the spread of
log level over its sub-frames (`frontend.pulse_panel`), in dB, averaged over the bins of PULSE_BAND_HZ weighted
by their power and over the frames. Over the calls found in benchmark runs it was 2.5-4.3 dB (2,495 calls,
every condition), over the frog choruses called 7.0-47.9 and the insect stream 25-27
(`benchmarks/pulse_gate.py`).
"""

from __future__ import annotations

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
    """Pulse spread (dB) of each piece of audio [n, samples] through `measuring` (from `pulse_frontend`); NaN for
    a piece with no power in the band (digital silence) or too short for one frame."""
    pieces = np.asarray(pieces, np.float32)
    if len(pieces) == 0 or pieces.shape[-1] < measuring.frame_length:
        return np.full(len(pieces), np.nan)
    band = _band(measuring)
    power = np.asarray(input_power(spectrogram(pieces, measuring), measuring.scale))[..., band]
    spread = np.asarray(pulse_panel(pieces, measuring))[..., band] * DB_PER_LOG
    weight = power.sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(weight > 0, (spread * power).sum(axis=(1, 2)) / weight, np.nan)


def centre_pieces(audio: np.ndarray, starts: np.ndarray, window: int, piece: int) -> np.ndarray:
    """[n, piece] samples around the centre of each window of `window` samples starting at `starts` in
    `audio` (zero-padded where a piece reaches past either end)."""
    first = np.asarray(starts, int) + (window - piece) // 2
    padded = np.pad(np.asarray(audio, np.float32), (piece, piece))
    return np.stack([padded[s + piece: s + 2 * piece] for s in first]) if len(first) else np.zeros((0, piece), np.float32)


def window_pulse_spreads(audio: np.ndarray, starts: np.ndarray, window: int, scores: np.ndarray,
                         measuring: FrontendConfig | None) -> np.ndarray:
    """Pulse spread (dB) around the centre of each window (`window` samples from `starts` in `audio`) scored
    MEASURED_FROM_SCORE or more; NaN for the others, and for all where `measuring` is None."""
    out = np.full(len(scores), np.nan, np.float32)
    measured = np.flatnonzero(np.asarray(scores) >= MEASURED_FROM_SCORE) if measuring is not None else []
    if len(measured):
        pieces = centre_pieces(audio, np.asarray(starts)[measured], window, int(PIECE_S * measuring.sample_rate_hz))
        out[measured] = pulse_spread_db(pieces, measuring)
    return out


def stretch_pulse_spread_db(audio: np.ndarray, measuring: FrontendConfig, hop_s: float = 0.25) -> float:
    """Pulse spread (dB) of a stretch of audio as the pulse gate reads a call: the median over PIECE_S pieces
    centred every `hop_s` along it (one, centred, where it is shorter than a piece); NaN if none measured."""
    rate = measuring.sample_rate_hz
    piece, hop = int(PIECE_S * rate), max(1, int(hop_s * rate))
    centres = np.arange(piece // 2, len(audio) - piece // 2 + 1, hop) if len(audio) >= piece else np.array([len(audio) // 2])
    spreads = pulse_spread_db(centre_pieces(audio, centres - piece // 2, piece, piece), measuring)
    spreads = spreads[np.isfinite(spreads)]
    return float(np.median(spreads)) if len(spreads) else float("nan")
