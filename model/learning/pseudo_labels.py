"""Labels a trained detector writes for recordings nobody labelled, to train a second model on them.

A biologist labels a few recordings and has many more. The calls a first model counts with a high score
become calls; every stretch it scores at all (a window at or above `unsure_score`, a call under
`sure_score`) becomes "faint", which training neither learns as a call nor as no call
(data_pipeline.labels.annotations.clips_from_annotations); the rest is no-call material, which
self-training uses only when asked (model.learning.self_training: a call the first model missed would be
taught as background). The table has the columns of a labels file
(recording, start, end, confidence, note), one `none` row for a recording with neither.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from model.detection.counting import RecordingScores

LABEL_COLUMNS = ["recording", "start", "end", "confidence", "note"]


def check_pseudo_scores(sure_score: float, unsure_score: float) -> None:
    if not 0 < unsure_score <= sure_score <= 1:
        raise ValueError(f"--pseudo-unsure-score {unsure_score:g} and --pseudo-sure-score {sure_score:g}: "
                         "give 0 < unsure <= sure <= 1")


def _stretches(starts_s: np.ndarray, scores: np.ndarray, window_s: float, at_least: float) -> list[tuple[float, float]]:
    """Merged stretches attributed to windows scoring `at_least` or more: each window's score belongs to the
    hop-long stretch at its centre, as model.detection.events counts it."""
    if len(starts_s) == 0:
        return []
    hop = float(np.median(np.diff(starts_s))) if len(starts_s) > 1 else window_s
    centres = np.asarray(starts_s, float) + window_s / 2
    stretches: list[list[float]] = []
    for centre in centres[np.asarray(scores) >= at_least]:
        lo, hi = centre - hop / 2, centre + hop / 2
        if stretches and lo <= stretches[-1][1] + 1e-9:
            stretches[-1][1] = hi
        else:
            stretches.append([lo, hi])
    return [(max(0.0, lo), hi) for lo, hi in stretches]


def pseudo_labels(scores: list[RecordingScores], events: pd.DataFrame, window_s: float,
                  sure_score: float, unsure_score: float) -> pd.DataFrame:
    """Labels for the scored recordings: calls (events) scoring `sure_score` or more are `sure`; weaker calls
    and every stretch of windows scoring `unsure_score` or more are `faint` (a sure call's own windows too: call
    clips are cut from within a sure call whatever else covers it); a recording with neither gets a
    `none` row. `events`: the calls counted from `scores` (model.detection.counting.CountResult.events)."""
    check_pseudo_scores(sure_score, unsure_score)
    rows = []
    for rec in scores:
        mine = events[events["recording"] == rec.recording]
        sure = mine[mine["score"] >= sure_score]
        before = len(rows)
        rows += [(rec.recording, round(c.start, 3), round(c.end, 3), "sure", f"pseudo {c.score:.3f}")
                 for c in sure.itertuples()]
        weak = [(c.start, c.end) for c in mine[mine["score"] < sure_score].itertuples()]
        for lo, hi in weak + _stretches(rec.starts_s, rec.scores, window_s, unsure_score):
            rows.append((rec.recording, round(lo, 3), round(min(hi, rec.duration_s), 3), "faint", "pseudo unsure"))
        if len(rows) == before:
            rows.append((rec.recording, np.nan, np.nan, "none", "pseudo"))
    return pd.DataFrame(rows, columns=LABEL_COLUMNS)
