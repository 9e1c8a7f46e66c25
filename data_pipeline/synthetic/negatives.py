"""A bank of sounds that are not calls, made by the project itself, deterministic from a seed.

A detector trained only on the negatives of one dataset learns what those backgrounds are not; it
has never heard digital silence, a generator's hum, a siren or a heartbeat, and may call any of them
a call (a model trained on the 40 shared forest recordings did). The bank covers the kinds of sound
a field recording holds besides the call, each alone (at a random level) and mixed into the user's
own negative material (at a random signal-to-background ratio), so the network learns what a call
is *not* beyond the training backgrounds. `model.learning.training` adds it to the training split of
every two-class run unless told not to (`--negative-bank-per-kind 0`), at any sample rate from
MIN_SAMPLE_RATE_HZ up.

Kinds (NEGATIVE_KINDS):
    silence       digital zeros (recorder dropouts, padded file ends)
    dither        16-bit rounding noise around zero
    silent_gap    background with a 0.3-2.5 s stretch of digital silence inside
    silent_tail   background that stops part-way, zeros after
    tone          a steady pure tone, 150-2400 Hz
    tone_bursts   a pure tone switching on and off
    siren         a tone sweeping up and down
    engine        a low harmonic drone (30-120 Hz fundamental, harmonics into the call band), slowly varying
    whistle       short whistled notes with vibrato, 1-3 kHz
    speech        voiced syllables: a 90-250 Hz harmonic series under vowel formants, 3-5 syllables a second
    heartbeat     lub-dub thumps, 20-200 Hz, 50-130 beats a minute
    clicks        sharp broadband clicks
    rain          broadband patter
    wind          low-passed noise gusting slowly
    impacts       knocks, cracks and crashes: noise bursts ringing off in short resonances, alone or in showers
                  (falling branches, handling noise, rattling gear; added after glass breaking fooled the detector)
    insects       an insect chorus: bands of noise (1.5-6 kHz, some reaching into the call band) pulsing at
                  5-100 Hz, each switching on or off within the clip
    low_rate      a background (pink noise for the clips alone) with one of the sounds above in it, as a recorder at a
                  low sample rate keeps them: resampled through 1-4.8 kHz and back, so the front end's band is
                  empty above 0.5-2.4 kHz. The network had never seen such an edge, and called it: heart
                  recordings (made at 2 kHz) and forest backgrounds taken through 2-3 kHz gave false calls that
                  a faint hiss above 1 kHz took away (docs/not-a-call.md, "Recordings made at a low rate").
    cattle        a cow's moo (below, with the other animals). Written as an unseen kind, it drew false calls from
                  every group of models: the sound the "calf bird" is named for. In the bank alone it cost calls
                  at pitches the shared recordings lack; with calls trained at other pitches too (the capuchinbird
                  preset's pitch augmentation, model.learning.presets) it cut the false calls on placed moos by
                  42-69% and on the unseen howlers' roars by 21-79% in four draws, without that cost (docs/not-a-call.md,
                  "The moo in the bank and calls at other pitches"). Last in the list, so every kind before it keeps its clips.

Made, but left out of the bank (UNSEEN_KINDS): the robustness benchmark plays them to models that never
trained on them, a blind test of what the bank taught.
    frogs         a frog chorus inside the front end's band: 1-3 callers, each a pulsed trill (5-100 pulses a
                  second) on a dominant frequency of 0.4-2.4 kHz, a narrow noise band or a tone with its
                  octave, in calls of 0.2-3 s or one trill through the clip. Tried in the bank on 2026-12-03
                  (an in-band insect stretch was the last false call): models trained on 7 recordings then
                  missed a seventh of the calls (docs/not-a-call.md, "Pulsed sounds in the call band").
Other animals of a Capuchinbird's forest and its edges, added 2026-12-06 and written before any model heard them
(docs/not-a-call.md, "Other animals, unheard"); each is its species group's outline from the literature, not a recording;
all but `cattle` unseen (ANIMALS):
    songbird      a passerine's song: phrases of 0.5-3 s made of 2-4 syllable types repeated, each syllable a
                  30-250 ms sweep (up, down or arched) between 0.8 and 6 kHz with a weaker second harmonic
    howler        a howler monkey's roar: grunts of 0.3-1.2 s run into bouts, a noisy harmonic series on an
                  80-250 Hz fundamental that wavers, shaped by two formants (300-700 and 800-1600 Hz)
    cattle        a cow's moo: 0.8-3 s calls, a harmonic series whose 70-130 Hz fundamental arches up to 120-250 Hz
                  and falls again, muffled at the start (mouth closed) and opening to formants. In the bank since
                  2026-12-06 (above).
    parrot        a parrot's or toucan's squawks: harsh 0.1-0.6 s calls in series, a 400-1200 Hz fundamental
                  shaken by fast frequency modulation (20-80 Hz), harmonics up to 6 kHz, and noise
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from data_pipeline.synthetic.capuchinbird import band_noise, pink_noise, rms

NEGATIVE_KINDS = ("silence", "dither", "silent_gap", "silent_tail", "tone", "tone_bursts", "siren", "engine",
                  "whistle", "speech", "heartbeat", "clicks", "rain", "wind", "impacts", "insects", "low_rate", "cattle")
UNSEEN_KINDS = ("frogs", "songbird", "howler", "parrot")  # synth_negative makes them; the bank does not (module doc)
SILENCE_KINDS = ("silence", "dither", "silent_gap", "silent_tail")
FROM_BACKGROUND_KINDS = (*SILENCE_KINDS, "low_rate")  # made from (or into) a background already
SOUND_KINDS = tuple(k for k in NEGATIVE_KINDS if k not in FROM_BACKGROUND_KINDS)  # what low_rate puts in its background
LOW_RATE_HZ = (1000, 4800)  # half of it lies inside the default front end's 0-2.5 kHz band
SNR_DB = (-5.0, 15.0)  # a mixed-in sound's level over its background: the bank's, and low_rate's inside its clips
# The lowest sample rate the bank can be made at: the insects' bands are centred 1.5 kHz up to 0.4 x the rate.
MIN_SAMPLE_RATE_HZ = 3750
BANK_COLUMNS = ["file", "kind", "mixed"]


def _unit(x: np.ndarray) -> np.ndarray:
    return x / rms(x)


def _sine(f_hz: np.ndarray | float, n: int, sr: int) -> np.ndarray:
    f = np.broadcast_to(np.asarray(f_hz, float), (n,))
    return np.sin(2 * np.pi * np.cumsum(f) / sr)


def _harmonics(f0_hz: np.ndarray, count: int, sr: int, weight=lambda k: 1.0) -> np.ndarray:
    """sum over k = 1..count of weight(k) * sin(k * phase), the phase that of `_sine(f0_hz)`: a harmonic
    series from one sine and one cosine, sin((k+1)p) = 2 cos(p) sin(kp) - sin((k-1)p). A sine per harmonic
    made engines and speech most of the bank's time; this equals that sum to 1e-8, below what the float32
    clips keep (tests/test_not_a_call.py)."""
    phase = 2 * np.pi * np.cumsum(f0_hz) / sr
    twice_cos, previous, current = 2 * np.cos(phase), np.zeros(len(phase)), np.sin(phase)
    total = np.zeros(len(phase))
    for k in range(1, count + 1):
        total += weight(k) * current
        previous, current = current, twice_cos * current - previous
    return total


def synth_negative(rng: np.random.Generator, kind: str, n: int, sr: int,
                   background: np.ndarray | None = None) -> np.ndarray:
    """`n` samples of one kind (see module doc), unit RMS except for the kinds made from a background.

    background: what the silence kinds cut into and low_rate mixes into (default: pink noise).
    """
    t = np.arange(n) / sr
    if kind == "low_rate":
        return _low_rate(rng, n, sr, background)
    if kind in ("silent_gap", "silent_tail"):
        x = (background if background is not None else 0.05 * pink_noise(rng, n, sr)).astype(float).copy()
        if kind == "silent_gap":
            length = int(rng.uniform(0.3, min(2.5, 0.8 * n / sr)) * sr)
            start = int(rng.integers(0, n - length))
            x[start : start + length] = 0.0
        else:
            x[int(rng.uniform(0.2, 0.8) * n):] = 0.0
        return x
    if kind == "silence":
        return np.zeros(n)
    if kind == "dither":
        return (rng.integers(-1, 2, n) + rng.integers(-1, 2, n)) / 2 / 32768.0
    if kind == "tone":
        x = _sine(rng.uniform(150, 2400), n, sr)
    elif kind == "tone_bursts":
        period = rng.uniform(0.3, 2.0)
        on = (t % period) < period * rng.uniform(0.3, 0.7)
        x = _sine(rng.uniform(300, 2400), n, sr) * on
    elif kind == "siren":
        low, high = sorted(rng.uniform(400, 2400, 2))
        x = _sine(low + (high - low) * 0.5 * (1 + np.sin(2 * np.pi * rng.uniform(0.2, 2.0) * t)), n, sr)
    elif kind == "engine":
        f0 = rng.uniform(30, 120) * (1 + 0.03 * np.sin(2 * np.pi * rng.uniform(0.1, 0.5) * t))
        x = _harmonics(f0, int(2400 / f0.max()) - 1, sr, lambda k: 1 / k**0.7)
        x = x + 0.3 * _unit(band_noise(rng, n, sr, 20, 400))
    elif kind == "whistle":
        x = np.zeros(n)
        for _ in range(int(rng.integers(1, 5))):
            m = int(rng.uniform(0.2, 0.8) * sr)
            i0 = int(rng.integers(0, max(1, n - m)))
            f = rng.uniform(1000, 3000) * (1 + 0.03 * np.sin(2 * np.pi * rng.uniform(4, 8) * np.arange(m) / sr))
            x[i0 : i0 + m] += _sine(f, m, sr)[: n - i0] * np.hanning(m)[: n - i0]
    elif kind == "speech":
        f0 = rng.uniform(90, 250) * (1 + 0.1 * np.sin(2 * np.pi * rng.uniform(0.5, 2) * t))
        pulses = _harmonics(f0, int(3500 / f0.max()) - 1, sr)
        voice = _shaped(pulses, sr, [rng.uniform(300, 900), rng.uniform(900, 2400)], 150)
        syllables = np.clip(np.sin(2 * np.pi * rng.uniform(3, 5) * t + rng.uniform(0, 6)), 0, None) ** 0.5
        x = voice * syllables
    elif kind == "heartbeat":
        x = np.zeros(n)
        beat = 60 / rng.uniform(50, 130)
        for start in np.arange(rng.uniform(0, beat), n / sr, beat):
            for offset, f in ((0.0, rng.uniform(30, 80)), (rng.uniform(0.25, 0.35), rng.uniform(60, 200))):
                i0, m = int((start + offset) * sr), int(0.1 * sr)
                if i0 >= n:
                    continue
                thump = _sine(f, m, sr) * np.hanning(m)
                x[i0 : i0 + m] += thump[: n - i0]
    elif kind == "clicks":
        x = np.zeros(n)
        positions = rng.integers(0, n, int(rng.integers(3, 30)))
        x[positions] = rng.choice([-1.0, 1.0], len(positions))
        x = np.convolve(x, np.exp(-np.arange(int(0.003 * sr)) / (0.0005 * sr)), "same")
    elif kind == "rain":
        drops = (rng.random(n) < rng.uniform(50, 400) / sr).astype(float) * rng.uniform(0.2, 1.0, n)
        x = np.convolve(drops, np.exp(-np.arange(int(0.004 * sr)) / (0.0008 * sr)), "same")
        x = _unit(x) + 0.5 * _unit(band_noise(rng, n, sr, 500, sr / 2 - 1))
    elif kind == "wind":
        gusts = 1 + 0.8 * np.sin(2 * np.pi * rng.uniform(0.1, 0.6) * t + rng.uniform(0, 6))
        x = band_noise(rng, n, sr, 10, rng.uniform(150, 600)) * gusts
    elif kind == "impacts":
        x = np.zeros(n)
        for _ in range(int(rng.integers(1, 4))):  # a few knocks or crashes, each a shower of hits
            onset, spread = rng.uniform(0, n / sr), rng.uniform(0.02, 1.5)
            for _ in range(int(rng.integers(1, 30))):
                i0 = int((onset + rng.uniform(0, spread)) * sr)
                m = min(n - i0, int(rng.uniform(0.03, 0.4) * sr))
                if m <= 0:
                    continue
                tt = np.arange(m) / sr
                ring = sum(np.sin(2 * np.pi * rng.uniform(200, 6000) * tt + rng.uniform(0, 6)) for _ in range(3))
                hit = ring * np.exp(-tt / rng.uniform(0.01, 0.15)) + rng.standard_normal(m) * np.exp(-tt / 0.005)
                x[i0 : i0 + m] += rng.uniform(0.2, 1.0) * hit
    elif kind == "insects":
        x = np.zeros(n)
        for _ in range(int(rng.integers(1, 4))):
            centre, width = rng.uniform(1500, min(6000, 0.4 * sr)), rng.uniform(100, 800)  # below Nyquist at any rate
            band = band_noise(rng, n, sr, max(20.0, centre - width / 2), min(sr / 2 - 1, centre + width / 2))
            pulses = np.sin(2 * np.pi * rng.uniform(5, 100) * t) > rng.uniform(-0.5, 0.6)
            on = rng.uniform(-0.5, 0.7) * n / sr  # a bout that may start or stop within the clip, at least 0.3 of it
            off = on + rng.uniform(0.3, 2.0) * n / sr
            x += _unit(band) * pulses * ((t >= on) & (t < off)) * rng.uniform(0.3, 1.0)
    elif kind == "frogs":
        x = sum(frog_trill(rng, n, sr)[0] for _ in range(int(rng.integers(1, 4))))
    elif kind in ANIMALS:
        x = ANIMALS[kind](rng, n, sr)
    else:
        raise ValueError(f"unknown negative kind {kind!r}; choose from {NEGATIVE_KINDS + UNSEEN_KINDS}")
    return _unit(x)


def frog_trill(rng: np.random.Generator, n: int, sr: int) -> tuple[np.ndarray, dict]:
    """One caller of the frog kind, `n` samples, and the parameters drawn for it (for benchmarks that ask
    which trills a model calls: benchmarks/pulsed_sounds.py). Drawn in a fixed order: the robustness
    benchmark's frog stream depends on it."""
    t = np.arange(n) / sr
    f, width = rng.uniform(400, 2400), rng.uniform(50, 400)
    noisy = rng.random() < 0.5
    if noisy:
        carrier = band_noise(rng, n, sr, f - width / 2, f + width / 2)
    else:
        carrier = _sine(f, n, sr) + rng.uniform(0, 0.5) * (2 * f < 0.45 * sr) * _sine(2 * f, n, sr)
    rate, threshold = rng.uniform(5, 100), rng.uniform(-0.5, 0.6)
    pulses = np.sin(2 * np.pi * rate * t) > threshold
    call_s, gap_s = rng.uniform(0.2, 3.0), rng.uniform(0.2, 2.0)
    continuous = rng.random() < 0.3
    calls = np.ones(n, bool) if continuous else ((t + rng.uniform(0, 5)) % (call_s + gap_s)) < call_s
    trill = _unit(carrier) * pulses * calls * rng.uniform(0.3, 1.0)
    return trill, {"dominant_hz": f, "carrier": "noise band" if noisy else "tone", "pulses_per_s": rate,
                   "pulse_fraction": float(np.arccos(threshold) / np.pi), "continuous": continuous}


