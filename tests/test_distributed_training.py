"""Training under tf.distribute, on CPU: `train.py --strategy mirrored` over two logical CPU devices, and
`--strategy multiworker` as two worker processes on localhost ports, each end with the weights of a
single-device run at the same global batch and learning rate.

Training orders its clips by (seed, epoch), so a strategy's copy of the dataset sees the same order as
one device; every batch splits equally between two replicas because the training clips come in groups
of four and the global batch is a multiple of four."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT, free_ports, two_class_clips

pytestmark = pytest.mark.slow  # trains three small networks in their own processes

PER_REPLICA_BATCH, PER_REPLICA_RATE = 8, 1e-3  # global batch 16: several batches an epoch
# Two CPU devices in one process, made before train.py creates its strategy (a GPU machine has its GPUs).
TWO_CPUS = ("import tensorflow as tf; cpu = tf.config.list_physical_devices('CPU')[0]; "
            "tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2); ")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """A folder per class of 3 s clips (calls against forest-like backgrounds) and a training
    configuration without dropout, so that runs differ only in how the arithmetic is spread."""
    root = tmp_path_factory.mktemp("distributed")
    two_class_clips(root / "data", 36, seed=0)
    return root


def _batches_split_evenly(run_dir):
    train = json.loads((run_dir / "test_metrics.json").read_text())["clips_per_label"]
    split = (run_dir / "split.csv").read_text().splitlines()
    n_train = sum(1 for line in split[1:] if ",train," in line)
    assert n_train > 2 * 2 * PER_REPLICA_BATCH and n_train % 4 == 0 and sum(train.values()) == 72


def _config(folder, batch_size, learning_rate):
    from data_pipeline.features.frontend import FrontendConfig

    path = folder / f"config-{batch_size}.json"
    path.write_text(json.dumps({"frontend": FrontendConfig().to_dict(), "network": {"dropout": 0.0},
                                "batch_size": batch_size, "learning_rate": learning_rate}))
    return path


def _train_command(dataset, run_dir, config, *extra, prelude=""):
    args = ["--data-dir", str(dataset / "data"), "--run-dir", str(run_dir), "--config", str(config), "--epochs", "3",
            "--patience", "10", "--negative-bank-per-kind", "0", "--hard-negative-pool-per-kind", "0", *extra]
    code = (f"{prelude}import runpy, sys; sys.argv = ['train.py'] + {args!r}; "
            f"runpy.run_path({str(ROOT / 'train.py')!r}, run_name='__main__')")
    return [sys.executable, "-c", code]


def _env(**more):
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(ROOT), **more}


def _weights(run_dir):
    import keras

    import model.layers  # noqa: F401 - the project's saved layers

    return keras.saving.load_model(run_dir / "model.keras").get_weights()


@pytest.fixture(scope="module")
def one_device(dataset):
    """The reference: one device at the global batch and learning rate of two replicas."""
    config = _config(dataset, 2 * PER_REPLICA_BATCH, 2 * PER_REPLICA_RATE)
    proc = subprocess.run(_train_command(dataset, dataset / "one", config), env=_env(), capture_output=True, text=True,
                          cwd=dataset, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert json.loads((dataset / "one" / "test_metrics.json").read_text())["epochs_run"] == 3
    _batches_split_evenly(dataset / "one")
    return _weights(dataset / "one")


def _assert_same_weights(weights, reference):
    assert len(weights) == len(reference)
    for w, r in zip(weights, reference):
        np.testing.assert_allclose(w, r, rtol=1e-3, atol=1e-4)
    assert max(np.abs(w - r).max() for w, r in zip(weights, reference)) < 1e-4


def test_mirrored_over_two_devices_trains_what_one_device_trains(dataset, one_device):
    config = _config(dataset, PER_REPLICA_BATCH, PER_REPLICA_RATE)
    proc = subprocess.run(_train_command(dataset, dataset / "mirrored", config, "--strategy", "mirrored",
                                         prelude=TWO_CPUS), env=_env(), capture_output=True, text=True,
                          cwd=dataset, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "2 replicas: global batch 16, learning rate 0.002 (per replica x 2)" in proc.stdout
    report = json.loads((dataset / "mirrored" / "test_metrics.json").read_text())
    assert report["replicas"] == 2 and report["train_config"]["batch_size"] == 16
    _assert_same_weights(_weights(dataset / "mirrored"), one_device)


def test_two_workers_train_what_one_device_trains_and_only_the_chief_writes(dataset, one_device):
    config = _config(dataset, PER_REPLICA_BATCH, PER_REPLICA_RATE)
    workers = [f"127.0.0.1:{port}" for port in free_ports(2)]
    procs = []
    for index in range(2):
        tf_config = json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}})
        procs.append(subprocess.Popen(_train_command(dataset, dataset / "multiworker", config, "--strategy", "multiworker"),
                                      env=_env(TF_CONFIG=tf_config), cwd=dataset, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
    outputs = [proc.communicate(timeout=600) for proc in procs]
    for proc, (out, err) in zip(procs, outputs):
        assert proc.returncode == 0, err
        assert "2 replicas: global batch 16, learning rate 0.002" in out
    chief, other = (out.strip().splitlines()[-1] for out, _ in outputs)
    assert chief == f"run folder: {dataset / 'multiworker'}"
    scratch = other.removeprefix("run folder: ")
    assert "train-worker-" in scratch and not os.path.exists(scratch)  # the other worker's folder is gone
    _assert_same_weights(_weights(dataset / "multiworker"), one_device)


def test_multiworker_without_tf_config_says_what_it_needs(dataset):
    config = _config(dataset, PER_REPLICA_BATCH, PER_REPLICA_RATE)
    env = _env()
    env.pop("TF_CONFIG", None)
    proc = subprocess.run(_train_command(dataset, dataset / "no-config", config, "--strategy", "multiworker"),
                          env=env, capture_output=True, text=True, cwd=dataset, timeout=300)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "error: --strategy multiworker needs TF_CONFIG naming the workers" in proc.stderr
    assert not (dataset / "no-config").exists()
