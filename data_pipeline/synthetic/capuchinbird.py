"""Synthetic Capuchinbird-like data with known answers, deterministic from a seed.

Used by the demo and the tests, so the project needs no third-party audio to show it works.

- A call: a growling broadband onset, a bright blob at 500-900 Hz, then a dense harmonic stack
  (fundamental 100-180 Hz, strongest 500-1600 Hz) and a faint band near 3 kHz; 2-6 s long.
- Confusers (never labelled as calls): insect pulse trains, bird chirps (fast sweeps), whistles
  (a single pure tone in the call band), frog-like croaks (short harmonic bursts), rain and hum.
- Long recordings: a noisy forest background with calls at known times and SNRs, including runs
  of calls every 7-8 s with only 1-2 s of quiet between them.

`write_demo_dataset` writes the Kaggle layout (Parsed_Capuchinbird_Clips/, Parsed_Not_Capuchinbird_Clips/,
"Forest Recordings/") plus `forest_labels.csv` (recording,start,end,confidence,note).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
import pandas as pd

from data_pipeline.labels.class_folders import (
    KAGGLE_NEGATIVE_DIR,
    KAGGLE_POSITIVE_DIR,
    KAGGLE_RECORDINGS_DIR,
)

CLIP_RATE_HZ = 44100       # like the Kaggle parsed clips
RECORDING_RATE_HZ = 48000  # like the forest recordings (which are stereo MP3)


def fft_length(n: int) -> int:
    """The smallest length >= n whose prime factors are all 11 or less. NumPy's FFT of a length with a large
    prime factor (a sound of random duration often has one) takes 10-20 times as long: 220237 samples
    (113 x 1949) 81 ms against 4.4 ms for 221184. A length already made of small factors is kept."""
    m = max(n, 1)
    while True:
        rest = m
        for p in (2, 3, 5, 7, 11):
            while rest % p == 0:
                rest //= p
        if rest == 1:
            return m
        m += 1


def _shaped_noise(rng, n: int, sr: int, shape) -> np.ndarray:
    """White noise whose spectrum shape(spectrum, frequencies in Hz) reshapes, unit RMS; made at fft_length(n), then
    cut to n (where the two lengths are equal, the values are those made at n)."""
    m = fft_length(n)
    spectrum = shape(np.fft.rfft(rng.standard_normal(m)), np.fft.rfftfreq(m, 1 / sr))
    x = np.fft.irfft(spectrum, m)[:n]
    return x / (np.sqrt(np.mean(x**2)) + 1e-12)


def band_noise(rng, n: int, sr: int, low_hz: float, high_hz: float) -> np.ndarray:
    """White noise band-limited to [low_hz, high_hz], unit RMS."""
    return _shaped_noise(rng, n, sr, lambda s, f: np.where((f < low_hz) | (f > high_hz), 0, s))


def pink_noise(rng, n: int, sr: int) -> np.ndarray:
    """1/f noise, unit RMS: the dull roar under every forest recording."""
    return _shaped_noise(rng, n, sr, lambda s, f: s / np.sqrt(np.maximum(f, 20.0)))


def _envelope(n: int, sr: int, attack_s: float, release_s: float) -> np.ndarray:
    env = np.ones(n)
    a, r = max(1, int(attack_s * sr)), max(1, int(release_s * sr))
    env[:a] = np.linspace(0, 1, a)
    env[-r:] *= np.linspace(1, 0, r)
    return env


def rms(x: np.ndarray) -> float:
    """Root-mean-square level, never zero (a silent signal divides safely)."""
    return float(np.sqrt(np.mean(x**2)) + 1e-12)


def synth_call(rng, sr: int, duration_s: float) -> np.ndarray:
    """One call-like sound, unit RMS, exactly `duration_s` long."""
    n = int(duration_s * sr)
    t = np.arange(n) / sr
    onset_s = rng.uniform(0.3, 0.6)
    growl = band_noise(rng, n, sr, 250, 3000) * (1 + 0.8 * np.sin(2 * np.pi * rng.uniform(18, 35) * t))
    growl *= np.exp(-np.maximum(t - onset_s, 0) / 0.15) * _envelope(n, sr, 0.03, 0.05)
    # Bright blob at 500-900 Hz right after the onset, then the "moo": a dense harmonic stack
    # (fundamental 100-180 Hz) whose harmonics are strongest between about 500 and 1600 Hz.
    blob_len = rng.uniform(0.4, 0.9)
    blob = band_noise(rng, n, sr, 500, 900) * ((t >= onset_s * 0.7) & (t < onset_s + blob_len))
    f0_base = rng.uniform(100, 180)
    glide = 1 + rng.uniform(0.03, 0.1) * np.sin(np.pi * np.clip((t - onset_s) / (duration_s - onset_s), 0, 1))
    phase = 2 * np.pi * np.cumsum(f0_base * glide) / sr
    centre_hz = rng.uniform(800, 1100)
    stack = np.zeros(n)
    for k in range(2, int(2000 // f0_base) + 1):
        weight = np.exp(-(((k * f0_base) - centre_hz) / 450) ** 2)
        stack += weight * np.sin(k * phase + rng.uniform(0, 2 * np.pi))
    stack *= _envelope(n, sr, 0.15, 0.5) * (t >= onset_s)
    band3k = band_noise(rng, n, sr, 2800, 3200) * _envelope(n, sr, 0.3, 0.5) * (t >= onset_s)
    call = 0.5 * growl + 0.8 * blob + stack / rms(stack) + 0.1 * band3k
    return call / rms(call)


def synth_confuser(rng, sr: int, duration_s: float, kind: str | None = None) -> np.ndarray:
    """A non-call sound of one `kind` (random if None), unit RMS, `duration_s` long."""
    kinds = ("insects", "chirps", "whistle", "croaks", "rain", "hum")
    kind = kind or kinds[rng.integers(len(kinds))]
    n = int(duration_s * sr)
    t = np.arange(n) / sr
    x = np.zeros(n)
    if kind == "insects":  # pulse trains, some inside the call band's top
        for _ in range(rng.integers(1, 4)):
            f = rng.uniform(2500, 7000)
            gate = (np.sin(2 * np.pi * rng.uniform(5, 40) * t) > rng.uniform(0, 0.6)).astype(float)
            x += gate * np.sin(2 * np.pi * f * t)
    elif kind == "chirps":  # short fast sweeps
        for _ in range(rng.integers(2, 10)):
            start, length = rng.uniform(0, duration_s - 0.25), rng.uniform(0.05, 0.2)
            i0, m = int(start * sr), int(length * sr)
            f = np.linspace(rng.uniform(1500, 5000), rng.uniform(1500, 5000), m)
            x[i0 : i0 + m] += np.sin(2 * np.pi * np.cumsum(f) / sr) * np.hanning(m)
    elif kind == "whistle":  # one pure tone in the call band, with vibrato
        length = rng.uniform(0.4, min(2.5, duration_s))
        i0, m = int(rng.uniform(0, duration_s - length) * sr), int(length * sr)
        f = rng.uniform(500, 2000) * (1 + 0.02 * np.sin(2 * np.pi * 6 * np.arange(m) / sr))
        x[i0 : i0 + m] = np.sin(2 * np.pi * np.cumsum(f) / sr) * _envelope(m, sr, 0.05, 0.1)
    elif kind == "croaks":  # short harmonic bursts: a stack, but 0.1-0.3 s long
        for _ in range(rng.integers(2, 8)):
            length = rng.uniform(0.1, 0.3)
            i0, m = int(rng.uniform(0, duration_s - length) * sr), int(length * sr)
            f0 = rng.uniform(250, 600)
            tt = np.arange(m) / sr
            burst = sum(np.sin(2 * np.pi * k * f0 * tt) / k for k in range(1, 6))
            x[i0 : i0 + m] += burst * np.hanning(m)
    elif kind == "rain":
        x = pink_noise(rng, n, sr) + 0.5 * band_noise(rng, n, sr, 1000, 8000)
        clicks = rng.random(n) < 30 / sr
        x += 5 * np.convolve(clicks.astype(float), np.exp(-np.arange(int(0.002 * sr)) / (0.0005 * sr)), "same")
    elif kind == "hum":
        f0 = rng.choice([50.0, 60.0, rng.uniform(90, 200)])
        x = sum(np.sin(2 * np.pi * k * f0 * t + rng.uniform(0, 6)) / k for k in range(1, 8))
    else:
        raise ValueError(f"unknown confuser kind {kind!r}; choose from {kinds}")
    return x / rms(x)


def synth_background(rng, sr: int, duration_s: float) -> np.ndarray:
    """Forest-like background, unit RMS: pink noise, insects, and scattered confusers."""
    n = int(duration_s * sr)
    x = pink_noise(rng, n, sr) + 0.5 * synth_confuser(rng, sr, duration_s, "insects")
    if rng.random() < 0.3:
        x += 0.6 * synth_confuser(rng, sr, duration_s, "hum")
    if rng.random() < 0.2:
        x += 0.8 * synth_confuser(rng, sr, duration_s, "rain")
    # Scattered events, a few seconds each, at random places.
    for _ in range(int(rng.poisson(duration_s / 8))):
        length = min(duration_s, rng.uniform(1, 4))
        event = synth_confuser(rng, sr, length, rng.choice(["chirps", "whistle", "croaks"]))
        i0 = int(rng.uniform(0, duration_s - length) * sr)
        x[i0 : i0 + len(event)] += rng.uniform(0.5, 1.5) * event
    return x / rms(x)


def mix_at_snr(background: np.ndarray, sound: np.ndarray, start: int, snr_db: float) -> None:
    """Add `sound` into `background` at sample `start` (in place) at `snr_db` against the background RMS."""
    end = min(len(background), start + len(sound))
    background[start:end] += sound[: end - start] * rms(background) * 10 ** (snr_db / 20)


def call_schedule(rng, duration_s: float, style: str) -> list[tuple[float, float]]:
    """(start, end) of calls in a recording: 'none', 'sparse' (every 10-40 s) or 'run' (every 7-8 s, 1-2 s gaps)."""
    calls: list[tuple[float, float]] = []
    if style == "none":
        return calls
    t = rng.uniform(1, 10)
    while True:
        if style == "run":
            length = rng.uniform(5.0, 6.0)
            gap = rng.uniform(1.2, 2.0)
        else:
            length = rng.uniform(3.0, 6.0)
            gap = rng.uniform(6, 34)
        if t + length > duration_s - 0.5:
            return calls
        calls.append((round(t, 2), round(t + length, 2)))
        t += length + gap


def synth_recording(rng, duration_s: float, style: str, snr_db: float, sr: int = RECORDING_RATE_HZ):
    """(stereo samples [n, 2] in [-1, 1], calls [(start, end)]) for one synthetic forest recording."""
    audio = synth_background(rng, sr, duration_s)
    calls = call_schedule(rng, duration_s, style)
    for start, end in calls:
        mix_at_snr(audio, synth_call(rng, sr, end - start), int(start * sr), snr_db + rng.uniform(-2, 2))
    stereo = np.stack([audio, audio * rng.uniform(0.7, 1.0) + 0.05 * rng.standard_normal(len(audio))], axis=1)
    return (0.25 * stereo / np.abs(stereo).max()).astype(np.float32), calls


def synth_clips(rng, n_sources: int, clips_per_source: int, positive: bool, clip_s: float = 3.0,
                sr: int = CLIP_RATE_HZ, snr_range=(-6.0, 20.0)):
    """(name, samples) for parsed 3 s clips, several per source recording, named like the Kaggle data.

    Positives: a call whose middle covers the clip's middle, in background, at a random SNR.
    Negatives: background with confusers; one source in five is "between calls": a clip centred
    on the 1-2 s of quiet between two calls, with the end of one and the start of the next at its edges.
    """
    names = ["Crickets-chirping", "Rain-forest", "Tropical-birds", "Frog-chorus", "Generator-hum", "Stream"]
    out = []
    for source in range(n_sources):
        between_calls = not positive and source % 5 == 4
        prefix = f"XC{100000 + int(rng.integers(900000))}" if positive else f"{names[source % len(names)]}{source}"
        if between_calls:
            prefix = f"Between-calls{source}"
        for k in range(clips_per_source):
            n = int(clip_s * sr)
            clip = synth_background(rng, sr, clip_s)
            if positive:
                length = rng.uniform(2.0, 5.0)
                call = synth_call(rng, sr, length)
                centre_offset = rng.uniform(-0.25, 0.25) * min(length, clip_s)
                start = int((clip_s / 2 + centre_offset - length / 2) * sr)
                lo = max(0, -start)
                mix_at_snr(clip, call[lo:], max(start, 0), rng.uniform(*snr_range))
            elif between_calls:
                gap = rng.uniform(1.0, 2.0)
                left_end = int((clip_s - gap) / 2 * sr)
                right_start = int((clip_s + gap) / 2 * sr)
                snr = rng.uniform(*snr_range)
                mix_at_snr(clip, synth_call(rng, sr, 5.0)[-left_end:], 0, snr)
                mix_at_snr(clip, synth_call(rng, sr, 5.0)[: n - right_start], right_start, snr)
            out.append((f"{prefix}-{k}.wav", (0.3 * clip / np.abs(clip).max()).astype(np.float32)))
    return out


def write_demo_dataset(
    out_dir: str | os.PathLike,
    seed: int = 0,
    n_positive_sources: int = 40,
    n_negative_sources: int = 60,
    clips_per_source: int = 6,
    n_recordings: int = 20,
    recording_s: float = 60.0,
    recording_format: str = "mp3",
) -> Path:
    """Write the Kaggle layout plus forest_labels.csv under `out_dir`; returns the labels CSV path."""
    import soundfile as sf
    from tqdm.auto import tqdm

    out = Path(out_dir)
    rng = np.random.default_rng(seed)
    for folder, positive, n_sources in [(KAGGLE_POSITIVE_DIR, True, n_positive_sources),
                                        (KAGGLE_NEGATIVE_DIR, False, n_negative_sources)]:
        (out / folder).mkdir(parents=True, exist_ok=True)
        for name, clip in synth_clips(rng, n_sources, clips_per_source, positive):
            sf.write(out / folder / name, clip, CLIP_RATE_HZ, subtype="PCM_16")
    (out / KAGGLE_RECORDINGS_DIR).mkdir(parents=True, exist_ok=True)
    styles = ["none", "sparse", "run", "sparse", "run"]
    snrs = [10.0, 3.0, 0.0, -3.0]
    rows = []
    for i in tqdm(range(n_recordings), desc="synthesising recordings", unit="rec"):
        style, snr = styles[i % len(styles)], snrs[(i // len(styles)) % len(snrs)]
        audio, calls = synth_recording(rng, recording_s, style, snr)
        name = f"recording_{i:02d}.{recording_format}"
        sf.write(out / KAGGLE_RECORDINGS_DIR / name, audio, RECORDING_RATE_HZ)
        rows += [(name, s, e, "sure", f"{style}, snr {snr:g} dB") for s, e in calls] or [(name, None, None, "none", "")]
    labels = out / "forest_labels.csv"
    pd.DataFrame(rows, columns=["recording", "start", "end", "confidence", "note"]).to_csv(labels, index=False)
    return labels


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Write a synthetic Kaggle-layout Capuchinbird dataset with known calls.")
    parser.add_argument("--out", default="demo/data", help="output folder (default: demo/data)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--recordings", type=int, default=20, help="number of long recordings")
    parser.add_argument("--recording-s", type=float, default=60.0, help="length of each recording, seconds")
    args = parser.parse_args(argv)
    labels = write_demo_dataset(args.out, seed=args.seed, n_recordings=args.recordings, recording_s=args.recording_s)
    print(f"wrote {args.out} (labels of the long recordings: {labels})")


if __name__ == "__main__":
    main()
