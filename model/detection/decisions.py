"""From network outputs to decisions: class probabilities, the class decided, windows pooled per file.

Shared by prediction, counting and every evaluation, so a decision is made one way everywhere.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def as_class_probabilities(prob: np.ndarray) -> np.ndarray:
    """[n, classes] probabilities from a network's output: a sigmoid's [n] or [n, 1] becomes [1 - p, p]."""
    prob = np.asarray(prob, np.float64)
    if prob.ndim == 1 or prob.shape[1] == 1:
        p = prob.reshape(-1)
        return np.stack([1 - p, p], axis=1)
    return prob


def predicted_class(probs: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Class index per row of [n, classes] probabilities: class 1 at or above `threshold` for two
    classes (the call, as counting decides it), the most probable class otherwise."""
    probs = as_class_probabilities(probs)
    return (probs[:, 1] >= threshold).astype(int) if probs.shape[1] == 2 else probs.argmax(axis=1)


POOLING = ("max", "mean")


def pool_by_file(files: np.ndarray, probs: np.ndarray, how: str = "mean") -> tuple[np.ndarray, np.ndarray]:
    """(file names, one [classes] probability row per file) from the windows cut from those files.

    how: "mean" (the recording as a whole: a heart is abnormal across its beats) or "max" (the
        most confident window per class: a call anywhere in the file).
    """
    if how not in POOLING:
        raise ValueError(f"pooling must be one of {POOLING}, got {how!r}")
    probs = as_class_probabilities(probs)
    frame = pd.DataFrame(probs).assign(file=np.asarray(files))
    pooled = frame.groupby("file", sort=False).agg(how)
    return pooled.index.to_numpy(), pooled.to_numpy()
