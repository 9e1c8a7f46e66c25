"""A review (review.py writes OUTPUT_review.csv) as training material.

The file lists every item the review offered: detections, near misses (stretches the model scored
above the near-miss score), random stretches asked for, and calls marked by hand; each with the
reviewer's decision, or none yet. A confirmed item ("yes") is a call; a rejected one ("no") is a hard
negative, a sound the model took for a call; "unsure" and undecided items are not used as either.

In a recording that --labels also labels, the labels are the whole truth and the review adds its
confirmed calls the labels lack (a rejection inside a labelled call is dropped, with a warning).

In a recording only the review knows and the reviewer worked in (one item decided at least), the
stretches clear of every listed item are taken as background ("no call"): the model scored them under
the near-miss score. Without them the new recordings would bring only calls, and a network learns the
shortcut "a background I was never shown as 'no call' means a call": on the review-loop benchmark
(fold 2, 10 answers, 8 of them "yes") it then called everything in unheard recordings (README, "Review
in the browser"). A call the model missed entirely there would be taught as background: mark it on the
page (it becomes an item). Recordings where nothing was decided are not used.

So a decision covers the whole stretch the item showed: a reviewer who answers "yes" and moves the
edges onto one call marks the other calls in that stretch by hand, and what is left of it is background.
(Keeping the whole offered stretch out of the background instead was measured and rejected: where a
first model's near misses span whole recordings, nothing was left to learn the background from, and
review-loop fold 2 fell back to F1 0.348, count MAE 6.1.)
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from data_pipeline.labels.annotations import call_centres, clear_of
from data_pipeline.labels.class_folders import KAGGLE_CLASSES

REVIEW_DECISIONS = ("yes", "no", "unsure")
UNDECIDED = ""  # an item listed but not yet reviewed


def read_review(path: str | os.PathLike) -> pd.DataFrame:
    """recording, start, end, decision (UNDECIDED where empty) from a review CSV; one-line errors naming
    the file and row."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such review file (review.py writes <output>_review.csv)")
    table = pd.read_csv(path)
    missing = {"recording", "start", "end", "decision"} - set(table.columns)
    if missing:
        raise ValueError(f"{path}: a review needs columns recording,start,end,decision; missing {sorted(missing)}")
    table["decision"] = table["decision"].fillna(UNDECIDED).astype(str).str.strip().str.lower()
    for check, problem in ((~table["decision"].isin(REVIEW_DECISIONS + (UNDECIDED,)),
                            f"a decision other than {REVIEW_DECISIONS} or none"),
                           (table[["start", "end"]].isna().any(axis=1), "no start or end"),
                           (table["start"] < 0, "a start before 0 s"),
                           (table["end"] <= table["start"], "an end before its start")):
        if check.any():
            row = int(np.flatnonzero(check.to_numpy())[0])
            raise ValueError(f"{path}: row {row + 2} has {problem}")
    return table[["recording", "start", "end", "decision"]].reset_index(drop=True)


def confirmed_calls(review: pd.DataFrame) -> pd.DataFrame:
    """The confirmed items as call labels (recording, start, end, confidence 'sure')."""
    yes = review[review["decision"] == "yes"]
    return yes[["recording", "start", "end"]].assign(confidence="sure").reset_index(drop=True)


def labels_with_review(labels: pd.DataFrame, review: pd.DataFrame) -> pd.DataFrame:
    """`labels` plus the review's confirmed calls in the recordings they label that overlap no labelled
    call; rejections that overlap a labelled call are named and not used (the labels win)."""
    names = set(labels["recording"])
    for row in review[(review["decision"] == "no") & review["recording"].isin(names)].itertuples():
        if _overlaps(labels, row.recording, row.start, row.end):
            print(f"warning: the review rejects {row.recording} {row.start:g}-{row.end:g} s, inside a labelled call; "
                  "the labels win")
    new = [row for row in confirmed_calls(review).itertuples(index=False)
           if row.recording in names and not _overlaps(labels, row.recording, row.start, row.end)]
    return pd.concat([labels, pd.DataFrame(new, columns=labels.columns)], ignore_index=True) if new else labels


def clips_from_review(recordings: dict[str, Path], review: pd.DataFrame, clip_s: float, positive_step_s: float = 0.5,
                      negative_step_s: float = 1.0, margin_s: float = 0.5, background_step_s: float = 2.0,
                      max_background: int = 90, call_class: str = KAGGLE_CLASSES[1],
                      other_class: str = KAGGLE_CLASSES[0]) -> pd.DataFrame:
    """Clip table (file, start, label, group) from a review of recordings that no labels cover (see the
    module doc): call clips centred at least `margin_s` inside confirmed calls (as
    data_pipeline.labels.annotations cuts them), "no call" clips centred inside rejected stretches and at
    least `margin_s` from every confirmed call, and background clips, one every `background_step_s`, whose
    whole window stays clear of every listed item, in recordings with a decision; at most `max_background`
    of them per recording (3 minutes' worth), spread evenly, so that one long recording does not swamp
    the rest."""
    from data_pipeline.audio.decoding import audio_duration_s

    calls = confirmed_calls(review)
    rows = []
    for name, listed in review.groupby("recording", sort=True):
        if (listed["decision"] == UNDECIDED).all():
            continue  # never looked at
        path = recordings[name]
        first, last = clip_s / 2, audio_duration_s(path) - clip_s / 2
        known = calls[calls["recording"] == name][["start", "end"]].to_numpy(float)
        # a whole window clear of the items: its centre half a window outside each
        background = clear_of(np.arange(first, last + 1e-9, background_step_s), listed[["start", "end"]].to_numpy(float),
                              clip_s / 2)
        if len(background) > max_background:
            background = background[np.linspace(0, len(background) - 1, max_background).round().astype(int)]
        rows += [(str(path), round(float(c) - clip_s / 2, 4), other_class, path.stem) for c in background]
        for start, end, decision in listed[["start", "end", "decision"]].itertuples(index=False):
            if decision == "yes":
                centres = call_centres(start, end, first, last, margin_s, positive_step_s)
                label = call_class
            elif decision == "no":
                centres = np.union1d(np.arange(start, end + 1e-9, negative_step_s), [(start + end) / 2])
                centres = clear_of(centres[(centres >= first) & (centres <= last)], known, margin_s)
                label = other_class
            else:
                continue  # unsure or undecided: neither
            rows += [(str(path), round(float(c) - clip_s / 2, 4), label, path.stem) for c in centres]
    return pd.DataFrame(rows, columns=["file", "start", "label", "group"])


def _overlaps(calls: pd.DataFrame, recording: str, start: float, end: float) -> bool:
    own = calls[calls["recording"] == recording]
    return bool(((own["start"] < end) & (own["end"] > start)).any())
