"""Score detections against labelled calls, per recording and overall.

A detection matches a labelled call when their intervals overlap (one to one, largest overlap
first). `faint` calls are "don't care": detecting one is no false positive, missing one is no
false negative, and a count between sure and sure + faint is exact.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from model.detection.decisions import as_class_probabilities, predicted_class

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
    calls, sure = labelled_calls(labels)
    return evaluate_spans(events[["start", "end"]].to_numpy(float), calls, sure)


def labelled_calls(labels: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(calls as (n, 2) start, end; whether each is sure) of one recording's labels, faint ones kept."""
    labels = labels[labels["confidence"].isin(["sure", "faint"])]
    return labels[["start", "end"]].to_numpy(float), (labels["confidence"] == "sure").to_numpy()


def evaluate_spans(detections: np.ndarray, calls: np.ndarray, sure: np.ndarray) -> dict:
    """`evaluate_recording` on arrays: detections and calls (n, 2) start, end; `sure` per call."""
    pairs = _match(detections, calls)
    matched_d = {i for i, _ in pairs}
    matched_sure = {j for _, j in pairs if sure[j]}
    n_sure, n_faint, counted = int(sure.sum()), int((~sure).sum()), len(detections)
    count_error = 0 if n_sure <= counted <= n_sure + n_faint else (
        counted - n_sure - n_faint if counted > n_sure + n_faint else counted - n_sure)
    return {"sure": n_sure, "faint": n_faint, "counted": counted, "count_error": count_error,
            "tp": len(matched_sure), "fp": counted - len(matched_d), "fn": n_sure - len(matched_sure)}


def false_calls(events: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """The rows of `events` (recording, start, end, ...) that `evaluate` counts as false: matched to no labelled
    call, sure or faint, of their recording. So each can be found and heard (Audacity, Raven, the review page)."""
    false = []
    for rec, found in events.groupby("recording", sort=False):
        calls, _ = labelled_calls(labels[labels["recording"] == rec])
        matched = {i for i, _ in _match(found[["start", "end"]].to_numpy(float), calls)}
        false += [index for i, index in enumerate(found.index) if i not in matched]
    return events.loc[sorted(false)]


def mistake_times(events: pd.DataFrame, labels: pd.DataFrame) -> np.ndarray:
    """Where one recording's mistakes start, in order: its false calls and its missed sure calls, as `evaluate`
    counts them (so a plot of a long recording can show where they are)."""
    calls, sure = labelled_calls(labels)
    found = events[["start", "end"]].to_numpy(float)
    pairs = _match(found, calls)
    false = np.delete(found[:, 0], [i for i, _ in pairs])
    matched = {j for _, j in pairs}
    missed = [calls[j, 0] for j in range(len(calls)) if sure[j] and j not in matched]
    return np.sort(np.concatenate([false, missed]))


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


def clip_metrics(y_true: np.ndarray, prob: np.ndarray, classes: list[str] | None = None, threshold: float = 0.5) -> dict:
    """Accuracy, per-class precision/recall/F1, macro F1 and the confusion matrix (rows: true class,
    columns: predicted), for clips or files.

    prob: [n] probability of class 1 (binary; `threshold` decides) or [n, classes] (the most
        probable class wins). Binary results also carry precision, recall and F1 of class 1 (the
        call, the abnormal heart, the glass break) at the top level.
    """
    y_true = np.asarray(y_true).astype(int)
    probs = as_class_probabilities(prob)
    n_classes = probs.shape[1]
    classes = list(classes) if classes is not None else [str(i) for i in range(n_classes)]
    pred = predicted_class(probs, threshold)
    confusion = np.zeros((n_classes, n_classes), int)
    np.add.at(confusion, (y_true, pred), 1)
    per_class = {}
    for k, name in enumerate(classes):
        tp, predicted, actual = confusion[k, k], confusion[:, k].sum(), confusion[k].sum()
        precision = tp / predicted if predicted else 0.0
        recall = tp / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[name] = {"precision": float(precision), "recall": float(recall), "f1": float(f1), "support": int(actual)}
    present = [m["f1"] for m in per_class.values() if m["support"]]
    out = {"clips": int(len(y_true)), "accuracy": float(np.trace(confusion) / max(1, len(y_true))),
           "macro_f1": float(np.mean(present)) if present else 0.0, "per_class": per_class,
           "confusion": confusion.tolist()}
    if n_classes == 2:
        out.update({k: per_class[classes[1]][k] for k in ("precision", "recall", "f1")})
    return out
