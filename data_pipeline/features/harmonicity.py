"""How much a stretch of audio is a harmonic stack: the measure counting's harmonic gate reads (model.detection.events).

A Capuchinbird's call is a dense stack of harmonics, evenly spaced (133-156 Hz apart in every sure call of
../shared/forest: benchmarks/call_pitch.py), over 400-2000 Hz. Breaking glass, knocks, heartbeats, a steady tone and
noise hold no such even spacing, and yet a network trained on a few recordings may score them as calls (docs/not-a-call.md,
"Calls that hold a harmonic stack"). Per frame of FRAME_S: the log magnitude over HARMONIC_BAND_HZ less its running
mean over SMOOTH_HZ (what is left is the ripple partials make), and that ripple's autocorrelation, normalised, at its
highest over the spacings of FUNDAMENTAL_HZ: near 1 for an even stack, about 0.2 for noise. A piece of PIECE_S takes
the median over its frames. Numpy only: the windows of the 40 shared 180 s recordings took 0.26-0.45 s of one core
(README).

The same frames give the stack's pitch glide, what counting's pitch-glide gate reads: a Capuchinbird holds the pitch
of its stack (the forest calls drift by a few hundredths of an octave a second), while a cow's moo, a howler's roar,
a siren sweep theirs. Per frame, the partials' spacing is the autocorrelation's peak, refined between bins, and taken
at a half or a third of that lag where the ripple repeats there nearly as strongly (the peak at twice the spacing
beats the true one in about half of a call's frames). A piece's glide is how fast the log spacing moves over its
frames at least GLIDE_FROM_HARMONICITY harmonic: the median of the slopes between every two of them (Theil-Sen, which
a step from the growl's pitch to the stack's moves little), in octaves a second, unsigned; NaN below
GLIDE_MIN_FRAMES such frames.
"""

from __future__ import annotations

import math

import numpy as np

from data_pipeline.features.pulsing import MEASURED_FROM_SCORE, PIECE_S

HARMONIC_BAND_HZ = (300.0, 2400.0)  # the call's stack, below the 2.5 kHz top of the default front end
FUNDAMENTAL_HZ = (80.0, 450.0)  # partial spacings looked for; the forest calls' is 133 Hz
FRAME_S = 0.064  # 1024 samples at 16 kHz: 15.6 Hz bins, about eight to the calls' spacing
HOP_S = 1 / 32  # 500 samples at 16 kHz, half a frame: 0.25 s hops fall on frame starts
SMOOTH_HZ = 140.0  # the running mean the ripple is measured against: about one spacing
GLIDE_FROM_HARMONICITY = 0.5  # frames this harmonic are read for the glide (the forest calls' stacks: 0.65-0.82)
GLIDE_MIN_FRAMES = 8  # of the about 30 frames in a piece: a quarter second of stack
SUBHARMONIC_SHARE = 0.7  # a lag a half or a third of the peak's is the spacing where it holds this much of the peak


def frame_length(sample_rate_hz: int) -> int:
    """FRAME_S rounded up to a power of two, in samples."""
    return 1 << max(0, math.ceil(math.log2(FRAME_S * sample_rate_hz)))


