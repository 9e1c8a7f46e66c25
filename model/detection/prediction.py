"""Score whole files: one row per file with its class and probabilities.

A file as long as the model's clip is one window; a longer one is cut into windows (the detector's
hop) whose probabilities are pooled as the detector was trained to: "max" for call detectors (a
call anywhere in the file counts), "mean" for recordings classified as a whole (a heart sound).
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from data_pipeline.audio.decoding import AudioDecodeError, stream_audio
from data_pipeline.features.windows import iter_windows
from model.detection.decisions import pool_by_file, predicted_class
from model.detection.detector import Detector


def file_probabilities(detector: Detector, path: str | os.PathLike) -> np.ndarray:
    """[classes] probabilities of one file, pooled over its windows."""
    fe = detector.frontend
    windows = iter_windows(stream_audio(path, fe.sample_rate_hz), fe, detector.counting.hop_s)
    probs = np.concatenate([detector.window_probabilities(batch) for batch in windows])
    return pool_by_file(np.zeros(len(probs)), probs, detector.pooling)[1][0]


def predict_files(detector: Detector, paths: list[str | os.PathLike], threshold: float | None = None,
                  progress: bool = True) -> tuple[pd.DataFrame, list[str]]:
    """(table of file, probability, label [, p_<class> per class when more than two]; failures 'PATH: reason').

    probability: of the call class for a binary detector (the label is the call class at or above
    `threshold`, default the detector's), of the most probable class otherwise.
    """
    from tqdm.auto import tqdm

    threshold = detector.counting.threshold if threshold is None else threshold
    binary = len(detector.classes) == 2
    rows, failures = [], []
    for path in tqdm(paths, desc="predicting", unit="file", disable=not progress or len(paths) < 20):
        try:
            probs = file_probabilities(detector, path)
        except AudioDecodeError as err:
            failures.append(str(err))
            continue
        k = int(predicted_class(probs[None], threshold)[0])
        row = {"file": str(path), "label": detector.classes[k]}
        if binary:
            row["probability"] = round(float(probs[detector.positive_class]), 6)
        else:
            row.update({"probability": round(float(probs[k]), 6),
                        **{f"p_{c}": round(float(p), 6) for c, p in zip(detector.classes, probs)}})
        rows.append(row)
    columns = ["file", "probability", "label"] + ([] if binary else [f"p_{c}" for c in detector.classes])
    return pd.DataFrame(rows, columns=columns), failures
