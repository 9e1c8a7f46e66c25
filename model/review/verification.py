"""Numbers a reviewer can stand behind: verified counts, and how often the model is right.

Precision at a threshold is the share of reviewed items scoring at or above it that the reviewer
confirmed ("unsure" is left out), with a 95% Wilson interval (sound for small samples and for
shares near 0 or 1). It estimates the model's precision only when the reviewed items are a fair
sample of those items: review in `random` order (model.review.queue) for that. The relation between
score and correctness is a logistic fit of "confirmed" on the score's logit, as BirdNET's review tab
draws it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

Z95 = 1.959964


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """95% Wilson score interval of a proportion; (nan, nan) for n = 0."""
    if n == 0:
        return float("nan"), float("nan")
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def verified_counts(items: pd.DataFrame) -> pd.DataFrame:
    """Per recording: detections, how many were reviewed, confirmed, rejected, unsure; calls found among
    the other items (near misses, random stretches, marked by hand); and the verified count (every
    confirmed call)."""
    decided = items.assign(detection=items["kind"] == "detection", yes=items["decision"] == "yes")
    rows = []
    for name, group in decided.groupby("recording", sort=True):
        det = group[group["detection"]]
        rows.append({"recording": name, "detections": len(det), "reviewed": int(det["decision"].notna().sum()),
                     "confirmed": int(det["yes"].sum()), "rejected": int((det["decision"] == "no").sum()),
                     "unsure": int((det["decision"] == "unsure").sum()),
                     "found_missed": int(group[~group["detection"]]["yes"].sum()), "verified_calls": int(group["yes"].sum())})
    columns = ["recording", "detections", "reviewed", "confirmed", "rejected", "unsure", "found_missed", "verified_calls"]
    return pd.DataFrame(rows, columns=columns)


def precision_by_threshold(items: pd.DataFrame, thresholds) -> pd.DataFrame:
    """For each threshold: reviewed items scoring at or above it (yes or no), confirmed, precision, 95% interval."""
    judged = items[items["decision"].isin(["yes", "no"]) & items["score"].notna()]
    rows = []
    for t in thresholds:
        above = judged[judged["score"] >= t]
        n, k = len(above), int((above["decision"] == "yes").sum())
        low, high = wilson_interval(k, n)
        rows.append({"threshold": float(t), "reviewed": n, "confirmed": k,
                     "precision": k / n if n else float("nan"), "low": low, "high": high})
    return pd.DataFrame(rows)


def correctness_curve(items: pd.DataFrame, iterations: int = 50) -> tuple[float, float] | None:
    """(a, b) of P(confirmed | score) = 1 / (1 + exp(-(a + b * logit(score)))), fitted by Newton's method
    (with a small ridge, so all-yes or all-no samples stay finite); None with fewer than 2 judged items."""
    judged = items[items["decision"].isin(["yes", "no"]) & items["score"].notna()]
    if len(judged) < 2:
        return None
    s = np.clip(judged["score"].to_numpy(float), 1e-6, 1 - 1e-6)
    x = np.stack([np.ones_like(s), np.log(s / (1 - s))], axis=1)
    y = (judged["decision"] == "yes").to_numpy(float)
    w = np.zeros(2)
    ridge = 1e-2 * np.eye(2)
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-x @ w))
        gradient = x.T @ (y - p) - ridge @ w
        hessian = x.T @ (x * (p * (1 - p))[:, None]) + ridge
        step = np.linalg.solve(hessian, gradient)
        w += step
        if np.abs(step).max() < 1e-8:
            break
    return float(w[0]), float(w[1])


def precision_figure(items: pd.DataFrame, threshold: float):
    """Reviewed items' scores against the decision, the fitted correctness curve, and precision (with its
    interval) at every threshold; the counting threshold marked."""
    from model.reporting.plots import new_figure

    fig, ax = new_figure(figsize=(7, 4))
    judged = items[items["decision"].isin(["yes", "no"]) & items["score"].notna()]
    grid = np.round(np.linspace(0.05, 0.95, 19), 2)
    table = precision_by_threshold(items, grid)
    ax.fill_between(table["threshold"], table["low"], table["high"], alpha=0.2, label="precision, 95% interval")
    ax.plot(table["threshold"], table["precision"], "-", label="precision at or above the score")
    fit = correctness_curve(items)
    if fit is not None:
        s = np.linspace(0.01, 0.99, 99)
        ax.plot(s, 1 / (1 + np.exp(-(fit[0] + fit[1] * np.log(s / (1 - s))))), "--", label="P(call | score), fitted")
    jitter = np.random.default_rng(0).uniform(-0.03, 0.03, len(judged))
    ax.plot(judged["score"], (judged["decision"] == "yes").astype(float) + jitter, "k.", alpha=0.4, label="reviewed items")
    ax.axvline(threshold, color="grey", lw=1, label=f"counting threshold {threshold:g}")
    ax.set(xlabel="score", ylabel="share confirmed", xlim=(0, 1), ylim=(-0.08, 1.08),
           title=f"{len(judged)} reviewed items (yes or no)")
    ax.legend(fontsize=7, loc="lower right")
    return fig
