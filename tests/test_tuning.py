import numpy as np
import pandas as pd

from model.detection.counting import RecordingScores
from model.detection.events import CountingConfig
from model.learning.counting_tuning import tune_counting

HOP = 0.25


def recording(name, calls, weak=(), duration=60.0, window=3.0):
    """Window scores a perfect scorer would give: high where the window centre is in a call."""
    starts = np.arange(0, duration - window + 1e-9, HOP)
    centres = starts + window / 2
    scores = np.full(len(starts), 0.05)
    for s, e in calls:
        scores[(centres >= s) & (centres <= e)] = 0.95
    for s, e in weak:  # calls the scorer is unsure about
        scores[(centres >= s) & (centres <= e)] = 0.4
    return RecordingScores(name, starts, scores, duration)


def test_tuning_finds_the_threshold_that_catches_weak_calls_and_keeps_the_fine_hop_on_ties():
    recs = [recording("a.wav", [(5, 10), (20, 26)], weak=[(40, 45)]), recording("b.wav", [(30, 35)], weak=[(50, 55)])]
    labels = pd.DataFrame([("a.wav", 5, 10, "sure"), ("a.wav", 20, 26, "sure"), ("a.wav", 40, 45, "sure"),
                           ("b.wav", 30, 35, "sure"), ("b.wav", 50, 55, "sure")],
                          columns=["recording", "start", "end", "confidence"])
    best, tried = tune_counting(recs, labels, 3.0, CountingConfig(hop_s=HOP))
    assert best.threshold <= 0.4  # the default 0.5 would miss two of five calls
    assert tried.loc[0, "f1"] == 1.0 and tried.loc[0, "count_mae"] == 0.0
    assert best.hop_s == HOP  # every hop is perfect here: the finest is the safe choice
    default = tried[(tried.threshold == 0.5) & (tried.hop_s == HOP)]
    assert default["f1"].max() < 1.0


def test_every_setting_tried_scores_as_counting_and_evaluating_would():
    """The tuner merges and scores on arrays (some ten thousand times a run); each row must be what
    `events_from_scores` + `evaluate`, the path counting and the benchmarks take, give for that setting."""
    from dataclasses import replace

    from model.detection.counting import events_from_scores
    from model.learning.counting_tuning import DEFAULT_GRID, HOP_MULTIPLES, _every
    from model.reporting.evaluation import evaluate

    rng = np.random.default_rng(0)
    recs = []
    for name, calls in (("a.wav", [(5, 10), (12, 14.5), (30, 36)]), ("b.wav", [(50, 55)]), ("c.wav", [])):
        clean = recording(name, calls, weak=[(20, 23)] if name == "a.wav" else ())
        noisy = np.clip(clean.scores + rng.normal(0, 0.25, len(clean.scores)), 0, 1)  # runs split, stray windows
        recs.append(RecordingScores(name, clean.starts_s, noisy, clean.duration_s))
    labels = pd.DataFrame([("a.wav", 5, 10, "sure"), ("a.wav", 12, 14.5, "faint"), ("a.wav", 30, 36, "sure"),
                           ("b.wav", 50, 55, "sure")], columns=["recording", "start", "end", "confidence"])
    base = CountingConfig(hop_s=HOP)
    _, tried = tune_counting(recs, labels, 3.0, base)
    assert len(tried) == len(HOP_MULTIPLES) * np.prod([len(v) for v in DEFAULT_GRID.values()])
    assert tried["f1"].nunique() > 5 and tried["count_mae"].nunique() > 3  # the settings really differ here
    for _, row in tried.sample(60, random_state=0).iterrows():
        config = replace(base, hop_s=row["hop_s"], threshold=row["threshold"], min_gap_s=row["min_gap_s"],
                         min_call_s=row["min_call_s"], smooth_windows=int(row["smooth_windows"]))
        k = int(round(row["hop_s"] / HOP))
        result = events_from_scores([_every(k, r) for r in recs], 3.0, config)
        _, summary = evaluate(result.events, labels, [r.recording for r in recs])
        assert (row["f1"], row["count_mae"], row["exact"]) == (
            summary["f1"], summary["count_mae"], summary["exact_count_fraction"]), config


def test_a_model_that_finds_none_of_its_validation_calls_is_said_not_to_have_learnt_them(recwarn):
    """train() tunes counting on its validation recordings; a model whose best setting still finds few of their
    calls (a 7-recording fold once found none of 13, with nothing louder than a clip F1 of 0.000) warns."""
    import pytest

    from model.learning.counting_tuning import NotLearntWarning, warn_if_not_learnt

    labels = pd.DataFrame([("a.wav", 5, 10, "sure"), ("a.wav", 20, 26, "sure"), ("b.wav", 30, 35, "faint")],
                          columns=["recording", "start", "end", "confidence"])
    deaf = [recording("a.wav", []), recording("b.wav", [])]  # scores every window 0.05: finds nothing
    _, tried = tune_counting(deaf, labels, 3.0, CountingConfig(hop_s=HOP))
    with pytest.warns(NotLearntWarning, match=r"2 validation recording\(s\), which hold 2 labelled call\(s\).*F1 of 0\.00"):
        warn_if_not_learnt(tried, labels, ["a.wav", "b.wav"])

    half = [recording("a.wav", [(5, 10)]), recording("b.wav", [])]  # one of the two calls: F1 0.67, learnt in part
    warn_if_not_learnt(tune_counting(half, labels, 3.0, CountingConfig(hop_s=HOP))[1], labels, ["a.wav", "b.wav"])
    warn_if_not_learnt(tune_counting(deaf[1:], labels, 3.0, CountingConfig(hop_s=HOP))[1], labels, ["b.wav"])  # faint only
    assert not [w for w in recwarn if issubclass(w.category, NotLearntWarning)]


def test_the_not_learnt_warning_is_printed_in_one_line(capsys):
    from model import cli
    from model.learning.counting_tuning import NotLearntWarning

    cli._one_line_warning(NotLearntWarning("the model has not learnt the call"), NotLearntWarning, "x.py", 1)
    assert capsys.readouterr().err == "warning: the model has not learnt the call\n"
