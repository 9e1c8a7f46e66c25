"""keras-tuner's distributed mode through tune.py: one chief (the oracle) and two workers, three processes
on 127.0.0.1, share one sweep; the chief writes every trial's score and the best configuration."""

import json
import os
import re
import subprocess
import sys

import pandas as pd
import pytest
from conftest import ROOT, free_ports

from data_pipeline.synthetic.capuchinbird import write_demo_dataset
from model.learning.sweep_settings import OBJECTIVE


def _tune(root, tuner_id, port, *extra):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "KERASTUNER_TUNER_ID": tuner_id,
           "KERASTUNER_ORACLE_IP": "127.0.0.1", "KERASTUNER_ORACLE_PORT": str(port)}
    if tuner_id is None:
        env.pop("KERASTUNER_TUNER_ID")
    return subprocess.Popen([sys.executable, str(ROOT / "tune.py"), "--data-dir", "data", "--out", "sweep", "--tuner",
                             "random", "--max-trials", "4", "--max-epochs", "2", *extra],
                            cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _sweep_data(root):
    """A small two-class clip folder, root/data, that a trial trains on in seconds."""
    write_demo_dataset(root / "data", seed=3, n_positive_sources=6, n_negative_sources=8, clips_per_source=4,
                       n_recordings=0)


def _wait_until_listening(chief, port, timeout_s=300):
    """Return once the chief's oracle accepts connections. A loaded machine (three test processes on two cores)
    took over 4 s to start one: a worker given --chief-wait 4 beside it gave up before the chief was up."""
    import socket
    import time

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            assert chief.poll() is None and time.monotonic() < deadline, chief.communicate()
            time.sleep(0.2)


def _ongoing(sweep):
    """{tuner id: trial id} of the trials the chief has handed out and not seen end (its oracle.json)."""
    try:
        return json.loads((sweep / "trials" / "oracle.json").read_text())["ongoing_trials"]
    except (OSError, ValueError, KeyError):  # not written yet, or caught mid-write
        return {}


@pytest.mark.slow  # three processes train networks: `make test-fast` skips it
def test_a_chief_and_two_workers_run_one_sweep_and_a_lost_worker_costs_no_trial(tmp_path):
    import time

    _sweep_data(tmp_path)
    (port,) = free_ports(1)
    chief = _tune(tmp_path, "chief", port, "--worker-silence", "10")
    workers = [_tune(tmp_path, tuner_id, port) for tuner_id in ("tuner0", "tuner1")]
    try:
        deadline = time.monotonic() + 300
        while "tuner1" not in _ongoing(tmp_path / "sweep"):  # tuner1 holds a trial: then its machine is lost
            assert workers[1].poll() is None and time.monotonic() < deadline, workers[1].communicate()
            time.sleep(0.2)
        lost_trial = _ongoing(tmp_path / "sweep")["tuner1"]
        workers[1].kill()
        outputs = [proc.communicate(timeout=600) for proc in (chief, workers[0])]
    finally:  # stop every process, whatever happened
        for proc in (chief, *workers):
            proc.kill()
    for proc, (_, err) in zip((chief, workers[0]), outputs):
        assert proc.returncode == 0, err
    (_, chief_err), (worker_out, _) = outputs
    said = f"tuner chief: tuner1 not heard from for 1[0-2] s, taken for lost while training trial {lost_trial}: the next worker"
    assert re.search(said + " that asks trains the trial again", chief_err), chief_err  # after --worker-silence 10
    trials = pd.read_csv(tmp_path / "sweep" / "trials.csv", dtype={"trial": str})
    assert len(trials) == 4 and trials[OBJECTIVE].notna().all() and lost_trial in set(trials["trial"]), trials
    assert trials[OBJECTIVE].is_monotonic_decreasing  # best first
    best = json.loads((tmp_path / "sweep" / "best.json").read_text())
    assert set(best) >= {"frontend", "network", "learning_rate", "batch_size"}
    assert "no trials left; the chief writes sweep/trials.csv and best.json" in worker_out
    assert worker_out.count("Epoch 1/2") == 4  # one per trial trained: its three and the lost worker's


@pytest.mark.slow  # workers train networks: `make test-fast` skips it
def test_a_worker_whose_chief_dies_stops_with_one_line_and_the_sweep_resumes(tmp_path):
    import time

    _sweep_data(tmp_path)
    (port,) = free_ports(1)
    chief = _tune(tmp_path, "chief", port)
    _wait_until_listening(chief, port)  # --chief-wait 4 is for the chief's death: its start-up may take longer
    worker = _tune(tmp_path, "tuner0", port, "--chief-wait", "4")
    worker_again = None
    try:
        deadline = time.monotonic() + 300
        while not any((tmp_path / "sweep" / "logs").rglob("events.out.tfevents.*")):  # the worker is training
            assert worker.poll() is None and time.monotonic() < deadline, worker.stderr.read()
            time.sleep(0.5)
        chief.kill()
        killed = time.monotonic()
        _, err = worker.communicate(timeout=240)
        waited = time.monotonic() - killed
        # What the line advises: the chief again with --resume, then a worker; the sweep ends as one would have.
        chief = _tune(tmp_path, "chief", port, "--resume")
        worker_again = _tune(tmp_path, "tuner0", port, "--chief-wait", "60")
        outputs = [worker_again.communicate(timeout=600), chief.communicate(timeout=120)]
    finally:
        for proc in (chief, worker, worker_again):
            if proc is not None:
                proc.kill()
    assert worker.returncode == 2 and "Traceback" not in err, err
    assert err.strip().splitlines()[-1].startswith(f"error: the keras-tuner chief at 127.0.0.1:{port} stopped answering ("), err
    assert "after up to 4 s): restart it with --resume, then the workers" in err
    assert waited < 120, waited  # keras-tuner's own client would have waited an hour per request
    assert worker_again.returncode == 0 and chief.returncode == 0, outputs
    trials = pd.read_csv(tmp_path / "sweep" / "trials.csv")
    assert len(trials) == 4 and trials[OBJECTIVE].notna().all()  # the trial the kill cut short trained again


def test_a_half_configured_distributed_sweep_says_what_is_missing(tmp_path):
    proc = _tune(tmp_path, None, 1)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 2 and "Traceback" not in err
    assert "error: a distributed sweep needs KERASTUNER_TUNER_ID" in err and "KERASTUNER_TUNER_ID not set" in err


def test_a_worker_whose_chief_never_answers_stops_with_one_line(tmp_path):
    (port,) = free_ports(1)
    proc = _tune(tmp_path, "tuner0", port, "--chief-wait", "3")
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 2 and "Traceback" not in err, err
    assert f"error: no keras-tuner chief answered at 127.0.0.1:{port} within 3 s" in err
    assert not (tmp_path / "sweep").exists()  # stopped before reading data or writing anything


def test_a_worker_goes_on_once_its_chief_listens(monkeypatch):
    import socket

    from model.learning.sweep_settings import wait_for_chief

    with socket.socket() as chief:
        chief.bind(("127.0.0.1", 0))
        chief.listen()
        monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
        monkeypatch.setenv("KERASTUNER_ORACLE_PORT", str(chief.getsockname()[1]))
        wait_for_chief(timeout_s=30)  # returns, where no listener raises TimeoutError
    monkeypatch.setenv("KERASTUNER_ORACLE_PORT", "80OO")
    with pytest.raises(ValueError, match="KERASTUNER_ORACLE_PORT must be a port number .*'80OO'"):
        wait_for_chief(timeout_s=1)


def test_durations_read_as_seconds_and_bad_ones_are_usage_errors():
    import argparse

    from tune import parse_duration_s

    assert [parse_duration_s(t) for t in ("1800", "30m", "1.5h", "45s", "0")] == [1800.0, 1800.0, 5400.0, 45.0, 0.0]
    for bad, says in (("-5", "a duration is 0 or more"), ("half an hour", "is not a duration"), ("nanm", "0 or more")):
        with pytest.raises(argparse.ArgumentTypeError, match=says):
            parse_duration_s(bad)


def test_a_worker_silence_shorter_than_a_few_heartbeats_is_refused():
    from model.learning.sweep_settings import check_worker_silence

    check_worker_silence(0)  # wait for ever, as keras-tuner does
    check_worker_silence(10)
    with pytest.raises(ValueError, match=r"--worker-silence must be 0 \(wait for ever\) or at least 10 s .*got 3"):
        check_worker_silence(3)
