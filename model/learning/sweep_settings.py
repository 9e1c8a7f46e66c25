"""What `tune.py` checks before any data is read or TensorFlow loads: the sweep's settings, and which part of a
distributed sweep this process plays (keras-tuner's environment variables). Kept free of keras-tuner and
TensorFlow so that a mistyped setting is one line at once, not after their 2-4 s import."""

from __future__ import annotations

import os
import time
from pathlib import Path

TUNERS = ("hyperband", "bayesian", "random")
OBJECTIVE = "val_pr_auc"
DISTRIBUTED_ENV = ("KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT")
# A worker training a trial asks its chief for that trial this often, so the chief can tell it from a lost one.
HEARTBEAT_S = 2.0
MIN_WORKER_SILENCE_S = 5 * HEARTBEAT_S  # a shorter --worker-silence could take a busy worker for lost


def distributed_role() -> str | None:
    """keras-tuner's distributed mode, from its environment variables: "chief" (serves the oracle and
    writes the results), a worker's tuner id (runs trials the chief hands out), or None (one process)."""
    given = [name for name in DISTRIBUTED_ENV if os.environ.get(name)]
    if not given:
        return None
    if len(given) < len(DISTRIBUTED_ENV):
        missing = ", ".join(name for name in DISTRIBUTED_ENV if name not in given)
        raise ValueError(f"a distributed sweep needs {', '.join(DISTRIBUTED_ENV)}; {missing} not set")
    tuner_id = os.environ["KERASTUNER_TUNER_ID"]
    return "chief" if "chief" in tuner_id else tuner_id


def is_worker(role: str | None) -> bool:
    """Whether a distributed_role() runs trials for a chief (and so neither reads results nor writes them)."""
    return role not in (None, "chief")


def wait_for_chief(timeout_s: float, poll_s: float = 1.0) -> None:
    """For a worker: return once the chief's oracle accepts connections, or stop with one line after
    `timeout_s`. keras-tuner's own client waits for ever, so a chief that never started, or a wrong
    address, left a worker hanging without a word."""
    import socket

    ip, port = os.environ["KERASTUNER_ORACLE_IP"], os.environ["KERASTUNER_ORACLE_PORT"]
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"KERASTUNER_ORACLE_PORT must be a port number (1-65535), not {port!r}")
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with socket.create_connection((ip, int(port)), timeout=poll_s):
                return
        except OSError:
            if time.monotonic() >= deadline:
                raise TimeoutError(f"no keras-tuner chief answered at {ip}:{port} within {timeout_s:g} s: start the "
                                   "chief (KERASTUNER_TUNER_ID=chief) or check KERASTUNER_ORACLE_IP and "
                                   "KERASTUNER_ORACLE_PORT; --chief-wait sets how long to wait") from None
            time.sleep(poll_s)


def check_worker_silence(silence_s: float) -> None:
    """Refuse a --worker-silence a worker's heartbeats could miss."""
    if 0 < silence_s < MIN_WORKER_SILENCE_S:
        raise ValueError(f"--worker-silence must be 0 (wait for ever) or at least {MIN_WORKER_SILENCE_S:g} s "
                         f"(workers are heard from every {HEARTBEAT_S:g} s), got {silence_s:g}")


def check_sweep_settings(out_dir: str | os.PathLike, tuner: str, max_trials: int, max_epochs: int,
                         time_budget_s: float | None, resume: bool, worker_silence_s: float = 0.0) -> bool:
    """Refuse settings a sweep cannot run with, before any data is read (tune.py checks first, run_sweep
    again); returns whether to resume."""
    out_dir = Path(out_dir)
    role = distributed_role()
    if is_worker(role):
        resume = True  # a worker joins the chief's sweep folder
    # Workers write into the folder as they start, perhaps before the chief: the chief looks for a sweep
    # of its own (the oracle's state, which only a chief or a single process writes).
    earlier = (out_dir / "trials" / "oracle.json").exists() if role == "chief" else out_dir.exists() and any(out_dir.iterdir())
    if earlier and not resume:
        raise FileExistsError(f"{out_dir} holds a sweep already: pass --resume to continue it, or another --out")
    if role is not None and time_budget_s is not None:
        raise ValueError("--time-budget works in one process only; in a distributed sweep set --max-trials")
    if tuner not in TUNERS:
        raise ValueError(f"unknown tuner {tuner!r}; choose one of {TUNERS}")
    for name, value in (("--max-trials", max_trials), ("--max-epochs", max_epochs)):
        if value < 1:  # keras-tuner takes 0 trials as no cap, and 0 epochs fails deep inside Hyperband
            raise ValueError(f"{name} must be 1 or more, got {value}")
    check_worker_silence(worker_silence_s)
    return resume
