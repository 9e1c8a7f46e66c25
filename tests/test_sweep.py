"""A small keras-tuner sweep on synthetic clips: HParams logs readable by TensorBoard, best config retrains."""

import json
import subprocess
import sys

import pandas as pd
import pytest
from conftest import ROOT

from data_pipeline.synthetic.capuchinbird import write_demo_dataset
from data_pipeline.training_data.clips import training_clips
from model.learning.sweep import run_sweep
from model.learning.sweep_settings import OBJECTIVE

pytestmark = pytest.mark.slow  # trains networks: `make test-fast` skips it


def hparams_in_event_files(logdir):
    """{trial folder: {hparam: value}} from the session-start records the HParams plugin wrote."""
    import tensorflow as tf
    from tensorboard.plugins.hparams import plugin_data_pb2

    found = {}
    for path in logdir.rglob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                if value.metadata.plugin_data.plugin_name != "hparams":
                    continue
                data = plugin_data_pb2.HParamsPluginData.FromString(value.metadata.plugin_data.content)
                if data.HasField("session_start_info"):
                    hp = data.session_start_info.hparams
                    found[path.relative_to(logdir).parts[0]] = {k: v.WhichOneof("kind") and getattr(v, v.WhichOneof("kind"))
                                                               for k, v in hp.items()}
    return found


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    root = tmp_path_factory.mktemp("sweep")
    write_demo_dataset(root / "data", seed=3, n_positive_sources=6, n_negative_sources=8, clips_per_source=4,
                       n_recordings=0)
    _, classes, _ = training_clips(root / "data", None, None, 3.0)
    table = run_sweep(lambda clip_s: training_clips(root / "data", None, None, clip_s)[0], classes, root / "sweep",
                      tuner="random", max_trials=3, max_epochs=2, seed=0)
    return root, table


def test_sweep_writes_a_sorted_table_hparams_logs_and_a_best_config(sweep):
    root, table = sweep
    assert len(table) == 3
    assert table[OBJECTIVE].is_monotonic_decreasing
    assert pd.read_csv(root / "sweep" / "trials.csv")[OBJECTIVE].tolist() == pytest.approx(table[OBJECTIVE].tolist())
    logged = hparams_in_event_files(root / "sweep" / "logs")
    assert len(logged) == 3
    for hp in logged.values():
        assert {"clip_s", "frame_length", "frame_step", "max_freq_hz", "depth", "learning_rate"} <= set(hp)
    best = json.loads((root / "sweep" / "best.json").read_text())
    winner = table.iloc[0]
    assert best["frontend"]["clip_s"] == winner["clip_s"] and best["batch_size"] == winner["batch_size"]
    assert len(best["network"]["filters"]) == winner["depth"]


def test_best_config_retrains_with_its_front_end(sweep):
    root, _ = sweep
    run = root / "retrained"
    proc = subprocess.run([sys.executable, str(ROOT / "train.py"), "--data-dir", str(root / "data"), "--config",
                           str(root / "sweep" / "best.json"), "--run-dir", str(run), "--epochs", "2",
                           "--hard-negative-pool-per-kind", "0"],  # mining: test_not_a_call, test_end_to_end
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    saved = json.loads((run / "detector.json").read_text())["frontend"]
    assert saved == json.loads((root / "sweep" / "best.json").read_text())["frontend"]


def test_a_second_sweep_into_the_same_folder_needs_resume(sweep):
    root, _ = sweep
    with pytest.raises(FileExistsError, match="--resume"):
        run_sweep(lambda clip_s: None, ["a", "b"], root / "sweep")


def test_resume_continues_the_sweep_and_a_time_budget_stops_it(sweep, tmp_path):
    root, _ = sweep
    make_table = lambda clip_s: training_clips(root / "data", None, None, clip_s)[0]  # noqa: E731
    resumed = run_sweep(make_table, ["not_capuchinbird", "capuchinbird"], root / "sweep", tuner="random", max_trials=4,
                        max_epochs=2, resume=True)
    assert len(resumed) == 4  # the three finished trials were kept, one more ran
    budgeted = run_sweep(make_table, ["not_capuchinbird", "capuchinbird"], tmp_path / "budget", tuner="random",
                         max_trials=5, max_epochs=2, time_budget_s=0.0)
    assert len(budgeted) == 1  # over budget after the first trial: no second one starts
