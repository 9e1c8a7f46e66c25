"""keras-tuner's distributed mode for `tune.py`: one chief (the oracle) and any number of workers.

What keras-tuner 1.4 leaves to chance when a process goes: a worker waits for a chief that never started
(`sweep_settings.wait_for_chief`, with who a process is) or stopped answering (`chief_answers_within`) for an
hour or for ever, and a chief waits for ever for a worker that died holding a trial (`heartbeats_while_training`
on the workers, `requeue_lost_workers` on the chief). Each now ends, or goes on, with one line.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator

import keras_tuner as kt

from model.learning.sweep_settings import HEARTBEAT_S


class ChiefStoppedAnswering(kt.errors.FatalError):
    """A worker's request to its chief went unanswered: fatal, so keras-tuner ends the search instead of
    marking the trial failed (with a printed traceback) and asking the silent chief for the next."""


@contextlib.contextmanager
def chief_answers_within(timeout_s: float) -> Iterator[None]:
    """For a worker, around its part of the sweep: every request to the chief waits at most `timeout_s`, and a
    chief that stops answering stops the worker with one line. keras-tuner's own client waits an hour per
    request (its TIMEOUT) and then fails with a gRPC traceback, so a killed chief left its workers idle that long.
    A trial the worker was training when the chief went is lost; the chief's folder keeps every finished one."""
    import grpc
    from keras_tuner.src.distribute import oracle_client  # keras-tuner 1.4's client module; what the worker uses

    def fatal_when_unanswered(request):
        @functools.wraps(request)
        def send(*args, **kwargs):
            try:
                return request(*args, **kwargs)
            except grpc.RpcError as err:
                code = err.code() if callable(getattr(err, "code", None)) else None
                raise ChiefStoppedAnswering(getattr(code, "name", "no answer")) from None
        return send

    client = oracle_client.OracleClient
    requests = {name: getattr(client, name) for name in ("get_space", "update_space", "create_trial", "update_trial",
                                                          "end_trial", "get_trial", "get_best_trials") if hasattr(client, name)}
    saved = oracle_client.TIMEOUT
    oracle_client.TIMEOUT = timeout_s
    for name, request in requests.items():
        setattr(client, name, fatal_when_unanswered(request))
    ip, port = os.environ["KERASTUNER_ORACLE_IP"], os.environ["KERASTUNER_ORACLE_PORT"]
    try:
        yield
    except ChiefStoppedAnswering as err:
        raise TimeoutError(f"the keras-tuner chief at {ip}:{port} stopped answering ({err} after up to {timeout_s:g} s): "
                           "restart it with --resume, then the workers; --chief-wait sets how long to wait") from None
    finally:
        oracle_client.TIMEOUT = saved
        for name, request in requests.items():
            setattr(client, name, request)


@contextlib.contextmanager
def heartbeats_while_training(search: kt.Tuner, every_s: float = HEARTBEAT_S) -> Iterator[None]:
    """For a worker, around its part of the sweep: while it trains a trial, ask the chief for that trial every
    `every_s`. keras-tuner's workers say nothing between a trial's start and its end, which may be hours apart,
    so without this a chief cannot tell a worker still training from one that is gone (`requeue_lost_workers`).
    A request that fails is left to the worker's own requests to report (`chief_answers_within`)."""
    current: list[str | None] = [None]
    on_trial_begin, on_trial_end = search.on_trial_begin, search.on_trial_end

    def begin(trial):
        current[0] = trial.trial_id
        on_trial_begin(trial)

    def end(trial):
        current[0] = None
        on_trial_end(trial)

    def beat():
        if current[0] is not None:
            with contextlib.suppress(Exception):
                search.oracle.get_trial(current[0])

    def ask(tuner_id):
        trial = create_trial(tuner_id)
        if trial.status == kt.engine.trial.TrialStatus.IDLE:  # nothing to train yet: keras-tuner asks again at once
            time.sleep(every_s)
        return trial

    create_trial = search.oracle.create_trial
    search.on_trial_begin, search.on_trial_end, search.oracle.create_trial = begin, end, ask
    try:
        with _every(every_s, beat, "heartbeat to the chief"):
            yield
    finally:
        search.on_trial_begin, search.on_trial_end, search.oracle.create_trial = on_trial_begin, on_trial_end, create_trial


