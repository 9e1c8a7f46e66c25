"""Counting on Dask: a real cluster (`dask scheduler` and `dask worker` processes on 127.0.0.1) and
`--workers N` local processes give the same outputs as counting in one process; each worker loads the
model once; a worker killed mid-run costs nothing but time; a finished Dask run resumes in one process;
a cluster that cannot do the work says so in one line."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import ROOT, chirp_recordings, output_bytes, run_script

pytest.importorskip("distributed")
pytestmark = pytest.mark.slow  # starts clusters of TensorFlow processes: `make test-fast` skips it

DASK = str(Path(sys.executable).parent / "dask")


def _scheduler_address(scheduler_file: Path, timeout: float) -> str:
    """The address in the scheduler's file once it is whole: the scheduler creates the file before it writes
    into it, so a file that exists may still be empty (a CI run read it empty once)."""
    deadline = time.time() + timeout
    while True:
        try:
            return json.loads(scheduler_file.read_text())["address"]
        except (FileNotFoundError, json.JSONDecodeError, KeyError):
            if time.time() > deadline:
                raise
            time.sleep(0.1)


@contextmanager
def dask_cluster(folder: Path, workers: int, project_on_path: bool = True):
    """A scheduler and `workers` single-threaded worker processes (no nanny: killing one kills the worker)
    on 127.0.0.1, as a user starts them; the scheduler's address. Every process is stopped on leaving."""
    from distributed import Client

    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "TF_NUM_INTRAOP_THREADS": "1"}
    env.pop("PYTHONPATH", None)
    if project_on_path:
        env["PYTHONPATH"] = str(ROOT)
    folder.mkdir()
    scheduler_file = folder / "scheduler.json"
    quiet = dict(cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs = [subprocess.Popen([DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                               "--scheduler-file", str(scheduler_file)], **quiet)]
    try:
        address = _scheduler_address(scheduler_file, timeout=60)
        for i in range(workers):
            preload = ["--preload", "model.detection.dask_worker_setup"] if project_on_path else []  # as the README's
            procs.append(subprocess.Popen([DASK, "worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard",
                                           "--name", f"w{i}", "--local-directory", str(folder / f"w{i}"), *preload],
                                          **quiet))
        with Client(address, timeout=30) as client:
            client.wait_for_workers(workers, timeout=120)
        yield address, scheduler_file, procs[1:]
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def _count(cwd, model, *extra, ok=True):
    proc = run_script("count_calls.py", "--input", "rec", "--model", model, "--output", "out/counts.csv", *extra,
                      cwd=cwd)
    if ok:
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    proc.said = proc.stdout + proc.stderr
    return proc


def _same_recordings(tmp_path, *names, n=6, seconds=40):
    """Folders that each see the same recordings as rec/ (a link), to count them in several ways."""
    chirp_recordings(tmp_path / "rec", n, seconds)
    for name in names:
        (tmp_path / name).mkdir()
        (tmp_path / name / "rec").symlink_to(tmp_path / "rec")
    return [tmp_path / name for name in names]


def test_a_dask_cluster_counts_what_one_process_counts_and_loads_the_model_once_per_worker(tmp_path, untrained_model):
    from distributed import Client

    here, there, local = _same_recordings(tmp_path, "here", "there", "local")
    _count(here, untrained_model)
    expected = output_bytes(here / "out")
    assert b"site_05.wav" in expected["counts.csv"]

    with dask_cluster(tmp_path / "cluster", workers=2) as (address, _, _):
        said = _count(there, untrained_model, "--scheduler", address).said
        assert "6 recording(s) counted (0 of them resumed" in said
        with Client(address) as client:
            from model.detection.cluster_counting import models_loaded

            loads = client.run(models_loaded)
            extras = client.run(_keras_probe())
        assert sorted(loads.values()) == [1, 1], loads  # six recordings, two workers, two loads
        assert sorted(extras.values()) == [(False, False, True)] * 2, extras  # the README's --preload: Keras started bare
    assert output_bytes(there / "out") == expected

    said = _count(there, untrained_model).said  # what the cluster scored resumes in one process
    assert "resuming: 6 of 6 recordings" in said
    assert output_bytes(there / "out") == expected

    said = _count(local, untrained_model, "--workers", "2").said  # local worker processes
    assert "6 recording(s) counted (0 of them resumed" in said
    assert output_bytes(local / "out") == expected


def test_a_worker_killed_mid_run_loses_nothing(tmp_path, untrained_model):
    here, there = _same_recordings(tmp_path, "here", "there", n=8, seconds=120)
    _count(here, untrained_model)
    with dask_cluster(tmp_path / "cluster", workers=2) as (_, scheduler_file, workers):
        proc = subprocess.Popen([sys.executable, str(ROOT / "count_calls.py"), "--input", "rec", "--model",
                                 str(untrained_model), "--output", "out/counts.csv", "--scheduler", scheduler_file],
                                cwd=there, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        parts = there / "out" / "counts_parts"
        deadline = time.time() + 300
        while not (parts.exists() and any(parts.glob("site_*"))) and time.time() < deadline and proc.poll() is None:
            time.sleep(0.01)
        assert proc.poll() is None  # still counting
        os.kill(workers[0].pid, signal.SIGKILL)  # a lost machine: its task goes to the other worker
        out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert "8 recording(s) counted (0 of them resumed from an earlier run), 0 skipped" in err
    assert output_bytes(there / "out") == output_bytes(here / "out")


def test_a_cluster_that_cannot_count_says_why_in_one_line(tmp_path, untrained_model):
    (work,) = _same_recordings(tmp_path, "work")
    proc = _count(work, untrained_model, "--scheduler", "tcp://127.0.0.1:9", ok=False)  # nothing listens there
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "error: --scheduler tcp://127.0.0.1:9: no Dask scheduler answered at 127.0.0.1:9 (nothing listens" in proc.stderr
    assert "model:" not in proc.stderr  # said before the model loads, not after Dask's 10 s of retrying
    assert not (work / "out").exists()
    (work / "ended.json").write_text(json.dumps({"address": "tcp://127.0.0.1:9"}))  # left by a scheduler that ended
    proc = _count(work, untrained_model, "--scheduler", "ended.json", ok=False)
    assert proc.returncode == 2 and "error: --scheduler ended.json: no Dask scheduler answered at 127.0.0.1:9" in proc.stderr
    assert "model:" not in proc.stderr
    proc = _count(work, untrained_model, "--scheduler", "gone.json", ok=False)
    assert proc.returncode == 2 and "error: --scheduler gone.json: no such scheduler file" in proc.stderr
    assert "model:" not in proc.stderr  # said before the model loads (seconds of TensorFlow)

    with dask_cluster(tmp_path / "cluster", workers=1, project_on_path=False) as (address, _, _):
        proc = _count(work, untrained_model, "--scheduler", address, ok=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "workers need this project on PYTHONPATH" in proc.stderr.strip().splitlines()[-1]
    assert not (work / "out" / "counts.csv").exists()

    proc = _count(work, untrained_model, "--workers", "0", ok=False)
    assert proc.returncode == 2 and "error: --workers must be 1 or more, not 0" in proc.stderr
    assert "model:" not in proc.stderr
    proc = _count(work, untrained_model, "--workers", "2", "--scheduler", address, ok=False)
    assert proc.returncode == 2 and "give one of them" in proc.stderr


def test_ctrl_c_with_local_workers_ends_with_one_line(tmp_path, untrained_model):
    (work,) = _same_recordings(tmp_path, "work", n=8, seconds=120)
    # As from a terminal: the process group (the script and its worker processes) gets the SIGINT, with its
    # default handling (where the suite was started as a shell's background job, SIGINT comes ignored).
    proc = subprocess.Popen([sys.executable, str(ROOT / "count_calls.py"), "--input", "rec", "--model",
                             str(untrained_model), "--output", "out/counts.csv", "--workers", "2"],
                            cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    parts = work / "out" / "counts_parts"
    deadline = time.time() + 300
    while not (parts.exists() and any(parts.glob("site_*"))) and time.time() < deadline and proc.poll() is None:
        time.sleep(0.01)
    assert proc.poll() is None  # still counting
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    lines = [line for line in err.replace("\r", "\n").splitlines()
             if line.strip() and not line.startswith(("counting:", "model:"))]
    # Each worker printed pages of KeyboardInterrupt tracebacks, then a warning per recording it was scoring.
    assert proc.returncode == 130 and lines == ["interrupted; no output was left half-written"], err
    assert not (work / "out" / "counts.csv").exists() and any(parts.glob("site_*"))  # what was scored stays, to resume


def test_counting_stopped_on_a_cluster_keeps_dask_quiet_until_the_cluster_closes(tmp_path, untrained_model, monkeypatch):
    """A Ctrl-C while a result is gathered: the cancelled key makes the scheduler (in this process, for local
    workers) log "Couldn't gather keys ... forgotten" above the one line (seen once under load). A scorer stopped
    early drops Dask's warnings and errors until dask_client has closed the cluster, which then leaves logging as
    it found it, even where the caller caught the interrupt."""
    import logging

    import model.detection.cluster_counting as cluster_counting
    from model.detection.detector import Detector
    from model.detection.score_parts import scoring_fingerprint

    (work,) = _same_recordings(tmp_path, "work", n=3, seconds=10)
    detector = Detector.load(untrained_model)

    def interrupted(*_):
        raise KeyboardInterrupt

    monkeypatch.setattr(cluster_counting, "save_part", interrupted)  # as the first result comes back
    scheduler_log = logging.getLogger("distributed.scheduler")
    before = logging.root.manager.disable
    assert scheduler_log.isEnabledFor(logging.ERROR)
    with cluster_counting.dask_client(workers=1) as client:
        scorer = cluster_counting.DaskScorer(client, untrained_model)
        with pytest.raises(KeyboardInterrupt):
            scorer(detector, sorted((work / "rec").iterdir()), tmp_path / "parts",
                   scoring_fingerprint(detector, detector.counting.hop_s), progress=False)
        assert not scheduler_log.isEnabledFor(logging.ERROR)  # quiet from the stop on
    assert logging.root.manager.disable == before and scheduler_log.isEnabledFor(logging.ERROR)


def test_local_workers_start_keras_as_the_scripts_do_beside_another_cluster():
    """Each local worker imports TensorFlow for its first recording; its setup keeps out what Keras would import
    for nothing (model.cli.KerasWithoutExtras), as in the counting process: about 0.9 s of CPU per worker here.
    Two counts with local workers at once (two sites, one machine) each take a free port: the scheduler's web
    server took Dask's 8787 and, where that was held, said so in a warning of four lines (once in this suite)."""
    from model.detection.cluster_counting import dask_client

    with socket.socket() as held, warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        try:
            held.bind(("127.0.0.1", 8787))
            held.listen()
        except OSError:
            pass  # held already, as it should be for this test
        with dask_client(workers=1) as client:
            assert client.submit(_keras_probe()).result() == (False, False, True)
    assert not [str(w.message) for w in warned if "8787" in str(w.message)]


def _keras_probe():
    """A function to run on a worker: whether Keras's extras came with it (scikit-learn, matplotlib), and Keras
    itself. Made inside a function, so that Dask sends its code (workers cannot import the tests)."""
    def imported_with_keras():
        import keras  # noqa: F401
        import tensorflow  # noqa: F401

        return "sklearn" in sys.modules, "matplotlib" in sys.modules, "keras" in sys.modules
    return imported_with_keras


def test_local_workers_keep_quiet_only_about_the_news_of_their_own_close():
    """The local workers' setup drops the two messages a closing local cluster makes (a heartbeat meeting the
    scheduler already gone: two tracebacks after a count that had finished well, once in .ci/run), nothing else."""
    import logging

    from model.detection.cluster_counting import LOCAL_WORKER_SETUP

    setup = {}
    exec(LOCAL_WORKER_SETUP, setup)
    quiet = setup["QuietAtClose"]()

    def kept(message):
        return quiet.filter(logging.LogRecord("distributed.worker", logging.ERROR, __file__, 1, message, None, None))

    assert not kept("Failed to communicate with scheduler during heartbeat.")
    assert not kept("Compute Failed ... ended with CancelledError")
    assert kept("Compute Failed\nKey: score_task-1\nException: AudioDecodeError('r.wav: truncated')")
    assert kept("Worker stream died during communication: tcp://127.0.0.1:40000")