def frame_stack(audio: np.ndarray, sample_rate_hz: int) -> tuple[np.ndarray, np.ndarray]:
    """(harmonicity, partial spacing in Hz) of each frame of `audio` (FRAME_S long, every HOP_S); both NaN where the
    band holds no energy or the rate leaves it too narrow to hold two spacings."""
    n_fft, hop = frame_length(sample_rate_hz), max(1, round(HOP_S * sample_rate_hz))
    audio = np.asarray(audio, np.float32)
    if len(audio) < n_fft:
        return np.zeros(0), np.zeros(0)
    frames = np.lib.stride_tricks.sliding_window_view(audio, n_fft)[::hop]
    bin_hz = sample_rate_hz / n_fft
    hz = np.arange(n_fft // 2 + 1) * bin_hz
    band = np.flatnonzero((hz >= HARMONIC_BAND_HZ[0]) & (hz <= min(HARMONIC_BAND_HZ[1], sample_rate_hz / 2)))
    lags = np.arange(math.ceil(FUNDAMENTAL_HZ[0] / bin_hz), math.floor(FUNDAMENTAL_HZ[1] / bin_hz) + 1)
    if len(band) < 2 * lags[-1] + 1:
        return np.full(len(frames), np.nan), np.full(len(frames), np.nan)
    magnitude = np.abs(np.fft.rfft(frames * np.hanning(n_fft).astype(np.float32), axis=1)[:, band])
    level = np.log(magnitude + 1e-9)
    ripple = level - _running_mean(level, max(1, round(SMOOTH_HZ / bin_hz)))
    ripple -= ripple.mean(axis=1, keepdims=True)
    spectrum = np.fft.rfft(ripple, n=2 * ripple.shape[1], axis=1)
    autocorrelation = np.fft.irfft(np.abs(spectrum) ** 2, axis=1)[:, : lags[-1] + 2]
    peak = lags[autocorrelation[:, lags].argmax(axis=1)]
    rows = np.arange(len(frames))
    with np.errstate(invalid="ignore", divide="ignore"):
        value = autocorrelation[rows, peak] / autocorrelation[:, 0]
    silent = (magnitude ** 2).sum(axis=1) <= 0
    value = np.where(silent | ~np.isfinite(value), np.nan, value)
    return value, np.where(np.isfinite(value), _spacing(autocorrelation, peak, lags[0]) * bin_hz, np.nan)


def _spacing(autocorrelation: np.ndarray, peak: np.ndarray, lowest: int) -> np.ndarray:
    """Each frame's partial spacing in bins: the autocorrelation's peak lag, or the best lag next to a third or a
    half of it where that holds SUBHARMONIC_SHARE of the peak, refined by a parabola through its neighbours."""
    rows = np.arange(len(peak))
    lag = peak.copy()
    for divisor in (3, 2):
        near = np.clip(np.round(peak / divisor).astype(int), lowest + 1, None)
        around = np.stack([autocorrelation[rows, near + d] for d in (-1, 0, 1)], axis=1)
        strong = (peak / divisor >= lowest) & (around.max(axis=1) >= SUBHARMONIC_SHARE * autocorrelation[rows, peak])
        lag = np.where(strong & (lag == peak), near - 1 + around.argmax(axis=1), lag)
    y0, y1, y2 = (autocorrelation[rows, lag + d] for d in (-1, 0, 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        shift = np.nan_to_num(0.5 * (y0 - y2) / (y0 - 2 * y1 + y2))
    return lag + np.clip(shift, -0.5, 0.5)


def _running_mean(x: np.ndarray, width: int) -> np.ndarray:
    """Mean over `width` bins centred on each bin, the bins beyond the edges counted as 0 (np.convolve 'same')."""
    padded = np.pad(x, ((0, 0), (width // 2, width - 1 - width // 2)))
    sums = np.cumsum(np.pad(padded, ((0, 0), (1, 0))), axis=1)
    return (sums[:, width:] - sums[:, :-width]) / width


def piece_harmonicity(audio: np.ndarray, first_samples: np.ndarray, piece: int, sample_rate_hz: int) -> np.ndarray:
    """Harmonicity of the pieces of `piece` samples starting at `first_samples` of `audio`: the median over the
    frames that lie wholly inside each; the frames are analysed once over the stretch the pieces cover."""
    return piece_stack(audio, first_samples, piece, sample_rate_hz)[0]


def piece_stack(audio: np.ndarray, first_samples: np.ndarray, piece: int,
                sample_rate_hz: int) -> tuple[np.ndarray, np.ndarray]:
    """(harmonicity, pitch glide in octaves a second) of the pieces of `piece` samples starting at `first_samples`
    of `audio`, from the frames that lie wholly inside each (module docstring); the frames are analysed once over
    the stretch the pieces cover."""
    first_samples = np.asarray(first_samples, int)
    harmonicity, glide = np.full(len(first_samples), np.nan), np.full(len(first_samples), np.nan)
    if not len(first_samples):
        return harmonicity, glide
    n_fft, hop = frame_length(sample_rate_hz), max(1, round(HOP_S * sample_rate_hz))
    lo = int(first_samples.min())
    values, spacings = frame_stack(audio[lo: int(first_samples.max()) + piece], sample_rate_hz)
    for k, start in enumerate(first_samples - lo):
        a = -(-start // hop)  # the first frame starting at or after the piece's start
        b = (start + piece - n_fft) // hop + 1  # one past the last frame ending inside it
        inside = values[a: max(a, b)]
        finite = np.isfinite(inside)
        if finite.any():
            harmonicity[k] = np.median(inside[finite])
        stack = np.flatnonzero(finite & (np.nan_to_num(inside) >= GLIDE_FROM_HARMONICITY))
        if len(stack) >= GLIDE_MIN_FRAMES:
            glide[k] = _theil_sen_slope(stack * HOP_S, np.log2(spacings[a + stack]))
    return harmonicity, glide


def _theil_sen_slope(t: np.ndarray, y: np.ndarray) -> float:
    """The median of the slopes between every two points, unsigned."""
    i, j = np.triu_indices(len(t), 1)
    return float(abs(np.median((y[j] - y[i]) / (t[j] - t[i]))))


def window_harmonicities(audio: np.ndarray, starts: np.ndarray, window: int, scores: np.ndarray,
                         sample_rate_hz: int) -> np.ndarray:
    """Harmonicity of the PIECE_S around the centre of each window (`window` samples from `starts` in `audio`)
    scored MEASURED_FROM_SCORE or more, as the pulse gate measures its pieces; NaN for the others."""
    return window_stack(audio, starts, window, scores, sample_rate_hz)[0]


def window_stack(audio: np.ndarray, starts: np.ndarray, window: int, scores: np.ndarray,
                 sample_rate_hz: int) -> tuple[np.ndarray, np.ndarray]:
    """(harmonicity, pitch glide) of the PIECE_S around the centre of each window (`window` samples from `starts`
    in `audio`) scored MEASURED_FROM_SCORE or more, as the pulse gate measures its pieces; NaN for the others."""
    harmonicity, glide = np.full(len(scores), np.nan), np.full(len(scores), np.nan)
    measured = np.flatnonzero(np.asarray(scores) >= MEASURED_FROM_SCORE)
    if len(measured):
        piece = int(PIECE_S * sample_rate_hz)
        first = np.maximum(np.asarray(starts)[measured] + (window - piece) // 2, 0)
        harmonicity[measured], glide[measured] = piece_stack(audio, first, min(piece, len(audio)), sample_rate_hz)
    return harmonicity, glide


def stretch_stack(audio: np.ndarray, sample_rate_hz: int, hop_s: float = 0.25) -> tuple[float, float]:
    """(harmonicity, pitch glide) of a stretch as the harmonic and pitch-glide gates read a call, from the PIECE_S
    pieces every `hop_s` along it (the whole stretch where it is shorter than a piece): the highest harmonicity,
    the median glide; NaN where no piece could be measured."""
    piece = min(len(audio), int(PIECE_S * sample_rate_hz))
    first = np.arange(0, len(audio) - piece + 1, max(1, round(hop_s * sample_rate_hz)))
    harmonicity, glide = piece_stack(audio, first, piece, sample_rate_hz)
    harmonicity, glide = harmonicity[np.isfinite(harmonicity)], glide[np.isfinite(glide)]
    return (float(harmonicity.max()) if len(harmonicity) else float("nan"),
            float(np.median(glide)) if len(glide) else float("nan"))


def stretch_harmonicity(audio: np.ndarray, sample_rate_hz: int, hop_s: float = 0.25) -> float:
    """Harmonicity of a stretch as the harmonic gate reads a call (`stretch_stack`)."""
    return stretch_stack(audio, sample_rate_hz, hop_s)[0]


def stretch_pitch_glide(audio: np.ndarray, sample_rate_hz: int, hop_s: float = 0.25) -> float:
    """Pitch glide (octaves a second) of a stretch as the pitch-glide gate reads a call (`stretch_stack`)."""
    return stretch_stack(audio, sample_rate_hz, hop_s)[1]