@contextlib.contextmanager
def requeue_lost_workers(oracle: kt.Oracle, silence_s: float, poll_s: float = 1.0) -> Iterator[None]:
    """For the chief, around its part of the sweep: a worker not heard from for `silence_s` (no request, no
    heartbeat) is taken for lost, with one line; a trial it held goes back to the queue, first in line for the
    next worker that asks. keras-tuner's chief waits for ever for every worker it has seen and every trial it
    handed out, and Hyperband holds back the rest of a bracket for it, so one killed worker stalled the whole
    sweep without a word. 0: wait for ever, as keras-tuner does.

    So that a lost worker's trial has someone to take it, a worker that asks when no new trial is left while
    others still train is told to wait (IDLE) instead of to stop. A worker taken for lost that was only cut
    off and comes back ends its trial as usual: its result counts, and the worker that took the trial over
    trains it again.
    """
    if not silence_s:
        yield
        return
    heard: dict[str, float] = {}
    started = time.monotonic()

    def holder(trial_id) -> str | None:
        return next((tuner for tuner, trial in list(oracle.ongoing_trials.items()) if trial.trial_id == trial_id), None)

    def hearing(method, tuner_of):
        def heard_from(*args, **kwargs):
            tuner = tuner_of(*args, **kwargs)
            if tuner is not None:
                heard[tuner] = time.monotonic()
            return method(*args, **kwargs)
        return heard_from

    @kt.synchronized
    def create_trial(oracle, tuner_id):
        trial = asking(tuner_id)
        if trial.status == kt.engine.trial.TrialStatus.STOPPED and oracle.ongoing_trials:
            # No new trial, but others are still training: wait, to take one over should its worker be lost.
            oracle.tuner_ids.add(tuner_id)
            trial.status = kt.engine.trial.TrialStatus.IDLE
        return trial

    asking = hearing(oracle.create_trial, lambda tuner_id, *a, **k: tuner_id)
    requests = {"create_trial": functools.partial(create_trial, oracle),
                "update_trial": hearing(oracle.update_trial, lambda trial_id, *a, **k: holder(trial_id)),
                "get_trial": hearing(oracle.get_trial, lambda trial_id, *a, **k: holder(trial_id)),
                "end_trial": hearing(oracle.end_trial, lambda trial, *a, **k: holder(trial.trial_id))}
    for name, request in requests.items():  # on the instance: the chief's server calls these
        setattr(oracle, name, request)

    @kt.synchronized
    def forget_if_silent(oracle, tuner):  # under the oracle's lock, as keras-tuner's own requests are
        silent_s = time.monotonic() - heard.get(tuner, started)
        if tuner not in oracle.tuner_ids or silent_s <= silence_s:
            return
        oracle.tuner_ids.discard(tuner)  # or the chief waits for it before it ends
        trial = oracle.ongoing_trials.pop(tuner, None)
        what = "while it waited for a trial"
        if trial is not None:
            oracle._retry_queue.append(trial.trial_id)  # keras-tuner's own queue: served before any new trial
            what = f"while training trial {trial.trial_id}: the next worker that asks trains the trial again"
        oracle.save()
        print(f"tuner chief: {tuner} not heard from for {silent_s:.0f} s, taken for lost {what} "
              "(--worker-silence sets how long to wait)", file=sys.stderr, flush=True)

    def watch():
        for tuner in list(oracle.tuner_ids):
            forget_if_silent(oracle, tuner)

    try:
        with _every(poll_s, watch, "lost workers"):
            yield
    finally:
        for name in requests:
            delattr(oracle, name)


@contextlib.contextmanager
def _every(period_s: float, action: Callable[[], None], name: str) -> Iterator[None]:
    """Call `action` every `period_s` in a thread of its own while the block runs."""
    stop = threading.Event()

    def loop():
        while not stop.wait(period_s):
            action()

    thread = threading.Thread(target=loop, name=name, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
