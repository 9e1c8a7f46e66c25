"""k-fold cross-validation: every file is held out once and judged by a model that never heard it.

Folds are the dataset's own when it gives them (a `fold` column, as ESC-50 has), otherwise groups
are dealt into k folds with the classes balanced (scikit-learn's StratifiedGroupKFold), so the
windows of one recording, or the clips of one source, never sit on both sides. Each fold trains on
the other folds (15% of their groups set aside for early stopping) and is scored per file, its
windows pooled as the detector will pool them in predict.py.

    OUT/fold<k>/               each fold's complete training run (see model.learning.training)
    OUT/crossval_folds.csv     per fold: files, accuracy, macro F1, precision/recall/F1 per class
    OUT/crossval.md            the same as mean ± standard deviation, and the summed confusion matrix
    OUT/crossval.json          both, for scripts
    OUT/confusion_matrix.png   summed over the folds: every file counted once
    OUT/predictions.csv        one out-of-fold row per file: true and predicted class, probabilities
    OUT/top_losses.png         the worst out-of-fold mistakes
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from data_pipeline.features.frontend import FrontendConfig
from data_pipeline.training_data.clips import group_split, load_clips
from model.detection.decisions import pool_by_file, predicted_class
from model.detection.events import CountingConfig
from model.learning.training import TrainConfig, default_frontend, train
from model.outputs import atomic_write_csv, atomic_write_text
from model.reporting.diagnostics import plot_top_losses
from model.reporting.evaluation import clip_metrics
from model.reporting.plots import plot_confusion


def assign_folds(table: pd.DataFrame, k: int = 5, seed: int = 0) -> pd.Series:
    """Fold number (1..k) per row: the table's own `fold` column if every row has one, else
    stratified by label with every group inside one fold."""
    if "fold" in table and table["fold"].notna().all():
        return table["fold"].astype(int).rename("fold")
    from sklearn.model_selection import StratifiedGroupKFold

    n_groups = table["group"].nunique()
    if n_groups < k:
        raise ValueError(f"{k}-fold cross-validation needs at least {k} groups (source recordings); found {n_groups}")
    folds = np.zeros(len(table), int)
    splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    for fold, (_, held_out) in enumerate(splitter.split(table, table["label"], table["group"]), start=1):
        folds[held_out] = fold
    return pd.Series(folds, index=table.index, name="fold")


def cross_validate(
    clips: pd.DataFrame,
    classes: list[str],
    out_dir: str | os.PathLike,
    k: int = 5,
    config: TrainConfig = TrainConfig(),
    frontend: FrontendConfig | None = None,
    counting: CountingConfig | None = None,
    pooling: str = "max",
) -> dict:
    """Train and test one model per fold (see module doc); returns the summary written to crossval.json."""
    out_dir = Path(out_dir)
    frontend = frontend or default_frontend(config.arch)
    table = clips.reset_index(drop=True).copy()
    table["fold"] = assign_folds(table, k, config.seed)
    folds = sorted(table["fold"].unique())
    print(f"{len(folds)}-fold cross-validation over {table['file'].nunique()} files "
          f"({'folds given by the dataset' if 'fold' in clips and clips['fold'].notna().all() else 'stratified by class, grouped by source'})")

    fold_rows, file_predictions, window_predictions = [], [], []
    for fold in folds:
        print(f"--- fold {fold} of {len(folds)}: held out {int((table['fold'] == fold).sum())} clips")
        rest = table[table["fold"] != fold]
        split = pd.Series("test", index=table.index)
        split[rest.index] = group_split(rest, (0.85, 0.15, 0.0), config.seed + int(fold))
        run_dir = out_dir / f"fold{fold}"
        train(table.assign(split=split), classes, run_dir, replace(config, seed=config.seed + int(fold)),
              frontend=frontend, counting=counting, pooling=pooling)
        windows = pd.read_csv(run_dir / "predictions.csv").assign(fold=fold)
        files = _pool_files(windows, classes, pooling)
        fold_rows.append(_flat(fold, _file_metrics(files, classes)))
        file_predictions.append(files)
        window_predictions.append(windows)

    files = pd.concat(file_predictions, ignore_index=True)
    overall = _file_metrics(files, classes)
    per_fold = pd.DataFrame(fold_rows)
    summary = {"folds": len(folds), "files": int(len(files)), "pooling": pooling,
               "mean": per_fold.drop(columns="fold").mean().to_dict(), "std": per_fold.drop(columns="fold").std(ddof=1).to_dict(),
               "pooled_over_folds": overall}
    atomic_write_csv(out_dir / "crossval_folds.csv", per_fold.round(4))
    atomic_write_csv(out_dir / "predictions.csv", files)
    atomic_write_text(out_dir / "crossval.json", json.dumps(summary, indent=2) + "\n")
    atomic_write_text(out_dir / "crossval.md", format_crossval(per_fold, overall, classes))
    plot_confusion(np.array(overall["confusion"]), classes, out_dir / "confusion_matrix.png",
                   f"{len(folds)}-fold cross-validation, {len(files)} files")
    _plot_worst(pd.concat(window_predictions, ignore_index=True), frontend, config, out_dir / "top_losses.png")
    print(format_crossval(per_fold, overall, classes))
    print(f"cross-validation report: {out_dir}/crossval.md")
    return summary


def _pool_files(windows: pd.DataFrame, classes: list[str], pooling: str) -> pd.DataFrame:
    """One row per file from the window rows of a fold's predictions.csv."""
    columns = [f"p_{c}" for c in classes]
    names, pooled = pool_by_file(windows["file"].to_numpy(), windows[columns].to_numpy(), pooling)
    labels = windows.groupby("file", sort=False)["label"].first().reindex(names)
    table = pd.DataFrame({"file": names, "fold": windows["fold"].iloc[0], "label": labels.to_numpy(),
                          "predicted": np.asarray(classes)[predicted_class(pooled)]})
    return pd.concat([table, pd.DataFrame(pooled.round(5), columns=columns)], axis=1)


