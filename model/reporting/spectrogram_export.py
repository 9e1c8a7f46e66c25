"""Spectrograms as PNG images, one per file (or per model window), for people who feed images to
other tools (image classifiers, labelling apps) or want to look.

The image is the front end's output exactly (a saved model's, or a preset's): one pixel per STFT
frame (left to right) and per frequency bin or mel band (low frequencies at the bottom), grey or a
colour map, scaled per image between its 1st and 99.5th percentiles. With median subtraction on,
a whole-file image has each frequency's median over the file removed; `windows=True` writes the
model's own inputs instead, each window normalised on its own as the model sees it.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from data_pipeline.audio.decoding import AudioDecodeError, decode_audio, stream_audio
from data_pipeline.features.frontend import (
    FrontendConfig,
    pad_or_crop,
    spectrogram,
    window_features,
)
from data_pipeline.features.windows import iter_windows
from model.outputs import atomic_save_image


def spectrogram_image(spec: np.ndarray, cmap: str = "gray") -> np.ndarray:
    """[frames, bins] -> RGBA image [bins, frames, 4], low frequencies in the bottom row."""
    import matplotlib

    lo, hi = np.percentile(spec, [1.0, 99.5])
    scaled = np.clip((spec - lo) / (hi - lo + 1e-9), 0.0, 1.0)
    return matplotlib.colormaps[cmap](np.flipud(scaled.T), bytes=True)


def export_spectrograms(paths: list, out_dir: str | os.PathLike, frontend: FrontendConfig, cmap: str = "gray",
                        windows: bool = False, hop_s: float | None = None, progress: bool = True) -> tuple[list[Path], list[str]]:
    """Write OUT/<stem>.png per file (or OUT/<stem>_<start>s.png per window); (written, failures)."""
    from tqdm.auto import tqdm

    written, failures = [], []
    out_dir = Path(out_dir)
    for path in tqdm(paths, desc="spectrograms", unit="file", disable=not progress or len(paths) < 5):
        stem = Path(path).stem
        try:
            if windows:
                for batch in iter_windows(stream_audio(path, frontend.sample_rate_hz), frontend, hop_s or frontend.clip_s):
                    for start, spec in zip(batch.starts_s, np.asarray(batch.spectrograms)):
                        written.append(atomic_save_image(out_dir / f"{stem}_{start:.2f}s.png", spectrogram_image(spec, cmap)))
            else:
                audio = decode_audio(path, frontend.sample_rate_hz)
                audio = pad_or_crop(audio, max(len(audio), frontend.clip_samples))  # a short file still makes an image
                spec = window_features(spectrogram(audio, frontend), frontend)
                written.append(atomic_save_image(out_dir / f"{stem}.png", spectrogram_image(np.asarray(spec), cmap)))
        except AudioDecodeError as err:
            failures.append(str(err))
    return written, failures
