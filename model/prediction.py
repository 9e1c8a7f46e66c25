"""Score whole files as clips: the probability of a call anywhere in the file.

A file as long as the model's clip is one window; a longer one is cut into windows (the detector's
hop) and scored by its best window, so a call is not missed because it is not at the start.
"""

from __future__ import annotations

import os

import pandas as pd

from data_pipeline.audio_io import AudioDecodeError
from model.counting import score_recording
from model.detector import Detector


def predict_files(detector: Detector, paths: list[str | os.PathLike], threshold: float | None = None,
                  progress: bool = True) -> tuple[pd.DataFrame, list[str]]:
    """(table of file, probability, label; failures as 'PATH: reason')."""
    from tqdm.auto import tqdm

    threshold = detector.counting.threshold if threshold is None else threshold
    rows, failures = [], []
    for path in tqdm(paths, desc="predicting", unit="file", disable=not progress or len(paths) < 20):
        try:
            prob = float(score_recording(detector, path).scores.max())
        except AudioDecodeError as err:
            failures.append(str(err))
            continue
        label = detector.classes[detector.positive_class] if prob >= threshold else detector.classes[1 - detector.positive_class]
        rows.append((str(path), round(prob, 6), label))
    return pd.DataFrame(rows, columns=["file", "probability", "label"]), failures
