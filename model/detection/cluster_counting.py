"""Counting on Dask: one task per recording, on local worker processes or on a running Dask cluster.

    count_calls.py --workers N              N worker processes on this machine (127.0.0.1)
    count_calls.py --scheduler ADDRESS      the workers of a running cluster (`dask scheduler` and
                                            `dask worker`, or dask_jobqueue on SLURM/PBS; README)

A task decodes and scores one recording on a worker and sends its window scores back; the client
writes each recording's part file (model.detection.score_parts) the moment its scores arrive, so
resuming works exactly as in the single-process path, and only the client needs to write files.
Workers read the recordings and the model by the paths the client gives (absolute), so on several
machines both must be at the same path on every machine (a shared filesystem).

Each worker process loads the model once (kept per process, reloaded only when the model files
change) and checks that its weights and front end give the same fingerprint as the client's, so a
worker that sees another model under the same path fails loudly instead of scoring with it.
"""

from __future__ import annotations

import logging
import os
from contextlib import contextmanager
from pathlib import Path

from model.detection.counting import RecordingScores, require_call_detector, score_recording
from model.detection.detector import Detector, as_run_dirs, load_detector
from model.detection.run_folder import DETECTOR_FILE, MODEL_FILE
from model.detection.score_parts import save_part, scoring_fingerprint

CONNECT_TIMEOUT_S = 10  # for the scheduler to answer, and for a first worker to join it
DEFAULT_SCHEDULER_PORT = 8786  # Dask's, for an address given without one
_loaded: dict = {}  # per worker process: (model folders, their files' mtimes) -> (detector, {hop_s: fingerprint})
loads = 0  # how many times this process loaded a model (the tests read it from every worker)


def _worker_detector(model_dirs: tuple[str, ...], hop_s: float) -> tuple[Detector, str]:
    """The detector in `model_dirs` (averaged where there are several) and its fingerprint at `hop_s`, loaded
    once per process (again only when the models' files change)."""
    global loads
    key = (model_dirs, tuple(os.stat(Path(d) / name).st_mtime_ns for d in model_dirs for name in (MODEL_FILE, DETECTOR_FILE)))
    if key not in _loaded:
        _loaded.clear()  # one model at a time
        _loaded[key] = load_detector(list(model_dirs)), {}
        loads += 1
    detector, fingerprints = _loaded[key]
    if hop_s not in fingerprints:
        fingerprints[hop_s] = scoring_fingerprint(detector, hop_s)
    return detector, fingerprints[hop_s]


def models_loaded() -> int:
    return loads


def worker_ready(model_dirs: tuple[str, ...], hop_s: float) -> str:
    """Load the model on this worker (once) and return its scoring fingerprint."""
    return _worker_detector(model_dirs, hop_s)[1]


def score_task(path: str, model_dirs: tuple[str, ...], hop_s: float, fingerprint: str) -> RecordingScores:
    """Decode and score one recording on a worker (an AudioDecodeError travels back to the client)."""
    from data_pipeline.audio.decoding import stream_audio
    from data_pipeline.audio.prefetch import background

    detector, here = _worker_detector(model_dirs, hop_s)
    if here != fingerprint:
        raise ValueError(f"the model at {' + '.join(model_dirs)} on this worker is not the one the client loaded "
                           "(other weights or front end under the same path)")
    blocks = background(stream_audio(path, detector.frontend.sample_rate_hz))
    try:
        return score_recording(detector, path, hop_s=hop_s, blocks=blocks)
    finally:
        blocks.close()


def _names_a_file(scheduler: str) -> bool:
    """--scheduler names the JSON file `dask scheduler --scheduler-file` writes, rather than an address."""
    return Path(scheduler).suffix == ".json"


def _scheduler_host_port(scheduler: str) -> tuple[str, int] | None:
    """Where a TCP connection to the scheduler goes: from an address (`tcp://host:port`, `host:port`, `tls://`...)
    or from the address in a whole scheduler file; None where there is none to try (another protocol, a file
    still being written)."""
    import json
    from urllib.parse import urlsplit

    address = scheduler
    if _names_a_file(scheduler):
        try:
            address = json.loads(Path(scheduler).read_text())["address"]
        except (OSError, ValueError, KeyError, TypeError):
            return None  # Dask's client waits for the scheduler to finish writing it
    if "://" not in address:
        address = f"tcp://{address}"
    try:
        parts = urlsplit(address)
        port = parts.port or DEFAULT_SCHEDULER_PORT
    except ValueError:
        raise ValueError(f"--scheduler {scheduler}: {address!r} is not a Dask address (tcp://HOST:PORT)") from None
    if parts.scheme not in ("tcp", "tls") or not parts.hostname:
        return None
    return parts.hostname, port


