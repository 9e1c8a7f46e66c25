"""The benchmarks (robustness, learning curve, review loop) reuse a fold's trained model on a rerun: only when
everything it was trained with matches, or their figures would silently be another setting's."""

import json
import shutil
import sys
from dataclasses import asdict
from pathlib import Path

import pandas as pd
from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))


def test_a_fold_model_is_reused_only_for_the_same_recordings_and_training_settings(tmp_path, untrained_model):
    from forest_holdout import reusable_detector

    from data_pipeline.features.augment import AugmentConfig
    from model.learning.training import TrainConfig

    folder = tmp_path / "fold0"
    shutil.copytree(untrained_model, folder)
    chosen = [Path("forest/recording_04.mp3"), Path("forest/recording_06.mp3")]
    pd.DataFrame({"file": [str(p) for p in chosen] + ["generated/tone_0.wav"]}).to_csv(folder / "split.csv", index=False)
    trained_with = TrainConfig(seed=3, negative_bank_per_kind=0, verbose=1)
    (folder / "test_metrics.json").write_text(json.dumps({"train_config": asdict(trained_with)}))

    assert reusable_detector(chosen, folder, None, TrainConfig(seed=3, negative_bank_per_kind=0, verbose=0)) is not None
    assert reusable_detector(chosen, folder) is not None  # nothing to compare: the recordings decide
    for other in (TrainConfig(seed=4, negative_bank_per_kind=0), TrainConfig(seed=3, negative_bank_per_kind=0,
                                                                            augment=AugmentConfig()),
                  TrainConfig(seed=3, negative_bank_per_kind=0, epochs=trained_with.epochs + 1)):
        assert reusable_detector(chosen, folder, None, other) is None, other
    assert reusable_detector(chosen[:1], folder, None, TrainConfig(seed=3, negative_bank_per_kind=0)) is None
