"""Synthetic stand-ins, with known labels, for datasets this project cannot ship.

- `write_whale_dataset`: the Kaggle right-whale detection layout, train/*.aiff (2 s, 2 kHz) and
  train.csv (clip_name,label). An up-call sweeps from about 50 to about 250 Hz in ~1 s; every clip
  has ocean noise and most a steady ship tone, which per-frequency median subtraction removes;
  some negatives hold a down-sweep, so "any tone that moves" is not enough.
- `write_class_folders`: a folder per class with N distinct sound classes (tone, up-sweep,
  down-sweep, pulse train, noise burst, two-tone, ...), one-second clips in noise.

Deterministic from a seed. `python -m data_pipeline.synthetic.other_datasets --help`.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
import pandas as pd

from data_pipeline.synthetic.capuchinbird import band_noise, pink_noise

WHALE_RATE_HZ = 2000
CLASS_KINDS = ("tone", "upsweep", "downsweep", "pulses", "noise_burst", "two_tone", "warble", "clicks")


def _sweep(rng, n: int, sr: int, f0: float, f1: float, curve: float = 1.0) -> np.ndarray:
    """A tone gliding from f0 to f1 Hz over n samples (curve > 1: slow start, fast end), Hann-shaped."""
    t = np.linspace(0, 1, n)
    freq = f0 + (f1 - f0) * t**curve
    phase = 2 * np.pi * np.cumsum(freq) / sr + rng.uniform(0, 2 * np.pi)
    return np.sin(phase) * np.hanning(n)


def _place(clip: np.ndarray, sound: np.ndarray, start: int, snr_db: float) -> None:
    """Add `sound` at `start`, scaled to `snr_db` over the clip's RMS (in place)."""
    noise_rms = np.sqrt(np.mean(clip**2)) + 1e-12
    sound_rms = np.sqrt(np.mean(sound[np.abs(sound) > 0.05 * np.abs(sound).max()] ** 2)) + 1e-12
    end = min(len(clip), start + len(sound))
    clip[start:end] += sound[: end - start] * noise_rms / sound_rms * 10 ** (snr_db / 20)


def synth_whale_clip(rng, upcall: bool, clip_s: float = 2.0, sr: int = WHALE_RATE_HZ) -> np.ndarray:
    n = int(clip_s * sr)
    clip = 0.6 * pink_noise(rng, n, sr) + 0.4 * band_noise(rng, n, sr, 20, 900)
    if rng.random() < 0.7:  # a ship: steady tone somewhere in the up-call band
        clip += rng.uniform(0.3, 1.2) * np.sin(2 * np.pi * rng.uniform(60, 240) * np.arange(n) / sr)
    if upcall:
        length = int(rng.uniform(0.7, 1.1) * sr)
        sound = _sweep(rng, length, sr, rng.uniform(45, 70), rng.uniform(200, 260), curve=rng.uniform(1.0, 1.6))
        _place(clip, sound, int(rng.integers(0, n - length)), rng.uniform(2, 12))
    elif rng.random() < 0.3:  # a down-sweep: moves, but the wrong way
        length = int(rng.uniform(0.7, 1.1) * sr)
        _place(clip, _sweep(rng, length, sr, rng.uniform(200, 250), rng.uniform(50, 80)),
               int(rng.integers(0, n - length)), rng.uniform(2, 12))
    return (0.25 * clip / np.abs(clip).max()).astype(np.float32)


def write_whale_dataset(out_dir: str | os.PathLike, n_clips: int = 120, seed: int = 0,
                        upcall_fraction: float = 0.4) -> pd.DataFrame:
    """Kaggle whale layout in `out_dir` (train/, train.csv); returns the label table."""
    import soundfile as sf

    rng = np.random.default_rng(seed)
    out = Path(out_dir)
    (out / "train").mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(n_clips):
        label = int(rng.random() < upcall_fraction)
        name = f"train{i + 1}.aiff"
        sf.write(out / "train" / name, synth_whale_clip(rng, bool(label)), WHALE_RATE_HZ, format="AIFF", subtype="PCM_16")
        rows.append((name, label))
    table = pd.DataFrame(rows, columns=["clip_name", "label"])
    table.to_csv(out / "train.csv", index=False)
    return table


def synth_class_sound(rng, kind: str, n: int, sr: int) -> np.ndarray:
    """One example of a class from CLASS_KINDS, `n` samples long (the sound fills 40-80% of it)."""
    length = int(n * rng.uniform(0.4, 0.8))
    t = np.arange(length) / sr
    base = rng.uniform(600, 3000)
    if kind == "tone":
        sound = np.sin(2 * np.pi * base * t) * np.hanning(length)
    elif kind == "upsweep":
        sound = _sweep(rng, length, sr, base * 0.5, base * 2)
    elif kind == "downsweep":
        sound = _sweep(rng, length, sr, base * 2, base * 0.5)
    elif kind == "pulses":
        gate = (np.sin(2 * np.pi * rng.uniform(8, 14) * t) > 0.6).astype(float)
        sound = np.sin(2 * np.pi * base * t) * gate
    elif kind == "noise_burst":
        sound = band_noise(rng, length, sr, base, base * 2.5) * np.hanning(length)
    elif kind == "two_tone":
        sound = (np.sin(2 * np.pi * base * t) + np.sin(2 * np.pi * base * 2.7 * t)) * np.hanning(length)
    elif kind == "warble":
        sound = np.sin(2 * np.pi * base * t + 8 * np.sin(2 * np.pi * 6 * t)) * np.hanning(length)
    elif kind == "clicks":
        sound = np.zeros(length)
        for k in rng.integers(0, length - 40, 12):
            sound[k : k + 40] += rng.standard_normal(40)
    else:
        raise ValueError(f"unknown sound class {kind!r}; choose from {CLASS_KINDS}")
    out = np.zeros(n)
    start = int(rng.integers(0, n - length + 1))
    out[start : start + length] = sound
    return out


def write_class_folders(out_dir: str | os.PathLike, n_classes: int = 5, clips_per_class: int = 30, seed: int = 0,
                        clip_s: float = 1.0, sr: int = 16000) -> list[str]:
    """A folder per class (first `n_classes` of CLASS_KINDS) of one-second WAV clips; returns the class names."""
    import soundfile as sf

    if not 2 <= n_classes <= len(CLASS_KINDS):
        raise ValueError(f"n_classes must be 2..{len(CLASS_KINDS)}")
    rng = np.random.default_rng(seed)
    n = int(clip_s * sr)
    kinds = list(CLASS_KINDS[:n_classes])
    for kind in kinds:
        folder = Path(out_dir) / kind
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(clips_per_class):
            clip = 0.5 * pink_noise(rng, n, sr)
            _place(clip, synth_class_sound(rng, kind, n, sr), 0, rng.uniform(3, 15))
            sf.write(folder / f"{kind}-{i}.wav", (0.25 * clip / np.abs(clip).max()).astype(np.float32), sr)
    return kinds


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("layout", choices=["whale", "classes"])
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--n", type=int, help="clips (whale, default 120) or clips per class (classes, default 30)")
    p.add_argument("--classes", type=int, default=5, help="number of classes (classes layout)")
    args = p.parse_args(argv)
    if args.layout == "whale":
        table = write_whale_dataset(args.out, args.n or 120, args.seed)
        print(f"wrote {len(table)} clips ({int(table['label'].sum())} up-calls) to {args.out}")
    else:
        kinds = write_class_folders(args.out, args.classes, args.n or 30, args.seed)
        print(f"wrote {len(kinds)} class folders to {args.out}: {', '.join(kinds)}")


if __name__ == "__main__":
    main()