def check_cluster_settings(workers: int | None = None, scheduler: str | None = None) -> None:
    """Fail in one line on settings no cluster could use (before the model loads, which takes seconds)."""
    if scheduler:
        if _names_a_file(scheduler) and not Path(scheduler).is_file():
            raise FileNotFoundError(f"--scheduler {scheduler}: no such scheduler file "
                                    "(`dask scheduler --scheduler-file FILE` writes it)")
    elif workers is None or workers < 1:
        raise ValueError(f"--workers must be 1 or more, not {workers}")


def check_scheduler_listens(scheduler: str) -> None:
    """Fail in one line where nothing listens at the scheduler's address (count_calls.py asks before the model
    loads). Dask's client retries a refused connection for the whole CONNECT_TIMEOUT_S, so a mistyped port, or the
    file of a scheduler that has ended, took 10 s to be told. The scheduler logs the probe as a connection "closed
    before handshake completed" (INFO)."""
    import socket

    where = _scheduler_host_port(scheduler)
    if where is None:
        return
    try:
        socket.create_connection(where, timeout=CONNECT_TIMEOUT_S).close()
    except OSError as err:
        reason = "nothing listens there" if isinstance(err, ConnectionRefusedError) else err
        raise ValueError(f"--scheduler {scheduler}: no Dask scheduler answered at {where[0]}:{where[1]} ({reason})") from None


# Run by each local worker process as it starts (a Dask preload, given as its text). A Ctrl-C in a terminal
# reaches every process of the group: each worker printed a page of KeyboardInterrupt tracebacks, and then a
# warning for every recording it had been scoring, while the counting process, whose Ctrl-C it is, ended with
# its one line and closed them anyway. And as the local cluster closes, a worker whose heartbeat meets the
# scheduler already gone logged "Failed to communicate with scheduler during heartbeat" with two tracebacks
# after a count that had finished well (seen in .ci/run, 2026-12-06): that scheduler is ours and closing.
# And each worker imports TensorFlow for its first recording: without what Keras would import for nothing
# (model.detection.dask_worker_setup, which workers a user starts can preload too), as the scripts do.
LOCAL_WORKER_SETUP = """
import logging
import signal

import model.detection.dask_worker_setup  # noqa: F401 - Keras as the scripts start it

NEWS_AT_CLOSE = ("ended with CancelledError", "Failed to communicate with scheduler during heartbeat")


class QuietAtClose(logging.Filter):
    def filter(self, record):
        return not any(news in record.getMessage() for news in NEWS_AT_CLOSE)


def dask_setup(worker):  # Ctrl-C is the counting process's to handle: it closes the workers
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in ("distributed.worker", "distributed.worker.state_machine"):
        logging.getLogger(name).addFilter(QuietAtClose())
"""


# The scheduler serves its web routes with no dashboard too, on Dask's 8787 unless told: a second count with local
# workers on one machine found it taken and said so in a warning of four lines.
FREE_WEB_PORT = {"dashboard_address": "127.0.0.1:0"}


