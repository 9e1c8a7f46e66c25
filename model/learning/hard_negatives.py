"""Hard-negative mining: find the generated non-call sounds a trained network still calls, and teach it those.

A fixed bank of a few clips per kind (data_pipeline.synthetic.negatives) shows the network each kind
once or twice; an engine or a siren with other settings can still score 0.99. Scoring a much larger
pool of the same kinds, from a seed the bank does not use, and training on just the clips the network
gets wrong spends the extra training on what it has not learnt, without swamping the call class with
thousands of easy negatives. `model.learning.training` runs it after the first fit of two-class runs
with the bank on (`TrainConfig.hard_negative_pool_per_kind`; 0 turns it off).
"""

from __future__ import annotations

import itertools
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
    threshold: float,
    batch_size: int = 64,
    chunk: int = 256,
) -> tuple[np.ndarray, pd.DataFrame, int]:
    """(features of the mined clips, one row per mined clip, clips scored) from a pool of `per_kind`
    clips per kind alone and as many mixed into `backgrounds`: the clips whose call probability is
    >= `threshold`.

    The pool is made and scored `chunk` clips at a time, and only the mined clips' samples are kept.
    The mined clips are written as 16-bit FLAC under `out_dir` (to be heard) and listed with their
    kind and score, highest first; nothing is written when nothing is mined.
    """
    import soundfile as sf

    clips = negative_clips(frontend.sample_rate_hz, frontend.clip_s, seed=seed, per_kind=per_kind, backgrounds=backgrounds)
    mined, scored = [], 0  # (score, pool index, kind, mixed, samples, features) of every clip called a call
    while part := list(itertools.islice(clips, chunk)):
        kinds, mixed, waves = zip(*part)
        features = np.asarray(clip_features(np.stack(waves), frontend))
        scores = as_class_probabilities(net.predict(feature_dataset(features, None, frontend, batch_size), verbose=0))[:, 1]
        mined += [(scores[i], scored + i, kinds[i], mixed[i], waves[i], features[i])
                  for i in np.flatnonzero(scores >= threshold)]
        scored += len(part)
    mined.sort(key=lambda m: (-m[0], m[1]))
    rows = []
    for rank, (score, _, kind, alone_or_mixed, wave, _) in enumerate(mined):
        path = Path(out_dir) / f"{rank:04d}-{kind}-{'mixed' if alone_or_mixed else 'alone'}.flac"
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, wave, frontend.sample_rate_hz, subtype="PCM_16")
        rows.append((str(path), kind, alone_or_mixed, round(float(score), 4)))
    features = np.stack([m[5] for m in mined]) if mined else np.zeros((0, *frontend.input_shape), np.float32)
    return features, pd.DataFrame(rows, columns=MINED_COLUMNS), scored
