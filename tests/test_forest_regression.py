"""Real forest recordings: train on a few labelled recordings, count calls in held-out ones.

Guards the accuracy users judge the tool by. The floors sit below what this exact test measured
(see README, "Accuracy on real recordings"), so a real regression fails CI while run-to-run noise
does not. Skipped where ../shared/ is absent.
"""

import pytest
from conftest import SHARED

FOREST = SHARED / "forest"
TRAIN = ["04", "06", "21", "27", "35", "44", "45", "48", "54", "61", "84", "86", "93", "96"]
HELD_OUT = ["00", "01", "09", "11", "23", "39", "65"]

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not (FOREST / "calls.csv").exists(), reason="shared forest recordings not present")]


def test_held_out_forest_recordings_are_counted_right(tmp_path, recwarn):
    from data_pipeline.features.frontend import FrontendConfig
    from data_pipeline.labels.annotations import (
        clips_from_annotations,
        read_call_labels,
    )
    from data_pipeline.labels.class_folders import KAGGLE_CLASSES
    from model.detection.counting import count_calls
    from model.learning.counting_tuning import NotLearntWarning
    from model.learning.presets import get_preset, preset_augment
    from model.learning.training import TrainConfig, network_settings, train
    from model.reporting.evaluation import evaluate, format_summary

    labels = read_call_labels(FOREST / "calls.csv")
    path = lambda n: FOREST / f"recording_{n}.mp3"  # noqa: E731
    train_labels = labels[labels["recording"].isin([path(n).name for n in TRAIN])]
    clips = clips_from_annotations([path(n) for n in TRAIN], train_labels, FrontendConfig().clip_s, negative_step_s=1.5,
                                   call_class=KAGGLE_CLASSES[1], other_class=KAGGLE_CLASSES[0])
    preset = get_preset("capuchinbird")  # its network and augmentation, as train.py builds them with no flag
    network = network_settings(None, preset.frontend, preset.network, shared_by_default=preset.shared_trunk)
    detector = train(clips, list(KAGGLE_CLASSES), tmp_path / "run",
                     TrainConfig(epochs=12, patience=4, split_fractions=(0.8, 0.2, 0.0), verbose=0, network=network,
                                 augment=preset_augment(preset, preset.frontend)),
                     labels=labels)
    assert not [str(w.message) for w in recwarn if issubclass(w.category, NotLearntWarning)]  # it learnt the call
    result = count_calls(detector, [path(n) for n in HELD_OUT], progress=False)
    per_rec, summary = evaluate(result.events, labels, [path(n).name for n in HELD_OUT])
    print(per_rec.to_string(index=False))
    print(format_summary(summary))
    assert summary["sure_calls"] == 20
    # Measured 2026-11-22 (seed 0, 0-2.5 kHz front end): F1 0.976, count MAE 0.143 (one false positive);
    # with 0-4 kHz: F1 0.952, MAE 0.286 (two, on recording_01, a harmonic stack the labellers did not
    # count). Trained on 14 recordings only. Floors leave room for two or three more mistakes.
    # 2026-12-02, with the split dealing recordings by their calls (clips.group_split): F1 1.000, MAE 0.000.
    # 2026-12-04, the shared-convolution network (the preset's since): F1 1.000, MAE 0.000, as the window one.
    # 2026-12-04, at most 12 epochs before mining instead of 20 (27 epochs in all instead of 35; with the faster
    # counting tuning the test took 140 s beside other work, 204 s in the suite before): F1 1.000, MAE 0.000.
    assert summary["f1"] >= 0.90, per_rec.to_string()
    assert summary["count_mae"] <= 0.5, per_rec.to_string()
