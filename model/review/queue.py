"""What a reviewer is shown, and in which order.

Three kinds of item come from a count's outputs: the detections (the events table), near misses
(stretches whose window scores came close to the threshold but did not make a call: where missed
calls hide) and, on request, stretches drawn at random from the rest (to find calls the model did
not even nearly see). A fourth, `added`, is a call the reviewer marked by hand (model.review.store).

Orders: `score` (most confident first; review.py's default, since on the review-loop benchmark its
mostly-"yes" answers improved a retrained model most), `uncertainty` (closest to the threshold first:
what the model is least sure of) and `random` (a fixed shuffle: any prefix is a fair sample, which the
precision estimate of model.review.verification assumes).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from model.detection.counting import RecordingScores
from model.detection.events import CountingConfig, merge_windows

ORDERS = ("score", "uncertainty", "random")
ITEM_COLUMNS = ["recording", "start", "end", "score"]


def near_misses(scores: list[RecordingScores], window_s: float, counting: CountingConfig, detections: pd.DataFrame,
                near_score: float) -> pd.DataFrame:
    """Stretches whose window scores reach `near_score` (below the counting threshold) and that overlap no
    detection: runs merged as counting merges them, but kept however short (a call cut short is a miss too)
    or long (counting drops runs longer than max_call_s: one may be calls in a row), and pulsing or not (the
    pulse gate is left out: a call it dropped is one to hear)."""
    if not 0 < near_score < counting.threshold:
        raise ValueError(f"the near-miss score must lie between 0 and the counting threshold {counting.threshold} "
                         f"(got {near_score})")
    lower = counting.overridden(threshold=near_score, min_call_s=0.0, max_call_s=0.0)  # too long to count: one to hear
    found = []
    for rec in scores:
        runs = merge_windows(rec.starts_s, rec.scores, window_s, lower, rec.duration_s)
        calls = detections[detections["recording"] == rec.recording]
        overlaps = [((calls["start"] < end) & (calls["end"] > start)).any() for start, end in zip(runs["start"], runs["end"])]
        found.append(runs[~np.asarray(overlaps, bool)].assign(recording=rec.recording))
    table = pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=ITEM_COLUMNS)
    return table.reindex(columns=ITEM_COLUMNS)


def random_stretches(scores: list[RecordingScores], window_s: float, n: int, length_s: float, taken: pd.DataFrame,
                     seed: int) -> pd.DataFrame:
    """`n` stretches of `length_s` at random places (uniform over the audio's duration) that overlap no
    item in `taken`; each scored by the highest window score centred in it. Fewer when the audio is full."""
    rng = np.random.default_rng(seed)
    usable = [rec for rec in scores if rec.duration_s > length_s]
    weights = np.array([rec.duration_s - length_s for rec in usable])
    rows = []
    busy = {name: list(zip(group["start"], group["end"])) for name, group in taken.groupby("recording")}
    for _ in range(50 * n):
        if len(rows) == n or not usable:
            break
        rec = usable[rng.choice(len(usable), p=weights / weights.sum())]
        start = round(float(rng.uniform(0, rec.duration_s - length_s)), 2)
        end = start + length_s
        if any(s < end and e > start for s, e in busy.get(rec.recording, [])):
            continue
        busy.setdefault(rec.recording, []).append((start, end))
        centres = rec.starts_s + window_s / 2
        inside = rec.scores[(centres >= start) & (centres <= end)]
        rows.append((rec.recording, start, end, float(inside.max()) if len(inside) else np.nan))
    return pd.DataFrame(rows, columns=ITEM_COLUMNS)


def in_review_order(items: pd.DataFrame, order: str, threshold: float, seed: int = 0) -> pd.DataFrame:
    """`items` (with an `id` and a `score` column) sorted for review; added items (no score) last."""
    if order not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS}, got {order!r}")
    # A fixed shuffle, the same whatever else is in the review: a hash of the id and the seed.
    shuffle = (items["id"].astype("int64") * 2654435761 + seed * 40503) % 4294967291
    key = {"score": -items["score"], "uncertainty": (items["score"] - threshold).abs(), "random": shuffle}[order]
    key = key.astype(np.float64)  # the shuffle's integers (below 2**32) exactly, and room for the added items' inf
    return (items.assign(_key=key.where(items["score"].notna(), np.inf), _tie=shuffle)
            .sort_values(["_key", "_tie"], kind="stable").drop(columns=["_key", "_tie"]).reset_index(drop=True))
