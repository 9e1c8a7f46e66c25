"""Could a call be told from a look-alike by how far it lies from the calls a model was trained on?

    .venv/bin/python benchmarks/call_distance.py RUN_DIR [--fold F ...] [--shared ../shared]

An open-set test, no training: RUN_DIR is a folder of fold models written by `robustness.py`
(runs/robustness/<setting>, with its data/ two levels up). For each fold model, every window of the
recordings it trained on whose centre lies inside a sure call (0.5 s from either end) gives the
network's embedding (the 64 features its head reads, `pool_centre`); a Gaussian (Ledoit-Wolf
covariance) and the five nearest neighbours (cosine) are fitted to them. Then the same two distances
are measured for the windows the model scores >= 0.5 inside sure calls of its own unheard recordings
(clean, cheap recorder, noisier, sounds over calls) and on the no-call streams it called (generated
frogs, the kind no bank holds, and insects). A gate on distance would remove false calls only if
the look-alikes lay beyond the unheard calls. Prints percentiles per group and fold.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

UNHEARD = ("clean", "cheap_recorder", "noisier", "over_calls")
LOOK_ALIKES = ("frogs", "insects")


def main() -> None:
    import keras
    import numpy as np
    from forest_holdout import background_folds
    from sklearn.covariance import LedoitWolf
    from sklearn.neighbors import NearestNeighbors

    from data_pipeline.audio.decoding import list_audio_files, stream_audio
    from data_pipeline.features.windows import iter_windows
    from data_pipeline.labels.annotations import read_call_labels
    from model.detection.detector import Detector

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run", type=Path)
    p.add_argument("--fold", type=int, action="append", dest="folds", help="fold model(s) to measure (default: all)")
    p.add_argument("--folds", type=int, default=5, dest="n_folds", help="folds the run was dealt into (default: 5)")
    p.add_argument("--seed", type=int, default=0, help="the run's seed, which dealt the folds (default: 0)")
    p.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    args = p.parse_args()
    data = args.run.parent / "data"
    labels = read_call_labels(args.shared / "forest" / "calls.csv")
    labels = labels[labels["confidence"] == "sure"]
    recordings = list_audio_files(args.shared / "forest")
    fold_of = background_folds(recordings, args.n_folds, args.seed)

    def condition_path(recording: Path, condition: str) -> Path:
        if condition == "clean":
            return recording
        return data / "conditions" / condition / (recording.stem + (".mp3" if condition == "cheap_recorder" else ".flac"))

    for fold in args.folds or sorted(set(fold_of)):
        detector = Detector.load(args.run / f"fold{fold}")
        embedding = keras.Model(detector.model.input, detector.model.get_layer("pool_centre").output)

        def windows(path, name=None):
            """(embeddings, scores, inside a sure call) of every window of `path`."""
            feats, scores, centres = [], [], []
            for batch in iter_windows(stream_audio(path, detector.frontend.sample_rate_hz), detector.frontend, 0.25):
                feats.append(np.asarray(embedding.predict_on_batch(batch.spectrograms)))
                scores.append(detector.window_probabilities(batch)[:, detector.positive_class])
                centres.append(batch.starts_s + detector.frontend.clip_s / 2)
            centres = np.concatenate(centres)
            inside = np.zeros(len(centres), bool)
            for row in labels[labels["recording"] == name].itertuples():
                inside |= (centres >= row.start + 0.5) & (centres <= row.end - 0.5)
            return np.concatenate(feats), np.concatenate(scores), inside

        trained = []
        for recording, f in zip(recordings, fold_of):
            if f != fold:
                feats, _, inside = windows(recording, recording.name)
                trained.append(feats[inside])
        calls = np.concatenate(trained)
        gauss = LedoitWolf().fit(calls)
        unit = lambda x: x / (np.linalg.norm(x, axis=1, keepdims=True) + 1e-9)  # noqa: E731
        neighbours = NearestNeighbors(n_neighbors=5).fit(unit(calls))

        def distances(feats):
            if not len(feats):
                return np.zeros(0), np.zeros(0)
            return np.sqrt(gauss.mahalanobis(feats)), neighbours.kneighbors(unit(feats))[0].mean(axis=1)

        groups = {"trained calls": distances(calls)}
        for condition in UNHEARD:
            found = []
            for recording, f in zip(recordings, fold_of):
                if f == fold:
                    feats, scores, inside = windows(condition_path(recording, condition), recording.name)
                    found.append(feats[inside & (scores >= 0.5)])
            groups[f"unheard calls, {condition}"] = distances(np.concatenate(found))
        for kind in LOOK_ALIKES:
            feats, scores, _ = windows(data / "no_call" / f"generated_{kind}.flac")
            groups[f"{kind} scored >= 0.5"] = distances(feats[scores >= 0.5])
        print(f"fold {fold}: windows, Mahalanobis min / 50 / 90 / 99% / max; 5-neighbour cosine the same")
        for name, (maha, knn) in groups.items():
            pct = lambda d: " / ".join(f"{v:.2f}" for v in np.percentile(d, [0, 50, 90, 99, 100])) if len(d) else "-"  # noqa: E731
            print(f"  {name:32s} {len(maha):5d}  {pct(maha):34s}  {pct(knn)}")
        frogs = groups["frogs scored >= 0.5"][0]
        unheard = np.concatenate([groups[f"unheard calls, {c}"][0] for c in UNHEARD])
        if len(frogs) and len(unheard):
            print(f"  frog windows beyond the 99th percentile of unheard calls' Mahalanobis distance: "
                  f"{(frogs > np.percentile(unheard, 99)).mean():.0%}", flush=True)


if __name__ == "__main__":
    from model import cli

    cli.run(main)
