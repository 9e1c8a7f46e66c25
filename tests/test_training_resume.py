"""Training resumes: a train.py run killed (SIGKILL) mid-way and rerun with the same command ends with the
same epochs, the same metrics and the same weights as a run never stopped."""

import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import ROOT, two_class_clips

pytestmark = pytest.mark.slow  # three training runs


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("resume")
    two_class_clips(root / "data", 40, seed=1)
    return root


def _command(data, run_dir):
    return [sys.executable, str(ROOT / "train.py"), "--data-dir", str(data / "data"), "--run-dir", str(run_dir),
            "--epochs", "8", "--patience", "3", "--batch-size", "16", "--negative-bank-per-kind", "2",
            "--hard-negative-pool-per-kind", "4"]


def _weights(run_dir):
    import keras

    import model.layers  # noqa: F401 - the project's saved layers

    return keras.saving.load_model(run_dir / "model.keras").get_weights()


def _report(run_dir):
    report = json.loads((run_dir / "test_metrics.json").read_text())
    return {k: report[k] for k in ("epochs_run", "validation", "test", "hard_negatives") if k in report}


def test_a_killed_training_resumes_to_the_run_it_would_have_been(data):
    whole = subprocess.run(_command(data, data / "whole"), capture_output=True, text=True, timeout=900)
    assert whole.returncode == 0, whole.stderr
    assert not (data / "whole" / "resume").exists()  # removed once training has finished

    run = data / "killed"
    proc = subprocess.Popen(_command(data, run), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 600
    while time.time() < deadline and proc.poll() is None:  # two epochs saved, then a lost machine
        state = run / "resume" / "fit.npz"
        if state.exists() and json.loads(str(np.load(state)["meta"]))["epochs_done"] >= 2:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (run / "model.keras").exists()

    resumed = subprocess.run(_command(data, run), capture_output=True, text=True, timeout=900)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming after epoch" in resumed.stdout
    assert _report(run) == _report(data / "whole")
    assert (run / "history.csv").read_text() == (data / "whole" / "history.csv").read_text()
    for a, b in zip(_weights(run), _weights(data / "whole"), strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)
    assert not (run / "resume").exists()


def test_a_saved_state_of_other_settings_is_refused(data):
    run = data / "other"
    run.mkdir()
    (run / "resume").mkdir()
    np.savez(run / "resume" / "fit.npz", meta=json.dumps({"key": "something else"}))
    proc = subprocess.run(_command(data, run), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "an interrupted training with other data or settings is saved here" in proc.stderr


def test_how_many_steps_run_per_call_changes_nothing_trained(data, tmp_path, monkeypatch):
    """Training runs STEPS_PER_EXECUTION steps per call from Python, for speed: 1 or 3 (here 14 steps an epoch, so
    the last call of each runs 2) train the same weights bit for bit."""
    from data_pipeline.labels.class_folders import clips_from_folders
    from model.learning import training

    clips, classes = clips_from_folders(data / "data")
    config = training.TrainConfig(epochs=2, batch_size=4, verbose=0, negative_bank_per_kind=0, hard_negative_pool_per_kind=0)
    weights = []
    for steps in (1, 3):
        monkeypatch.setattr(training, "STEPS_PER_EXECUTION", steps)
        detector = training.train(clips, classes, tmp_path / f"steps{steps}", config)
        assert detector.model.steps_per_execution == steps
        weights.append(detector.model.get_weights())
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)
