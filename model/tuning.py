"""Choose counting settings (threshold, merge gap, minimum length, smoothing) on labelled recordings.

The model runs once per recording; every candidate setting only re-merges the stored window
scores, so a grid of a few hundred settings takes seconds. The winner maximises event F1, then
minimises count MAE; among equals, the setting nearest the defaults wins (less fitted to noise).
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import pandas as pd

from model.counting import RecordingScores, events_from_scores
from model.evaluation import evaluate
from model.events import CountingConfig

DEFAULT_GRID = {
    "threshold": [0.3, 0.4, 0.5, 0.6, 0.7, 0.8],
    "min_gap_s": [0.25, 0.5, 0.75, 1.0],
    "min_call_s": [0.5, 1.0, 1.5, 2.0],
    "smooth_windows": [1, 3, 5],
}


def tune_counting(scores: list[RecordingScores], labels: pd.DataFrame, window_s: float,
                  base: CountingConfig = CountingConfig(), grid: dict | None = None) -> tuple[CountingConfig, pd.DataFrame]:
    """(best settings, table of every setting tried with its F1 and count MAE, best first)."""
    grid = grid or DEFAULT_GRID
    names = [recording.recording for recording in scores]
    rows = []
    for values in itertools.product(*grid.values()):
        config = replace(base, **dict(zip(grid, values)))
        result = events_from_scores(scores, window_s, config)
        _, summary = evaluate(result.events, labels, names)
        distance = sum(abs(getattr(config, k) - getattr(base, k)) / (max(v) - min(v) or 1) for k, v in grid.items())
        rows.append({**dict(zip(grid, values)), "f1": summary["f1"], "count_mae": summary["count_mae"],
                     "exact": summary["exact_count_fraction"], "distance": distance})
    table = pd.DataFrame(rows).sort_values(["f1", "count_mae", "distance"], ascending=[False, True, True],
                                           ignore_index=True)
    best = replace(base, **{k: type(getattr(base, k))(table.loc[0, k]) for k in grid})
    return best, table.drop(columns="distance")