@contextmanager
def dask_client(workers: int | None = None, scheduler: str | None = None):
    """A Dask client on the cluster at `scheduler` (an address, or the JSON file `dask scheduler
    --scheduler-file` writes), or on `workers` new local worker processes
    (bound to 127.0.0.1, one thread each, TensorFlow's threads shared out between them); closed,
    with the local cluster, on leaving."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ValueError("counting on Dask needs its distributed scheduler: pip install 'dask[distributed]'") from None
    check_cluster_settings(workers, scheduler)
    logging_disabled = logging.root.manager.disable  # restored on leaving (DaskScorer may quiet Dask when it stops)
    cluster = None
    if scheduler:
        try:
            client = (Client(scheduler_file=scheduler, timeout=CONNECT_TIMEOUT_S) if _names_a_file(scheduler)
                      else Client(scheduler, timeout=CONNECT_TIMEOUT_S))
        except (OSError, TimeoutError, ValueError) as err:
            raise ValueError(f"--scheduler {scheduler}: no Dask scheduler answered ({err})") from None
    else:
        threads = max(1, (os.cpu_count() or 1) // workers)
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=None, env={"TF_NUM_INTRAOP_THREADS": str(threads)},
                               preload=[LOCAL_WORKER_SETUP], scheduler_kwargs=FREE_WEB_PORT)
        client = Client(cluster)
    finished = False
    try:
        yield client
        finished = True
    finally:
        # Stopped early (Ctrl-C, an error): workers closed mid-task complain ("still alive after 4.0 seconds,
        # killing"), which is no news after the one line that says why counting stopped.
        if not finished:
            quiet_dask()
        try:
            client.close()
            if cluster is not None:
                cluster.close()
        finally:
            logging.disable(logging_disabled)


def quiet_dask() -> None:
    """Drop Dask's warnings and errors from here until `dask_client` closes the cluster: what a cluster says
    while work is cancelled and it closes is no news after the one line that says why counting stopped. (This
    project says nothing through `logging`; the scheduler's "Couldn't gather keys" is an ERROR.)"""
    logging.disable(logging.ERROR)


class DaskScorer:
    """Scores recordings on a Dask client's workers: model.detection.score_parts.count_resumably's
    `scorer`. model_dirs: the run folder (or folders, averaged) the detector was loaded from, read by every worker."""

    def __init__(self, client, model_dirs: str | os.PathLike | list):
        self.client = client
        self.model_dirs = tuple(os.path.abspath(d) for d in as_run_dirs(model_dirs))
        self.model_dir = " + ".join(self.model_dirs)  # as messages name it

    def _check_workers(self, hop_s: float, fingerprint: str) -> None:
        """Fail in one line, before any task, when no worker is there or one cannot load the model."""
        where = self.client.scheduler.address
        try:
            self.client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_S)
        except TimeoutError:
            raise ValueError(f"the Dask scheduler at {where} has no workers (waited {CONNECT_TIMEOUT_S} s)") from None
        try:
            answers = self.client.run(worker_ready, self.model_dirs, hop_s)
        except Exception as err:  # whatever a worker raised, named in one line
            raise ValueError(f"a Dask worker of {where} cannot load {self.model_dir} ({type(err).__name__}: {err}); "
                             "workers need this project on PYTHONPATH and the model at the same path") from None
        other = sorted(worker for worker, answer in answers.items() if answer != fingerprint)
        if other:
            raise ValueError(f"Dask worker(s) {', '.join(other)} see another model at {self.model_dir} "
                             "(other weights or front end than this machine's)")

    def __call__(self, detector: Detector, todo: list[Path], folder: Path, fingerprint: str,
                 progress: bool = True) -> tuple[list[RecordingScores], list[str]]:
        from distributed import as_completed
        from distributed.scheduler import KilledWorker
        from tqdm.auto import tqdm

        from data_pipeline.audio.decoding import AudioDecodeError

        require_call_detector(detector)
        if not todo:
            return [], []
        hop_s = detector.counting.hop_s
        self._check_workers(hop_s, fingerprint)
        futures = {self.client.submit(score_task, os.path.abspath(path), self.model_dirs, hop_s, fingerprint,
                                      key=f"score-{i}-{path.name}"): path for i, path in enumerate(todo)}
        scored, failures = [], []
        finished = False
        try:
            for future in tqdm(as_completed(futures), total=len(futures), desc="counting", unit="rec",
                               disable=not progress):
                path = futures[future]
                try:
                    scores = future.result()
                except AudioDecodeError as err:
                    failures.append(str(err))
                    continue
                except KilledWorker:  # the recording took its worker down (memory?) more than once
                    failures.append(f"{path}: it stopped every Dask worker that scored it (out of memory?)")
                    continue
                save_part(folder, path, scores, fingerprint)
                scored.append(scores)
            finished = True
        finally:  # Ctrl-C or an error: stop what is still queued; finished parts are on disk
            if not finished:
                # A result being gathered as its key is cancelled makes the scheduler (in this process, for
                # local workers) log "Couldn't gather keys ... forgotten" (seen under load, 2026-12-07).
                quiet_dask()
            self.client.cancel(list(futures))
        return scored, failures
