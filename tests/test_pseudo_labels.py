"""Pseudo-labels from window scores with known answers: sure calls, unsure stretches left out of both classes,
a `none` row for a recording with neither, and what training cuts from them."""

import numpy as np
import pandas as pd
import pytest

from data_pipeline.labels.class_folders import KAGGLE_CLASSES
from model.detection.counting import RecordingScores
from model.learning.pseudo_labels import pseudo_labels

WINDOW_S, HOP_S = 2.0, 0.5


def _scored(name, duration_s, high=(), middling=()):
    """Window scores of a recording: 0.95 on the windows centred in `high` stretches, 0.5 in `middling` ones,
    0.01 elsewhere."""
    starts = np.arange(0, duration_s - WINDOW_S + 1e-9, HOP_S)
    centres = starts + WINDOW_S / 2
    scores = np.full(len(starts), 0.01)
    for value, stretches in ((0.5, middling), (0.95, high)):
        for lo, hi in stretches:
            scores[(centres >= lo) & (centres < hi)] = value
    return RecordingScores(name, starts, scores, duration_s)


def test_sure_calls_unsure_stretches_and_empty_recordings():
    scores = [_scored("a.wav", 60, high=[(10, 15)], middling=[(30, 32)]), _scored("b.wav", 60)]
    events = pd.DataFrame({"recording": ["a.wav", "a.wav"], "start": [10.0, 30.0], "end": [15.0, 32.0],
                           "score": [0.95, 0.5]})
    labels = pseudo_labels(scores, events, WINDOW_S, sure_score=0.9, unsure_score=0.2)
    a, b = labels[labels["recording"] == "a.wav"], labels[labels["recording"] == "b.wav"]
    assert a[a["confidence"] == "sure"][["start", "end"]].values.tolist() == [[10.0, 15.0]]
    faint = a[a["confidence"] == "faint"][["start", "end"]].values.tolist()
    # the weak call itself, and the stretches of windows at or above 0.2 (centres 10-14.5 and 30-31.5, +- half a hop)
    assert sorted(faint) == [[9.75, 14.75], [29.75, 31.75], [30.0, 32.0]]
    assert b["confidence"].tolist() == ["none"] and b["start"].isna().all()


def test_training_clips_cut_from_pseudo_labels_leave_the_unsure_stretches_out(write_audio):
    """What the labels are for: clips_from_annotations cuts calls only inside the sure call, and no-call clips
    only away from every stretch the first model scored at all."""
    from data_pipeline.labels.annotations import clips_from_annotations

    path = write_audio("a.wav", np.zeros(16000 * 60, np.float32), 16000)
    scores = [_scored("a.wav", 60, high=[(10, 15)], middling=[(30, 32)])]
    events = pd.DataFrame({"recording": ["a.wav"], "start": [10.0], "end": [15.0], "score": [0.95]})
    labels = pseudo_labels(scores, events, WINDOW_S, sure_score=0.9, unsure_score=0.2)
    clips = clips_from_annotations([path], labels, clip_s=WINDOW_S)
    centres = clips["start"] + WINDOW_S / 2
    calls = centres[clips["label"] == KAGGLE_CLASSES[1]]
    assert len(calls) and calls.between(10.5, 14.5).all()
    other = centres[clips["label"] != KAGGLE_CLASSES[1]]
    assert not ((other > 9.25) & (other < 15.75)).any() and not ((other > 29.25) & (other < 32.75)).any()
    assert len(other) > 40  # the rest of the minute is no-call material


def test_scores_out_of_order_are_refused():
    with pytest.raises(ValueError, match="give 0 < unsure <= sure <= 1"):
        pseudo_labels([], pd.DataFrame(columns=["recording", "start", "end", "score"]), WINDOW_S, 0.5, 0.9)


def test_the_learning_curve_draws_a_line_per_number_of_self_training_rounds():
    from model.reporting.plots import learning_curve_figure

    curve = pd.DataFrame({"size": ["3", "7", "3", "7"], "self_training_rounds": [0, 0, 1, 1],
                          "recordings": [3, 7, 3, 7], "f1": [0.9, 0.96, 0.93, 0.98], "count_mae": [0.3, 0.1, 0.2, 0.05]})
    f1_ax, mae_ax = learning_curve_figure(curve).axes
    assert [list(line.get_ydata()) for line in f1_ax.lines] == [[0.9, 0.96], [0.93, 0.98]]
    assert [list(line.get_ydata()) for line in mae_ax.lines] == [[0.3, 0.1], [0.2, 0.05]]
    assert [t.get_text() for t in f1_ax.get_legend().get_texts()][1] == "+ 1 round(s) of self-training"
    alone = learning_curve_figure(curve[curve["self_training_rounds"] == 0].drop(columns="self_training_rounds"))
    assert len(alone.axes[0].lines) == 1 and alone.axes[0].get_legend() is None
