"""The spectrogram front end: one config, one function, used by training, prediction and counting.

`FrontendConfig` is saved beside every trained model (see `model.detection.detector`) and read back from
there, so a model is always fed the features it was trained on. Change a default here and every
new model gets it; old models keep the settings they were saved with.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass

import numpy as np

SCALES = ("log", "magnitude")
PULSE_SUBFRAMES = 10  # sub-frames per frame step in the pulse panel


@dataclass(frozen=True)
class FrontendConfig:
    """How a waveform becomes a spectrogram. Units are in the names (Hz, seconds, samples).

    sample_rate_hz: every file is resampled to this rate before anything else.
    clip_s: length of one model input; clips are zero-padded or cropped to it.
    frame_length, frame_step, fft_length: `tf.signal.stft` settings, in samples.
    min_freq_hz, max_freq_hz: frequency band kept (None = up to Nyquist). The Capuchinbird's
        harmonic stack lies between 400 and 2000 Hz. Stopping at 2.5 kHz rather than 4 kHz leaves out
        its faint 3 kHz band, and with it the insect bands that mimic it: cross-validated on the 40
        shared recordings, 0-4 kHz gave 22 false calls on one unheard recording (a tone at 2.4 kHz,
        insects at 3.5 kHz), 0-2.5 kHz none (benchmarks/forest_crossval.py; README).
    scale: "log" (log magnitude, default) or "magnitude" (the seed network's choice).
    log_floor: added to the magnitude before the log so silence stays finite.
    mel_bins: 0 keeps the linear FFT bins of the band; N > 0 pools them into N mel bands spanning
        the band (fine at low frequencies, coarse at high: everyday sounds, speech-like calls).
    silence_floor_dbfs: a window whose power in the band is below that of white noise at this RMS
        level (dB re full scale) scores "no call" (a gate in the network, `model.layers.SilenceGate`).
        Standardising a window of digital silence or dither blows it up into arbitrary values, which
        a network scored as a call (0.996). Measured through the default front end: digital silence
        -143 dBFS, 16-bit dither -92 (one-LSB steps) to -98 (triangular); the quietest 3 s window of
        the 40 shared forest recordings -84.6 (recording_35, a quiet recording without calls), the
        next quietest recording's -59. None: no gate; always None with `median_subtraction`, which
        removes the window's level the gate needs.
    median_subtraction: subtract, per window and per frequency, the median over the window's
        frames: steady hum, insect bands and the tape's colour vanish, short events stay (whale
        up-calls in ship noise, heart sounds over a body's rumble). Applied to each model window on
        its own (see `window_features`), so a window's features never depend on its neighbours.
    pulse_frame_length: 0 (default) feeds the network the spectrogram alone. N > 0 appends a second
        panel of as many bins, the pulse panel (`pulse_panel`): per frame and frequency, how much the
        level of N-sample sub-frames varies inside the frame. The default frame (32 ms) averages
        a trill of 40 or more pulses a second into a steady band with sidebands, a small harmonic
        stack as a call is (benchmarks/pulse_visibility.py); 8 ms sub-frames (N = 128) still see
        the pulses, while a call's harmonics hold steady. The compact network takes the two panels
        as two channels. An experiment so far (docs/not-a-call.md, "Pulsed sounds in the call band").
    """

    sample_rate_hz: int = 16000
    clip_s: float = 3.0
    frame_length: int = 512
    frame_step: int = 400
    fft_length: int = 512
    min_freq_hz: float = 0.0
    max_freq_hz: float | None = 2500.0
    scale: str = "log"
    log_floor: float = 1e-6
    mel_bins: int = 0
    median_subtraction: bool = False
    silence_floor_dbfs: float | None = -90.0
    pulse_frame_length: int = 0

    def __post_init__(self):
        if self.median_subtraction:  # the gate needs the window's level, which median subtraction removes
            object.__setattr__(self, "silence_floor_dbfs", None)
        problems = []
        if self.sample_rate_hz <= 0:
            problems.append("sample_rate_hz must be positive")
        if self.frame_length <= 0 or self.frame_step <= 0:
            problems.append("frame_length and frame_step must be positive")
        if self.fft_length < self.frame_length:
            problems.append("fft_length must be >= frame_length")
        if self.clip_samples < self.frame_length:
            problems.append("clip_s is shorter than one frame")
        if self.scale not in SCALES:
            problems.append(f"scale must be one of {SCALES}")
        nyquist = self.sample_rate_hz / 2
        top = nyquist if self.max_freq_hz is None else self.max_freq_hz
        if not 0 <= self.min_freq_hz < top <= nyquist:
            problems.append(f"need 0 <= min_freq_hz < max_freq_hz <= {nyquist:g} (Nyquist)")
        if self.mel_bins < 0:
            problems.append("mel_bins must be >= 0 (0 = linear frequency bins)")
        if self.silence_floor_dbfs is not None and not -200 < self.silence_floor_dbfs < 0:
            problems.append("silence_floor_dbfs must lie between -200 and 0 dBFS (or be None)")
        if self.pulse_frame_length:
            sub_step = self.frame_step // PULSE_SUBFRAMES
            if self.pulse_frame_length < 0 or self.frame_step % PULSE_SUBFRAMES or sub_step == 0:
                problems.append(f"pulse_frame_length needs a frame_step divisible by {PULSE_SUBFRAMES} and a length >= 0")
            elif (PULSE_SUBFRAMES - 1) * sub_step + self.pulse_frame_length > self.frame_length:
                problems.append(f"pulse_frame_length: {PULSE_SUBFRAMES} sub-frames {sub_step} samples apart must fit "
                                f"inside one {self.frame_length}-sample frame")
            if self.mel_bins or self.median_subtraction:
                problems.append("pulse_frame_length works with linear bins (mel_bins 0) and no median_subtraction")
        if problems:
            raise ValueError("invalid front end: " + "; ".join(problems))

    # Derived sizes, never stored, so they cannot disagree with the settings.
    @property
    def clip_samples(self) -> int:
        return int(round(self.clip_s * self.sample_rate_hz))

    @property
    def frame_step_s(self) -> float:
        return self.frame_step / self.sample_rate_hz

    @property
    def bin_range(self) -> tuple[int, int]:
        """[first, last) FFT bins kept for the frequency band."""
        bin_hz = self.sample_rate_hz / self.fft_length
        n_bins = self.fft_length // 2 + 1
        lo = int(math.ceil(self.min_freq_hz / bin_hz - 1e-9))
        hi = n_bins if self.max_freq_hz is None else int(math.floor(self.max_freq_hz / bin_hz + 1e-9)) + 1
        return lo, min(hi, n_bins)

    def n_frames(self, n_samples: int) -> int:
        """Frames `tf.signal.stft` makes from `n_samples` samples (no end padding)."""
        return 0 if n_samples < self.frame_length else 1 + (n_samples - self.frame_length) // self.frame_step

    @property
    def n_bins(self) -> int:
        """Frequency bins of a spectrogram: FFT bins in the band, or mel bands."""
        lo, hi = self.bin_range
        return self.mel_bins or hi - lo

    @property
    def band_hz(self) -> tuple[float, float]:
        """(lowest, highest) frequency the spectrogram covers, Hz (for plots and Raven selections)."""
        if self.mel_bins:
            return self.min_freq_hz, self.max_freq_hz or self.sample_rate_hz / 2
        bin_hz = self.sample_rate_hz / self.fft_length
        lo, hi = self.bin_range
        return lo * bin_hz, (hi - 1) * bin_hz

    @property
    def panels(self) -> int:
        """Panels of n_bins side by side in the model's input: the spectrogram, and the pulse panel if any."""
        return 2 if self.pulse_frame_length else 1

    @property
    def input_shape(self) -> tuple[int, int]:
        """(frames, frequency bins of every panel) of one clip's features: the model's input shape."""
        return self.n_frames(self.clip_samples), self.n_bins * self.panels

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "FrontendConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown front-end settings {sorted(unknown)}; this code knows {sorted(known)}")
        # Models saved before the silence floor existed have no gate: say so, rather than claim the default.
        return cls(**{"silence_floor_dbfs": None, **d})

    def silence_threshold(self) -> float | None:
        """The floor in the units the network sees: mean over a window of `input_power` for white
        noise at `silence_floor_dbfs` (measured through this front end, so it holds for any band,
        mel or linear bins, log or magnitude scale)."""
        if self.silence_floor_dbfs is None:
            return None
        noise = np.random.default_rng(0).standard_normal(self.clip_samples).astype(np.float32)
        noise *= 10 ** (self.silence_floor_dbfs / 20)
        features = np.asarray(clip_features(noise, self))[..., : self.n_bins]
        return float(np.mean(input_power(features, self.scale)))


