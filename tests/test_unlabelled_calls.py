"""Calls counted where no label is, in the recordings training took background from: listed and said
(model.learning.unlabelled_calls). The counting itself is `count_calls`, tested elsewhere: here the events are given."""

import pandas as pd
import pytest

from model.learning.unlabelled_calls import (
    UNLABELLED_CALLS_FILE,
    UnlabelledCallsWarning,
    background_recordings,
    check_for_unlabelled_calls,
)

LABELS = pd.DataFrame([("a.wav", 10.0, 14.0, "sure"), ("a.wav", 40.0, 44.0, "faint"), ("b.wav", None, None, "none"),
                       ("c.wav", 5.0, 9.0, "sure")], columns=["recording", "start", "end", "confidence"])


def _events(*rows):
    return pd.DataFrame(rows, columns=["recording", "start", "end", "score"])


def test_the_recordings_checked_are_those_training_taught_background_from():
    table = pd.DataFrame([("x/a.wav", "capuchinbird", "train"), ("x/a.wav", "not_capuchinbird", "train"),
                          ("x/b.wav", "not_capuchinbird", "val"), ("x/c.wav", "not_capuchinbird", "test"),
                          ("x/guessed.wav", "capuchinbird", "train"),  # self-training's sure calls only: no background
                          ("clips/dog-1.wav", "not_capuchinbird", "train")],  # a clip, named by no label
                         columns=["file", "label", "split"])
    assert background_recordings(table, LABELS, "not_capuchinbird") == {"train": ["x/a.wav"], "val": ["x/b.wav"],
                                                                        "test": ["x/c.wav"]}
    # Self-training with --pseudo-background: a guessed recording's background is taught too, but its labels are a
    # model's guesses, not a person's: the calls the guesses lack are no labeller's to add.
    guessed = pd.concat([LABELS, pd.DataFrame([("guessed.wav", 1.0, 5.0, "sure")], columns=LABELS.columns)])
    table.loc[len(table)] = ("x/guessed.wav", "not_capuchinbird", "train")
    assert background_recordings(table, guessed, "not_capuchinbird")["train"] == ["x/a.wav", "x/guessed.wav"]
    assert background_recordings(table, guessed, "not_capuchinbird", set(LABELS["recording"]))["train"] == ["x/a.wav"]


def test_calls_matching_no_label_are_listed_by_split_and_said_in_one_line(tmp_path):
    recordings = {"train": ["x/a.wav"], "val": ["x/b.wav"], "test": ["x/c.wav"]}
    counted = {"train": _events(("a.wav", 10.5, 14.2, 0.97), ("a.wav", 40.5, 43.0, 0.7), ("a.wav", 70.0, 74.5, 0.99)),
               "val": _events(("b.wav", 3.0, 7.5, 0.91)),
               "test": _events(("c.wav", 5.2, 9.1, 0.95), ("d.wav", 1.0, 4.5, 0.9))}  # d.wav: not a recording checked
    with pytest.warns(UnlabelledCallsWarning, match=r"^2 call\(s\) counted in the labelled recordings match no label "
                                                    r"\(1 in training, 1 in validation recordings; .*unlabelled_calls.csv\)"):
        per_split = check_for_unlabelled_calls(None, recordings, LABELS, tmp_path, counted)
    assert per_split == {"train": 1, "val": 1, "test": 0}
    listed = pd.read_csv(tmp_path / UNLABELLED_CALLS_FILE)  # the faint call found is no false call, the sure one neither
    assert listed.values.tolist() == [["a.wav", 70.0, 74.5, 0.99, "train"], ["b.wav", 3.0, 7.5, 0.91, "val"]]


def test_with_every_call_labelled_nothing_is_said_and_the_list_is_empty(tmp_path, recwarn):
    counted = {"train": _events(("a.wav", 10.5, 14.2, 0.97)), "test": _events()}
    assert check_for_unlabelled_calls(None, {"train": ["x/a.wav"], "test": ["x/c.wav"]}, LABELS, tmp_path,
                                      counted) == {"train": 0, "test": 0}
    assert not [w for w in recwarn if issubclass(w.category, UnlabelledCallsWarning)]
    assert (tmp_path / UNLABELLED_CALLS_FILE).read_text() == "recording,start,end,score,split\n"