def _bouts(rng: np.random.Generator, n: int, sr: int, length_s: tuple, gap_s: tuple) -> list[tuple[int, int]]:
    """(start, length) in samples of calls or phrases of `length_s` seconds apart by `gap_s`, from a random
    moment before the clip (so the first may be cut) to its end. A clip shorter than the gaps may hold none: then
    the kind's clip is silence (alone) or the background (mixed), as a recorder between two calls keeps it."""
    spans, at = [], -rng.uniform(0, length_s[1])
    while at < n / sr:
        length = rng.uniform(*length_s)
        start = max(0.0, at)
        if at + length > 0:
            spans.append((int(start * sr), int(min(at + length, n / sr) * sr) - int(start * sr)))
        at += length + rng.uniform(*gap_s)
    return [(i, m) for i, m in spans if m > 0]


def _shaped(x: np.ndarray, sr: int, formants_hz: list[float], width_hz: float, floor: float = 0.05) -> np.ndarray:
    """`x` filtered by Gaussian resonances at `formants_hz` (a vocal tract's), `floor` of it passed everywhere."""
    spectrum, hz = np.fft.rfft(x), np.fft.rfftfreq(len(x), 1 / sr)
    spectrum *= sum(np.exp(-(((hz - f) / width_hz) ** 2)) for f in formants_hz) + floor
    return np.fft.irfft(spectrum, len(x))


