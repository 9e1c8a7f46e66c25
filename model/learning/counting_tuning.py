"""Choose counting settings (threshold, merge gap, minimum length, smoothing) on labelled recordings.

The model runs once per recording, at the finest hop; every candidate setting only re-merges the
stored window scores (a coarser hop is every k-th window), on arrays: the default grid's 1,296 settings
on 11 recordings took 1.4 s, against 24 s through the tables counting builds and 38 s before the tuner
used arrays (benchmarks/counting_tuning_speed.py). The winner maximises event F1, then minimises count
MAE; among equals, the finest hop wins (a coarse hop cannot resolve calls 1 s apart, which validation
recordings may not contain), then the setting nearest the defaults (least fitted to noise).

If even the winner finds few of the validation recordings' calls, the model has not learnt the call, and
`warn_if_not_learnt` says so in one line: training printed nothing louder than a clip F1 of 0.000 when a
7-recording model (21 call clips, trained with augmentation) found none of the 13 calls it was then asked to
count (docs/not-a-call.md, "From a few labelled recordings").
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import replace

import numpy as np
import pandas as pd

from model.cli import OneLineWarning
from model.detection.counting import RecordingScores
from model.detection.events import CountingConfig, call_spans, median_smooth
from model.reporting.evaluation import evaluate_spans, labelled_calls, summarise

# Event F1 on the validation recordings, with the settings that suit them best, below which a model is said
# not to have learnt the call (warn_if_not_learnt).
NOT_LEARNT_F1 = 0.5
HOP_MULTIPLES = (1, 2, 4)  # hops tried, as multiples of the hop the scores were computed at
DEFAULT_GRID = {
    "threshold": [0.3, 0.4, 0.5, 0.6, 0.7, 0.8],
    "min_gap_s": [0.25, 0.5, 0.75, 1.0],
    "min_call_s": [1.0, 1.5, 2.0, 2.25, 2.5, 3.0],
    "smooth_windows": [1, 3, 5],
}


def tune_counting(scores: list[RecordingScores], labels: pd.DataFrame, window_s: float,
                  base: CountingConfig = CountingConfig(), grid: dict | None = None) -> tuple[CountingConfig, pd.DataFrame]:
    """(best settings, table of every setting tried with its F1 and count MAE, best first).

    `scores` must have been computed at `base.hop_s`.
    """
    grid = grid or DEFAULT_GRID
    truth = [labelled_calls(labels[labels["recording"] == recording.recording]) for recording in scores]
    rows = []
    for k in HOP_MULTIPLES:
        coarse = [_every(k, r) for r in scores]
        smoothed = {width: [median_smooth(r.scores, width) for r in coarse] for width in set(grid["smooth_windows"])}
        for values in itertools.product(*grid.values()):
            config = replace(base, hop_s=base.hop_s * k, **dict(zip(grid, values)))
            merge = replace(config, smooth_windows=1)  # the scores are smoothed already, once per width
            per_recording = pd.DataFrame([
                evaluate_spans(call_spans(r.starts_s, s, window_s, merge, r.duration_s, *r.gate_measures)[:, :2],
                               calls, sure)
                for r, s, (calls, sure) in zip(coarse, smoothed[config.smooth_windows], truth)])
            summary = summarise(per_recording)
            distance = sum(abs(getattr(config, g) - getattr(base, g)) / (max(v) - min(v) or 1) for g, v in grid.items())
            rows.append({"hop_s": config.hop_s, **dict(zip(grid, values)), "f1": summary["f1"],
                         "count_mae": summary["count_mae"], "exact": summary["exact_count_fraction"], "distance": distance})
    table = pd.DataFrame(rows).sort_values(["f1", "count_mae", "hop_s", "distance"], ascending=[False, True, True, True],
                                           ignore_index=True)
    best = replace(base, **{g: type(getattr(base, g))(table.loc[0, g]) for g in ["hop_s", *grid]})
    return best, table.drop(columns="distance")


def _every(k: int, rec: RecordingScores) -> RecordingScores:
    """Every k-th window of a recording, keeping the last window (the one ending at the recording's end)."""
    keep = np.union1d(np.arange(0, len(rec.scores), k), [len(rec.scores) - 1]) if len(rec.scores) else []
    return rec.windows(keep)


class NotLearntWarning(OneLineWarning):
    """A model that finds few of the calls labelled in its own validation recordings."""


def warn_if_not_learnt(tried: pd.DataFrame, labels: pd.DataFrame, recordings: list[str]) -> None:
    """Warn when the best setting of `tune_counting`'s table scores an event F1 below NOT_LEARNT_F1 on validation
    recordings (names) that hold sure calls; with none labelled there, F1 says nothing and nothing is said."""
    calls = labels[labels["recording"].isin(recordings) & (labels["confidence"] == "sure")]
    f1 = float(tried.iloc[0]["f1"])
    if len(calls) and f1 < NOT_LEARNT_F1:
        warnings.warn(NotLearntWarning(
            f"the model has not learnt the call: on its {len(recordings)} validation recording(s), which hold {len(calls)} "
            f"labelled call(s), it scores an event F1 of {f1:.2f} with the counting settings that suit them best, so its "
            "counts will be wrong; label more calls (or add recordings that hold them) and train again"), stacklevel=2)
