"""Looking inside a trained classifier: per-clip predictions, its worst mistakes, its feature space.

    predictions.csv   file, start, label, predicted, p_<class>..., loss: one row per held-out clip
    top_losses.png    the clips with the highest loss, as spectrograms titled with file, time,
                      true and predicted class: where to look for label errors and blind spots
    embedding.png     t-SNE map of the features the head sees, coloured by true class: classes
                      that overlap there are the ones the network confuses
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from model.detection.decisions import predicted_class
from model.outputs import atomic_save_figure
from model.reporting.plots import new_figure


def prediction_table(rows: pd.DataFrame, probs: np.ndarray, classes: list[str]) -> pd.DataFrame:
    """rows: the clip table rows (file, start, label) in the order of `probs` [n, classes]."""
    index = {c: i for i, c in enumerate(classes)}
    truth = rows["label"].map(index).to_numpy()
    picked = probs[np.arange(len(probs)), truth]
    table = pd.DataFrame({"file": rows["file"].to_numpy(), "start": rows["start"].to_numpy(),
                          "label": rows["label"].to_numpy(),
                          "predicted": np.asarray(classes)[predicted_class(probs)]})
    for k, c in enumerate(classes):
        table[f"p_{c}"] = probs[:, k].round(5)
    table["loss"] = (-np.log(np.clip(picked, 1e-7, 1.0))).round(5)  # cross-entropy of the true class
    return table


def plot_top_losses(predictions: pd.DataFrame, features: np.ndarray, frontend, path: str | os.PathLike,
                    k: int = 12, title: str = "worst clips") -> None:
    """Spectrograms of the `k` clips with the highest loss (features in the order of `predictions`)."""
    worst = np.argsort(-predictions["loss"].to_numpy(), kind="stable")[:k]
    cols = min(4, max(1, len(worst)))
    rows = max(1, -(-len(worst) // cols))
    fig, axes = new_figure(rows, cols, figsize=(3.6 * cols, 2.9 * rows), squeeze=False)
    lo_hz, hi_hz = frontend.band_hz
    for ax in axes.flat:
        ax.axis("off")
    for ax, i in zip(axes.flat, worst):
        row = predictions.iloc[i]
        spec = features[i]
        ax.axis("on")
        ax.imshow(spec.T, origin="lower", aspect="auto", cmap="magma", extent=[0, frontend.clip_s, lo_hz, hi_hz],
                  vmin=np.percentile(spec, 5), vmax=np.percentile(spec, 99.7))
        ax.set_title(f"{Path(row['file']).name} @{row['start']:g}s\ntrue {row['label']}, "
                     f"predicted {row['predicted']} (loss {row['loss']:.2f})", fontsize=8)
        ax.tick_params(labelsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    atomic_save_figure(path, fig)


def embedding_features(net, features: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """What the classification head sees for each clip: the input of the network's last layer."""
    import keras

    layers = net.layers[:-1] if net.layers[-1].name == "silence_gate" else net.layers  # the gate is no head
    head = layers[-1]
    extractor = keras.Model(net.inputs, head.input)
    return np.asarray(extractor.predict(features, batch_size=batch_size, verbose=0)).reshape(len(features), -1)


def embedding_sample(n: int, max_points: int = 1000, seed: int = 0) -> np.ndarray:
    """Which of n clips the embedding picture shows (sorted indices, seeded): taken before the network runs, so
    a test split of 3,000 clips costs 1,000 clips' features, and the same again inside `plot_embedding`."""
    return np.sort(np.random.default_rng(seed).permutation(n)[:max_points])


def plot_embedding(embeddings: np.ndarray, y: np.ndarray, classes: list[str], path: str | os.PathLike,
                   title: str = "t-SNE of the network's features", seed: int = 0, max_points: int = 1000) -> None:
    """2-D t-SNE (scikit-learn) of `embeddings`, one colour per true class; seeded, so it repeats.

    At most `max_points` clips, on one thread: a picture, not a result, so it should cost seconds. Its
    OpenMP threads spin while they wait, so beside other work (a fold's training beside the test suite's
    other worker) 2000 points took 23.1 s against 4.8 s for 1000 on one thread; alone, 7.0 s and 4.8 s
    (2 cores, `benchmarks/embedding_plot.py [--busy]`).
    """
    from sklearn.manifold import TSNE
    from threadpoolctl import threadpool_limits

    keep = embedding_sample(len(embeddings), max_points, seed)
    x, y = embeddings[keep], y[keep]
    fig, ax = new_figure(figsize=(6, 5))
    if len(x) >= 5:
        with threadpool_limits(1):
            xy = TSNE(n_components=2, perplexity=min(30.0, (len(x) - 1) / 3), init="pca",
                      random_state=seed).fit_transform(x)
        for k, name in enumerate(classes):
            ax.scatter(*xy[y == k].T, s=9, alpha=0.7, label=f"{name} ({int((y == k).sum())})")
        ax.legend(fontsize=8, markerscale=2)
    ax.set_title(title, fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
    atomic_save_figure(path, fig)