def _songbird(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    top = min(6000.0, 0.45 * sr)
    syllables = []
    for _ in range(int(rng.integers(2, 5))):
        low, high = sorted(rng.uniform(800, top, 2))
        shape = rng.choice(["up", "down", "arch"])
        syllables.append((low, high, shape, rng.uniform(0.03, 0.25), rng.uniform(0.02, 0.15), rng.uniform(0, 0.4)))
    x = np.zeros(n)
    for i0, m in _bouts(rng, n, sr, (0.5, 3.0), (1.0, 6.0)):
        at = i0
        while at < i0 + m:
            low, high, shape, note_s, gap_s, second = syllables[int(rng.integers(len(syllables)))]
            k = min(int(note_s * sr), n - at)
            u = np.linspace(0, 1, k)
            ramp = {"up": u, "down": 1 - u, "arch": np.sin(np.pi * u)}[shape]
            f = low + (high - low) * ramp
            note = _sine(f, k, sr) + second * (2 * high < 0.45 * sr) * _sine(2 * f, k, sr)
            x[at : at + k] += note * np.hanning(k)
            at += k + int(gap_s * sr)
    return x


def _howler(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    t = np.arange(n) / sr
    f0 = rng.uniform(80, 250) * (1 + 0.08 * np.sin(2 * np.pi * rng.uniform(2, 8) * t + rng.uniform(0, 6)))
    f0 *= 1 + 0.04 * band_noise(rng, n, sr, 1, 30)  # a rough voice wavers
    voiced = _harmonics(f0, int(3000 / f0.max()), sr, lambda k: 1 / k**0.5)
    noisy = rng.uniform(0.3, 0.8)
    source = (1 - noisy) * _unit(voiced) + noisy * rng.standard_normal(n)
    roar = _shaped(source, sr, [rng.uniform(300, 700), rng.uniform(800, 1600)], rng.uniform(150, 300))
    envelope = np.zeros(n)
    for i0, m in _bouts(rng, n, sr, (0.3, 1.2), (0.05, 0.4)):
        envelope[i0 : i0 + m] = np.hanning(m) ** 0.5
    return roar * envelope


def _cattle(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    x = np.zeros(n)
    for i0, m in _bouts(rng, n, sr, (0.8, 3.0), (2.0, 10.0)):
        u = np.linspace(0, 1, m)
        low = rng.uniform(70, 130)
        f0 = low + (rng.uniform(120, 250) - low) * np.sin(np.pi * u) ** rng.uniform(0.5, 2)
        count = int(4000 / f0.max())
        muffled = _harmonics(f0, count, sr, lambda k: np.exp(-k / 2))  # lips closed: the lowest harmonics alone
        open_ = _shaped(_harmonics(f0, count, sr, lambda k: 1 / k**0.5), sr,
                        [rng.uniform(300, 800), rng.uniform(900, 1800)], 200)
        opening = np.clip(u / rng.uniform(0.2, 0.5), 0, 1)
        x[i0 : i0 + m] = ((1 - opening) * _unit(muffled) + opening * _unit(open_)) * np.hanning(m) ** 0.3
    return x


def _parrot(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    x = np.zeros(n)
    top = min(6000.0, 0.45 * sr)
    for b0, bm in _bouts(rng, n, sr, (0.3, 3.0), (1.0, 5.0)):
        for i0, m in _bouts(rng, bm, sr, (0.1, 0.6), (0.05, 0.3)):
            t = np.arange(m) / sr
            f0 = rng.uniform(400, 1200) * (1 + rng.uniform(0.05, 0.3) * np.sin(2 * np.pi * rng.uniform(20, 80) * t))
            harsh = _harmonics(f0, max(1, int(top / f0.max())), sr, lambda k: 1 / k**0.3)
            noise = band_noise(rng, m, sr, 500, top) if m > 1 else np.zeros(m)
            x[b0 + i0 : b0 + i0 + m] = (_unit(harsh) + rng.uniform(0.2, 0.8) * noise) * np.hanning(m)
    return x


ANIMALS = {"songbird": _songbird, "howler": _howler, "cattle": _cattle, "parrot": _parrot}


def as_recorded_at(x: np.ndarray, sr: int, rate: int) -> np.ndarray:
    """`x` (at `sr`) as a recorder at `rate` keeps it: resampled down and back up with soxr, as decoding resamples;
    the same length, nothing left above rate / 2. Unchanged where `rate` >= `sr`."""
    import soxr

    if rate >= sr:
        return x
    kept = soxr.resample(soxr.resample(x, sr, rate), rate, sr)[: len(x)]
    return np.pad(kept, (0, len(x) - len(kept)))


def _low_rate(rng: np.random.Generator, n: int, sr: int, background: np.ndarray | None) -> np.ndarray:
    """`background` (default: pink noise, -50 to -20 dBFS) with a sound of another kind 5 dB below to 15 dB above
    it, as a recorder at a rate drawn from LOW_RATE_HZ keeps them (`as_recorded_at`)."""
    base = background if background is not None else pink_noise(rng, n, sr) * 10 ** (rng.uniform(-50, -20) / 20)
    sound = synth_negative(rng, str(rng.choice(SOUND_KINDS)), n, sr)
    x = base + sound * rms(base) * 10 ** (rng.uniform(*SNR_DB) / 20)
    return as_recorded_at(x, sr, int(rng.uniform(*LOW_RATE_HZ)))


def check_sample_rate(sample_rate_hz: int) -> None:
    """ValueError, in one line, where the bank cannot be made at this rate (it would not fit below Nyquist)."""
    if sample_rate_hz < MIN_SAMPLE_RATE_HZ:
        raise ValueError(f"the generated non-call bank needs a sample rate of {MIN_SAMPLE_RATE_HZ} Hz or more (its "
                         f"sounds reach 1.5 kHz and up) and this front end reads {sample_rate_hz} Hz: turn the bank "
                         f"off (--negative-bank-per-kind 0)")


def negative_clips(
    sample_rate_hz: int,
    clip_s: float,
    seed: int = 0,
    per_kind: int = 8,
    backgrounds: list[np.ndarray] | None = None,
    snr_db: tuple[float, float] = SNR_DB,
) -> Iterator[tuple[str, bool, np.ndarray]]:
    """(kind, mixed, samples) for every clip of a bank; `mixed`: mixed into one of `backgrounds`
    (the user's own negative clips at `sample_rate_hz`).

    Per kind: `per_kind` clips alone, at a level between -50 and -10 dBFS, and (with backgrounds)
    `per_kind` mixed into a background at a sound-to-background ratio drawn from `snr_db`. The kinds
    made from a background (silences, low_rate) take one (or pink noise) instead. Deterministic for the
    same arguments.
    """
    check_sample_rate(sample_rate_hz)
    rng = np.random.default_rng(seed)
    n = int(round(clip_s * sample_rate_hz))
    usable = [b[:n] for b in (backgrounds or []) if len(b) >= n and np.sqrt(np.mean(b[:n] ** 2)) > 1e-5]
    for kind in NEGATIVE_KINDS:
        for i in range(per_kind * (2 if usable else 1)):
            mixed = i >= per_kind
            background = usable[int(rng.integers(len(usable)))] if usable else None
            if kind in FROM_BACKGROUND_KINDS:
                x = synth_negative(rng, kind, n, sample_rate_hz, background if mixed else None)
            else:
                x = synth_negative(rng, kind, n, sample_rate_hz) * 10 ** (rng.uniform(-50, -10) / 20)
                if mixed:
                    level = np.sqrt(np.mean(background**2)) * 10 ** (rng.uniform(*snr_db) / 20)
                    x = background + _unit(x) * level
            peak = np.max(np.abs(x))
            if peak > 0.99:
                x = x * 0.99 / peak
            yield kind, mixed, x.astype(np.float32)


def write_negative_bank(out_dir: str | os.PathLike, sample_rate_hz: int, clip_s: float, **settings) -> pd.DataFrame:
    """Write the bank (`negative_clips` with these arguments) as 16-bit FLAC clips under
    `out_dir/<kind>/`; one row per clip: file, kind, mixed."""
    import soundfile as sf

    rows, count = [], {}
    for kind, mixed, x in negative_clips(sample_rate_hz, clip_s, **settings):
        i = count[kind] = count.get(kind, -1) + 1
        path = Path(out_dir) / kind / f"{kind}-{'mixed' if mixed else 'alone'}-{i:03d}.flac"
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, x, sample_rate_hz, subtype="PCM_16")
        rows.append((str(path), kind, mixed))
    return pd.DataFrame(rows, columns=BANK_COLUMNS)
