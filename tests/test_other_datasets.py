"""Beyond the Capuchinbird: synthetic whale and 5-class stand-ins through the scripts, N-class
cross-validation, and transfer learning with an ImageNet backbone (weights=None: no download)."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT

from data_pipeline.synthetic.other_datasets import write_class_folders, write_whale_dataset

pytestmark = pytest.mark.slow  # trains networks: `make test-fast` skips it


def run_script(*args):
    done = subprocess.run([sys.executable, *map(str, args)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def test_whale_standin_trains_and_predicts_with_its_preset(tmp_path):
    truth = write_whale_dataset(tmp_path / "whale", n_clips=100, seed=2)
    run_script("train.py", "--data-dir", tmp_path / "whale", "--preset", "whale", "--run-dir", tmp_path / "run",
               "--epochs", "15")
    config = json.loads((tmp_path / "run" / "detector.json").read_text())
    assert config["classes"] == ["no_upcall", "upcall"]
    assert config["frontend"]["median_subtraction"] and (config["frontend"]["min_freq_hz"], config["frontend"]["max_freq_hz"]) == (50, 250)
    metrics = json.loads((tmp_path / "run" / "test_metrics.json").read_text())
    assert metrics["test"]["accuracy"] >= 0.9, metrics["test"]

    out = run_script("predict.py", tmp_path / "whale" / "train", "--model", tmp_path / "run").stdout
    predicted = pd.read_csv(pd.io.common.StringIO(out))
    said = predicted.assign(clip_name=predicted["file"].str.rsplit("/", n=1).str[-1]).set_index("clip_name")["label"]
    agree = (said.reindex(truth["clip_name"]).to_numpy() == np.where(truth["label"] == 1, "upcall", "no_upcall")).mean()
    assert agree >= 0.9  # most clips were training clips; the test split alone is checked above


@pytest.fixture(scope="module")
def five_class_cv(tmp_path_factory):
    root = tmp_path_factory.mktemp("five")
    classes = write_class_folders(root / "data", n_classes=5, clips_per_class=30, seed=3)
    run_script("train.py", "--data-dir", root / "data", "--preset", "glass_break", "--folds", "3", "--epochs", "20",
               "--run-dir", root / "cv")
    return root, sorted(classes)


def test_five_classes_cross_validated_every_file_once(five_class_cv):
    root, classes = five_class_cv
    cv = root / "cv"
    summary = json.loads((cv / "crossval.json").read_text())
    pooled = summary["pooled_over_folds"]
    assert summary["folds"] == 3 and summary["files"] == 150
    assert np.array(pooled["confusion"]).shape == (5, 5) and np.array(pooled["confusion"]).sum() == 150
    assert list(pooled["per_class"]) == classes and pooled["macro_f1"] >= 0.85, pooled
    files = pd.read_csv(cv / "predictions.csv")
    assert files["file"].is_unique and len(files) == 150 and set(files["fold"]) == {1, 2, 3}
    table = (cv / "crossval.md").read_text()
    assert all(f"| {c} | " in table for c in classes) and "±" in table
    for k in (1, 2, 3):
        fold = cv / f"fold{k}"
        for name in ("predictions.csv", "top_losses.png", "embedding.png", "confusion_matrix.png", "model.keras"):
            assert (fold / name).is_file(), (k, name)
        windows = pd.read_csv(fold / "predictions.csv")
        assert {f"p_{c}" for c in classes} <= set(windows.columns)
        np.testing.assert_allclose(windows[[f"p_{c}" for c in classes]].sum(axis=1), 1.0, atol=1e-3)
    assert (cv / "top_losses.png").is_file() and (cv / "confusion_matrix.png").is_file()


def test_five_class_model_predicts_class_probabilities(five_class_cv):
    root, classes = five_class_cv
    out = run_script("predict.py", root / "data" / "pulses", "--model", root / "cv" / "fold1").stdout
    table = pd.read_csv(pd.io.common.StringIO(out))
    assert list(table.columns) == ["file", "probability", "label"] + [f"p_{c}" for c in classes]
    assert (table["label"] == "pulses").mean() >= 0.9
    counted = subprocess.run([sys.executable, "count_calls.py", "--input", str(root / "data" / "pulses"),
                              "--model", str(root / "cv" / "fold1"), "--output", str(root / "s.csv")],
                             cwd=ROOT, capture_output=True, text=True)
    assert counted.returncode == 2 and "counting needs a call detector (2 classes)" in counted.stderr
    assert not (root / "s.csv").exists()


def test_pretrained_backbone_frozen_then_fine_tuned(tmp_path, monkeypatch):
    """One run of a frozen epoch then a fine-tuning one; the backbone is read as the frozen phase hands over
    (when training unfreezes it), so one EfficientNet training checks both phases (a second run, frozen only,
    cost 12 of this test's 50 s)."""
    import keras

    import model.learning.training as training
    from data_pipeline.features.frontend import FrontendConfig
    from data_pipeline.labels.class_folders import clips_from_folders
    from model.detection.detector import Detector
    from model.learning.networks import backbone_of, build_model, set_backbone_trainable
    from model.learning.training import TrainConfig, train

    write_class_folders(tmp_path / "data", n_classes=2, clips_per_class=12, seed=4)
    clips, classes = clips_from_folders(tmp_path / "data")
    fe = FrontendConfig(clip_s=1.0, frame_step=400, mel_bins=32, max_freq_hz=8000)
    # Stand-in for the ImageNet download: weights saved from the same backbone, loaded from a file.
    keras.utils.set_random_seed(1)
    saved = tmp_path / "backbone.weights.h5"
    backbone_of(build_model("efficientnetb0", fe.input_shape, 2, weights=None)).save_weights(saved)
    # No hard-negative mining: its second fit would add EfficientNet epochs this test is not about.
    base = dict(arch="efficientnetb0", network={"weights": str(saved)}, batch_size=8, verbose=0,
                hard_negative_pool_per_kind=0)

    def backbone_state(net):
        layers = backbone_of(net).layers
        convs = [w for layer in layers if isinstance(layer, keras.layers.Conv2D) for w in layer.get_weights()]
        norms = [w for layer in layers if isinstance(layer, keras.layers.BatchNormalization) for w in layer.get_weights()]
        return convs, norms

    def same(before, after):
        return all(np.array_equal(a, b) for a, b in zip(before, after, strict=True))

    handed_over = []  # the backbone when the frozen epochs end

    def record_at_unfreeze(net, trainable):
        if trainable:
            handed_over.append(backbone_state(net))
        set_backbone_trainable(net, trainable)

    monkeypatch.setattr(training, "set_backbone_trainable", record_at_unfreeze)
    initial = backbone_state(build_model("efficientnetb0", fe.input_shape, 2, weights=str(saved)))
    tuned = train(clips, classes, tmp_path / "tuned", TrainConfig(**base, epochs=2, freeze_epochs=1), frontend=fe)
    assert len(handed_over) == 1
    assert same(initial[0], handed_over[0][0]) and same(initial[1], handed_over[0][1])  # frozen: nothing moved
    convs, norms = backbone_state(tuned.model)
    assert not same(initial[0], convs)  # fine-tuned convolutions
    assert same(initial[1], norms)  # BatchNorm statistics kept
    assert list(pd.read_csv(tmp_path / "tuned" / "history.csv")["epoch"]) == [0, 1]  # one history over both phases

    loaded = Detector.load(tmp_path / "tuned")
    x = np.random.default_rng(0).standard_normal((3, *fe.input_shape)).astype(np.float32)
    np.testing.assert_allclose(loaded.probabilities(x), tuned.probabilities(x), atol=1e-5)


def test_resnet_backbone_takes_small_spectrograms():
    from model.learning.networks import build_model

    net = build_model("resnet50", (20, 16), n_classes=4, weights=None)  # scaled up to the 32 x 32 minimum
    out = np.asarray(net(np.zeros((2, 20, 16), np.float32)))
    assert out.shape == (2, 4)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, atol=1e-5)