# The reference network of the blog post this project starts from: 54,000-sample clips at 16 kHz,
# frame_length 320, frame_step 32, plain STFT magnitude over the whole band.
SEED_FRONTEND = FrontendConfig(
    clip_s=54000 / 16000, frame_length=320, frame_step=32, fft_length=512,
    min_freq_hz=0.0, max_freq_hz=None, scale="magnitude",
)


def pad_or_crop(waveform: np.ndarray, n_samples: int, offset: int = 0) -> np.ndarray:
    """Exactly `n_samples` samples starting at `offset`, zero-padded at the end where the audio stops."""
    clip = waveform[offset : offset + n_samples]
    if len(clip) < n_samples:
        clip = np.pad(clip, (0, n_samples - len(clip)))
    return clip.astype(np.float32, copy=False)


def spectrogram(waveform, config: FrontendConfig):
    """Spectrogram of `waveform` ([..., samples] float32) as a tf.Tensor [..., frames, bins].

    Works on a clip or on a whole stretch of recording: frames depend only on the samples under
    them, so frame k of a long stretch equals frame k - j of a clip cut at sample j * frame_step.
    Counting relies on that to compute each stretch's spectrogram once and slice windows from it.
    """
    import tensorflow as tf

    stft = tf.signal.stft(
        tf.convert_to_tensor(waveform, tf.float32),
        frame_length=config.frame_length,
        frame_step=config.frame_step,
        fft_length=config.fft_length,
        pad_end=False,
    )
    if config.mel_bins:
        magnitude = tf.tensordot(tf.abs(stft), _mel_matrix(config.mel_bins, config.fft_length, config.sample_rate_hz,
                                                           *config.band_hz), 1)
    else:
        lo, hi = config.bin_range
        magnitude = tf.abs(stft)[..., lo:hi]
    if config.scale == "log":
        return tf.math.log(magnitude + config.log_floor)
    return magnitude


