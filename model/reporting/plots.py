"""The pictures that go with every result table: training curves, confusion matrix, counts, and a
recording's spectrogram with its labelled and detected calls."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from model.outputs import atomic_save_figure


def new_figure(*args, **kwargs):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(*args, **kwargs)


def plot_history(history: pd.DataFrame, path: str | os.PathLike) -> None:
    """Loss and each metric per epoch, train and validation side by side."""
    metrics = [c for c in history.columns if c != "epoch" and not c.startswith("val_") and f"val_{c}" in history]
    fig, axes = new_figure(1, len(metrics), figsize=(4 * len(metrics), 3.2), squeeze=False)
    for ax, m in zip(axes[0], metrics):
        ax.plot(history.index + 1, history[m], label="train")
        ax.plot(history.index + 1, history[f"val_{m}"], label="validation")
        ax.set_title(m)
        ax.set_xlabel("epoch")
        ax.legend()
    atomic_save_figure(path, fig)


def plot_confusion(matrix: np.ndarray, classes: list[str], path: str | os.PathLike, title: str = "test clips") -> None:
    atomic_save_figure(path, confusion_figure(matrix, classes, title))


def confusion_figure(matrix: np.ndarray, classes: list[str], title: str):
    fig, ax = new_figure(figsize=(1.6 * len(classes) + 2, 1.4 * len(classes) + 1.5))
    ax.imshow(matrix, cmap="Blues")
    for (i, j), v in np.ndenumerate(matrix):
        ax.text(j, i, str(v), ha="center", va="center", color="black" if v < matrix.max() / 2 else "white")
    ax.set_xticks(range(len(classes)), classes, rotation=30, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"confusion matrix ({title})")
    return fig


def plot_learning_curve(curve: pd.DataFrame, path: str | os.PathLike) -> None:
    atomic_save_figure(path, learning_curve_figure(curve))


def learning_curve_figure(curve: pd.DataFrame):
    """Event F1 and count MAE against the number of labelled recordings trained on (columns
    recordings, f1, count_mae; one row per size), a line per number of self-training rounds where the
    column self_training_rounds is there."""
    fig, (f1_ax, mae_ax) = new_figure(1, 2, figsize=(9, 3.4))
    rounds = curve["self_training_rounds"] if "self_training_rounds" in curve else pd.Series(0, index=curve.index)
    for ax, column, title in ((f1_ax, "f1", "event F1"), (mae_ax, "count_mae", "count MAE")):
        for r, line in curve.groupby(rounds):
            ax.plot(line["recordings"], line[column], marker="o",
                    label=f"+ {r} round(s) of self-training" if r else "labelled recordings alone")
        if rounds.any():
            ax.legend(fontsize=8)
        ax.set_xscale("log")
        ax.minorticks_off()
        ax.set_xticks(curve["recordings"], [f"{n:.0f}" for n in curve["recordings"]])
        ax.set_xlabel("labelled recordings trained on")
        ax.set_title(f"{title} on unheard recordings")
    return fig


def plot_counts(counts: pd.DataFrame, path: str | os.PathLike, truth: pd.Series | None = None) -> None:
    atomic_save_figure(path, counts_figure(counts, truth))


MAX_NAMED_BARS = 60  # recordings in a counts chart that each get a named bar


def counts_figure(counts: pd.DataFrame, truth: pd.Series | None = None):
    """Calls per recording, labelled counts as dots when known: a named bar each for up to MAX_NAMED_BARS
    recordings. A bar each made a season's thousands an image no one can look at (3000 recordings: 58,000
    pixels wide, 16 s to draw): past MAX_NAMED_BARS the counts are one filled line in name order (recorders
    name files by date and time) with a dozen names along it, beside how many recordings hold each count."""
    n = len(counts)
    x = np.arange(n)
    if n <= MAX_NAMED_BARS:
        fig, ax = new_figure(figsize=(max(6, 0.25 * n + 2), 3.5))
        ax.bar(x, counts["call_count"], color="tab:green", label="counted")
        ax.set_xticks(x, counts["recording"], rotation=90, fontsize=7)
    else:
        fig, (ax, spread) = new_figure(1, 2, figsize=(14, 4), gridspec_kw={"width_ratios": [3, 1]})
        ax.stairs(counts["call_count"].to_numpy(), np.arange(n + 1) - 0.5, fill=True, color="tab:green",
                  label="counted")
        named = np.unique(np.linspace(0, n - 1, 12).round().astype(int))
        ax.set_xticks(named, counts["recording"].iloc[named], rotation=90, fontsize=7)
        ax.set_xlim(-0.5, n - 0.5)
        most = int(counts["call_count"].max())
        spread.hist(counts["call_count"], bins=np.arange(most + 2) - 0.5, color="tab:green")
        spread.set(xlabel="calls in a recording", ylabel="recordings", title=f"{n} recordings")
    if truth is not None:
        ax.plot(x, truth.reindex(counts["recording"]).to_numpy(), "k.", markersize=9 if n <= MAX_NAMED_BARS else 3,
                label="labelled")
        ax.legend()
    ax.set_ylabel("calls")
    ax.set_title("calls per recording")
    return fig


def plot_recording(spec: np.ndarray, frontend, path: str | os.PathLike, detections: pd.DataFrame,
                   labels: pd.DataFrame | None = None, scores=None, title: str = "", start_s: float = 0.0) -> None:
    """Spectrogram with labelled calls (above, black) and detections (below, green), and window scores.

    start_s: where in the recording `spec` starts; the times of the rest are the recording's, and the plot
    shows the spectrogram's stretch of them."""
    duration = spec.shape[0] * frontend.frame_step_s
    lo_hz, hi_hz = frontend.band_hz
    fig, (ax, ax2) = new_figure(2, 1, figsize=(max(10, duration / 6), 5), sharex=True,
                              gridspec_kw={"height_ratios": [4, 1]})
    ax.imshow(spec.T, origin="lower", aspect="auto", cmap="magma", extent=[start_s, start_s + duration, lo_hz, hi_hz],
              vmin=np.percentile(spec, 5), vmax=np.percentile(spec, 99.7))
    top = hi_hz
    if labels is not None:
        for row in labels.itertuples():
            style = "-" if getattr(row, "confidence", "sure") == "sure" else ":"
            ax.plot([row.start, row.end], [top * 0.97] * 2, "w" + style, linewidth=5)
    for row in detections.itertuples():
        ax.plot([row.start, row.end], [top * 0.90] * 2, color="lime", linewidth=5)
    ax.set_ylabel("Hz (mel-spaced)" if frontend.mel_bins else "Hz")
    ax.set_title(title + "  (white: labelled, green: detected)")
    if scores is not None:
        ax2.plot(scores.starts_s + frontend.clip_s / 2, scores.scores, color="tab:green")
    ax2.set_ylim(0, 1)
    ax2.set_xlim(start_s, start_s + duration)
    ax2.set_ylabel("score")
    ax2.set_xlabel("seconds")
    atomic_save_figure(path, fig)
