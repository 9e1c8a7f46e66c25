"""Hard-negative mining: find the generated non-call sounds a trained network still calls, and teach it those.

A fixed bank of a few clips per kind (data_pipeline.synthetic.negatives) shows the network each kind
once or twice; an engine or a siren with other settings can still score 0.99. Scoring a much larger
pool of the same kinds, from a seed the bank does not use, and training on just the clips the network
gets wrong spends the extra training on what it has not learnt, without swamping the call class with
thousands of easy negatives. `model.learning.training` runs it after the first fit of two-class runs
with the bank on (`TrainConfig.hard_negative_pool_per_kind`; 0 turns it off).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from data_pipeline.features.frontend import FrontendConfig, clip_features
from data_pipeline.synthetic.negatives import negative_clips
from data_pipeline.training_data.datasets import feature_dataset
from model.detection.decisions import as_class_probabilities

MINED_COLUMNS = ["file", "kind", "mixed", "score"]


def mine_hard_negatives(
    net,
    frontend: FrontendConfig,
    out_dir: str | os.PathLike,
    seed: int,
    per_kind: int,
    backgrounds: list[np.ndarray],
    threshold: float = 0.5,
    batch_size: int = 64,
) -> tuple[np.ndarray, pd.DataFrame]:
    """(features of the mined clips, one row per mined clip) from a pool of `per_kind` clips per kind
    alone and as many mixed into `backgrounds`: the clips whose call probability is >= `threshold`.

    The mined clips are written as 16-bit FLAC under `out_dir` (to be heard) and listed with their
    kind and score, highest first; nothing is written when nothing is mined.
    """
    import soundfile as sf

    kinds, mixed, waves = zip(*negative_clips(frontend.sample_rate_hz, frontend.clip_s, seed=seed,
                                             per_kind=per_kind, backgrounds=backgrounds))
    features = np.concatenate([np.asarray(clip_features(np.stack(waves[i : i + 256]), frontend))
                               for i in range(0, len(waves), 256)])
    probs = as_class_probabilities(net.predict(feature_dataset(features, None, frontend, batch_size), verbose=0))
    scores = probs[:, 1]
    order = [i for i in np.argsort(-scores, kind="stable") if scores[i] >= threshold]
    rows = []
    for rank, i in enumerate(order):
        path = Path(out_dir) / f"{rank:04d}-{kinds[i]}-{'mixed' if mixed[i] else 'alone'}.flac"
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, waves[i], frontend.sample_rate_hz, subtype="PCM_16")
        rows.append((str(path), kinds[i], mixed[i], round(float(scores[i]), 4)))
    return features[order], pd.DataFrame(rows, columns=MINED_COLUMNS)