def frame_features(waveform, config: FrontendConfig):
    """What the network is fed per frame of `waveform` ([..., samples]) as a tf.Tensor [..., frames,
    bins x panels]: the spectrogram, and the pulse panel beside it when the config has one. Local to
    each frame's samples, as `spectrogram` is, so counting may slice windows from a long stretch."""
    import tensorflow as tf

    spec = spectrogram(waveform, config)
    if not config.pulse_frame_length:
        return spec
    return tf.concat([spec, pulse_panel(waveform, config)], axis=-1)


@functools.lru_cache(maxsize=16)
def span_features(config: FrontendConfig):
    """`frame_features` for one stretch of audio ([samples] float32), traced into a graph once per
    config. Counting computes it for every block of every recording; run eagerly, its dozen ops cost
    more in Python than in arithmetic (benchmarks/count_throughput.py, README "Throughput")."""
    import tensorflow as tf

    return tf.function(lambda waveform: frame_features(waveform, config),
                       input_signature=[tf.TensorSpec([None], tf.float32)])


def pulse_panel(waveform, config: FrontendConfig):
    """[..., frames, bins]: for each frame of `spectrogram` and each of its frequency bins, the standard
    deviation of log magnitude over PULSE_SUBFRAMES sub-frames of `pulse_frame_length` samples inside
    that frame (frame_step / PULSE_SUBFRAMES apart), read at the sub-frame bin nearest the bin's
    frequency. About 0.6 for noise (a random level per sub-frame), near 0 for a steady tone or a
    harmonic held steady, 1 and more for pulses the sub-frames resolve; 0 for digital silence. Levels
    are logs, so a gain changes nothing.

    The sub-frames' spectrum is a DFT of only the bins read (21 of 65 for the default band), as a matrix
    product: 1.6x faster than `tf.signal.stft` of every bin, the same values to 4e-7 (periodic Hann window,
    as the STFT's; tested)."""
    import tensorflow as tf

    waveform = tf.convert_to_tensor(waveform, tf.float32)
    length, sub_step = config.pulse_frame_length, config.frame_step // PULSE_SUBFRAMES
    cos, sin, read = _sub_frame_dft(config)
    frames = tf.maximum(0, 1 + (tf.shape(waveform)[-1] - config.frame_length) // config.frame_step)
    sub = tf.signal.frame(waveform, length, sub_step)[..., : frames * PULSE_SUBFRAMES, :]
    sub = tf.math.log(tf.sqrt(tf.square(sub @ cos) + tf.square(sub @ sin)) + config.log_floor)
    grouped = tf.reshape(sub, tf.concat([tf.shape(sub)[:-2], [frames, PULSE_SUBFRAMES, cos.shape[-1]]], 0))
    return tf.gather(tf.math.reduce_std(grouped, axis=-2), read, axis=-1)


@functools.lru_cache(maxsize=16)
def _sub_frame_dft(config: FrontendConfig):
    """(cos, sin) [pulse_frame_length, k]: the windowed DFT of the k sub-frame bins `pulse_panel` reads, and for
    each of the spectrogram's bins which of the k it reads (the nearest in frequency); made once per setting."""
    import tensorflow as tf

    length = config.pulse_frame_length
    lo, hi = config.bin_range
    nearest = np.minimum(np.round(np.arange(lo, hi) * length / config.fft_length).astype(np.int32), length // 2)
    bins, read = np.unique(nearest, return_inverse=True)
    n = np.arange(length)
    window = 0.5 - 0.5 * np.cos(2 * np.pi * n / length)  # periodic Hann, tf.signal.stft's
    phase = 2 * np.pi * np.outer(n, bins) / length
    with tf.init_scope():  # constants even when first asked for inside a traced function (see _mel_matrix)
        return (tf.constant((window[:, None] * np.cos(phase)).astype(np.float32)),
                tf.constant((window[:, None] * np.sin(phase)).astype(np.float32)), tf.constant(read.astype(np.int32)))


@functools.lru_cache(maxsize=16)
def _mel_matrix(mel_bins: int, fft_length: int, sample_rate_hz: int, lo_hz: float, hi_hz: float):
    """The FFT-bins-to-mel-bands matrix, made once per setting: making it took 20 of the 25 ms of a 1 s
    clip's spectrogram. Made eagerly (init_scope) even when first asked for inside a traced function, so
    the cached tensor is a constant, never a graph's."""
    import tensorflow as tf

    with tf.init_scope():
        return tf.signal.linear_to_mel_weight_matrix(mel_bins, fft_length // 2 + 1, sample_rate_hz, lo_hz, hi_hz)


def input_power(features, scale: str):
    """Power per frame and bin of front-end output of `scale` ("log" or "magnitude"; numpy arrays or
    tensors): what the silence floor measures, here and in the network's `model.layers.SilenceGate`."""
    import keras

    if scale == "log":
        return keras.ops.square(keras.ops.exp(features))
    return keras.ops.square(features)


def window_features(spectrograms, config: FrontendConfig):
    """What the model sees of each window [..., frames, bins]: its spectrogram, with the per-window
    median over frames subtracted from every frequency when `median_subtraction` is on."""
    import tensorflow as tf

    spectrograms = tf.convert_to_tensor(spectrograms, tf.float32)
    if not config.median_subtraction:
        return spectrograms
    frames = spectrograms.shape[-2]
    ordered = tf.sort(spectrograms, axis=-2)
    median = 0.5 * (ordered[..., (frames - 1) // 2 : (frames - 1) // 2 + 1, :] + ordered[..., frames // 2 : frames // 2 + 1, :])
    return spectrograms - median


def clip_features(waveforms, config: FrontendConfig):
    """Model input for clips [..., samples] already padded or cropped to `clip_samples`."""
    return window_features(frame_features(waveforms, config), config)