def _file_metrics(files: pd.DataFrame, classes: list[str]) -> dict:
    probs = files[[f"p_{c}" for c in classes]].to_numpy()
    return clip_metrics(files["label"].map(classes.index).to_numpy(), probs, classes)


def _flat(fold, metrics: dict) -> dict:
    row = {"fold": fold, "files": metrics["clips"], "accuracy": metrics["accuracy"], "macro_f1": metrics["macro_f1"]}
    for name, m in metrics["per_class"].items():
        row.update({f"{key}_{name}": m[key] for key in ("precision", "recall", "f1")})
    return row


def format_crossval(per_fold: pd.DataFrame, overall: dict, classes: list[str]) -> str:
    """Markdown: per-class precision/recall/F1 as mean ± std over folds, then the summed confusion matrix."""
    mean, std = per_fold.mean(numeric_only=True), per_fold.std(ddof=1, numeric_only=True).fillna(0.0)

    def cell(key):
        return f"{mean[key]:.3f} ± {std[key]:.3f}"

    lines = [f"{len(per_fold)} folds, {int(per_fold['files'].sum())} files; mean ± standard deviation over folds",
             "", "| class | precision | recall | F1 |", "|---|---|---|---|"]
    lines += [f"| {c} | {cell(f'precision_{c}')} | {cell(f'recall_{c}')} | {cell(f'f1_{c}')} |" for c in classes]
    lines += ["", f"Accuracy {cell('accuracy')}, macro F1 {cell('macro_f1')}.", "",
              "Confusion matrix, all folds (rows: true class, columns: predicted)", "",
              "| | " + " | ".join(classes) + " |", "|---" * (len(classes) + 1) + "|"]
    lines += [f"| {c} | " + " | ".join(str(v) for v in row) + " |" for c, row in zip(classes, overall["confusion"])]
    return "\n".join(lines) + "\n"


def _plot_worst(windows: pd.DataFrame, frontend: FrontendConfig, config: TrainConfig, path: Path, k: int = 12) -> None:
    """Top-losses gallery over every fold's held-out windows (only the worst ones are decoded again)."""
    worst = windows.sort_values("loss", ascending=False, kind="stable").head(k).reset_index(drop=True)
    features, _, _ = load_clips(worst, frontend, features=True, backend=config.decoder, progress=False)
    plot_top_losses(worst, features, frontend, path, k=k, title="worst out-of-fold clips")
