"""Score detections against labelled calls, per recording and overall.

A detection matches a labelled call when their intervals overlap (one to one, largest overlap
first). `faint` calls are "don't care": detecting one is no false positive, missing one is no
false negative, and a count between sure and sure + faint is exact.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

PER_RECORDING_COLUMNS = ["recording", "sure", "faint", "counted", "count_error", "tp", "fp", "fn"]


def _match(detections: np.ndarray, calls: np.ndarray) -> list[tuple[int, int]]:
    """One-to-one (detection, call) pairs whose intervals overlap, largest overlap first."""
    pairs = []
    for i, (ds, de) in enumerate(detections):
        for j, (cs, ce) in enumerate(calls):
            overlap = min(de, ce) - max(ds, cs)
            if overlap > 0:
                pairs.append((overlap, i, j))
    used_d, used_c, out = set(), set(), []
    for _, i, j in sorted(pairs, reverse=True):
        if i not in used_d and j not in used_c:
            used_d.add(i)
            used_c.add(j)
            out.append((i, j))
    return out


def evaluate_recording(events: pd.DataFrame, labels: pd.DataFrame) -> dict:
    """tp/fp/fn and count error for one recording. labels: start, end, confidence ('sure'/'faint')."""
    labels = labels[labels["confidence"].isin(["sure", "faint"])]
    calls = labels[["start", "end"]].to_numpy(float)
    sure = (labels["confidence"] == "sure").to_numpy()
    detections = events[["start", "end"]].to_numpy(float)
    pairs = _match(detections, calls)
    matched_d = {i for i, _ in pairs}
    matched_sure = {j for _, j in pairs if sure[j]}
    n_sure, n_faint, counted = int(sure.sum()), int((~sure).sum()), len(detections)
    count_error = 0 if n_sure <= counted <= n_sure + n_faint else (
        counted - n_sure - n_faint if counted > n_sure + n_faint else counted - n_sure)
    return {"sure": n_sure, "faint": n_faint, "counted": counted, "count_error": count_error,
            "tp": len(matched_sure), "fp": counted - len(matched_d), "fn": n_sure - len(matched_sure)}


def evaluate(events: pd.DataFrame, labels: pd.DataFrame, recordings: list[str] | None = None) -> tuple[pd.DataFrame, dict]:
    """(per-recording table, overall summary) for every recording in `recordings` (default: all labelled)."""
    recordings = sorted(recordings if recordings is not None else labels["recording"].unique())
    rows = []
    for rec in recordings:
        row = evaluate_recording(events[events["recording"] == rec], labels[labels["recording"] == rec])
        rows.append({"recording": rec, **row})
    table = pd.DataFrame(rows, columns=PER_RECORDING_COLUMNS)
    return table, summarise(table)


def summarise(table: pd.DataFrame) -> dict:
    tp, fp, fn = (int(table[c].sum()) for c in ("tp", "fp", "fn"))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    errors = table["count_error"].abs()
    return {"recordings": int(len(table)), "sure_calls": int(table["sure"].sum()), "counted": int(table["counted"].sum()),
            "tp": tp, "fp": fp, "fn": fn, "precision": precision, "recall": recall, "f1": f1,
            "count_mae": float(errors.mean()) if len(table) else 0.0,
            "exact_count_fraction": float((errors == 0).mean()) if len(table) else 0.0}


def format_summary(summary: dict) -> str:
    s = summary
    return (f"{s['recordings']} recordings, {s['sure_calls']} sure calls, {s['counted']} counted: "
            f"event precision {s['precision']:.3f}, recall {s['recall']:.3f}, F1 {s['f1']:.3f}; "
            f"count MAE {s['count_mae']:.3f}, exact counts {s['exact_count_fraction']:.0%}")


def clip_metrics(y_true: np.ndarray, prob: np.ndarray, threshold: float = 0.5) -> dict:
    """Clip-level accuracy, precision, recall, F1 and confusion [[tn, fp], [fn, tp]] at `threshold`."""
    pred = prob >= threshold
    tp, fp = int(np.sum(pred & (y_true == 1))), int(np.sum(pred & (y_true == 0)))
    fn, tn = int(np.sum(~pred & (y_true == 1))), int(np.sum(~pred & (y_true == 0)))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"clips": int(len(y_true)), "accuracy": (tp + tn) / max(1, len(y_true)), "precision": precision,
            "recall": recall, "f1": f1, "confusion": [[tn, fp], [fn, tp]]}
