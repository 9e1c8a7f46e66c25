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
