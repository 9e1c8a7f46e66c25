"""Decode the first recordings in a second process while the counting process starts up.

`count_calls.py` spends its first seconds importing TensorFlow and loading the model, on one core: the
other idles. Threads cannot use it then (the import holds the GIL; decoding in threads started before the
import made the import slower by as much as it gained: docs/throughput.md, "Start-up"), so a process of its own does:
it decodes recordings in order, exactly as `stream_audio` does for the counting loop, and hands over the
blocks of each recording it finished cleanly. It stops when counting begins (`stop`) or when it has
decoded `budget_s` of audio, so what it holds stays bounded however long the recordings are.

Anything unusual (a decode error, a warning such as a truncated file, a recording longer than what is
left of the budget, the process gone) leaves that recording to the counting process, which decodes it
itself as it always has: errors and warnings are said once, in the usual words, by the usual code.

The process is a plain subprocess speaking over its stdin and stdout, not `multiprocessing`: that one's
helper process (its resource tracker) outlives the work and keeps the counting process's stderr filter
(model.cli) from closing at exit.
"""

from __future__ import annotations

import os
import queue
import struct
import subprocess
import sys
import threading
from collections import deque
from pathlib import Path
from typing import Iterator

import numpy as np

from data_pipeline.audio.decoding import AudioDecodeError, audio_duration_s, stream_audio

# Audio decoded before counting begins, at most: 40 minutes, 154 MB of 16 kHz float32 held at most. Start-up took
# 2.7-3.1 s here, in which the second process decoded about 12 of the 3-minute forest MP3s; 30 minutes was slower
# end to end, 60 no faster (README, "Throughput").
STARTUP_BUDGET_S = 2400.0

# One message: kind, recording index, payload bytes; then the payload (float32 samples for BLOCK).
_HEADER = struct.Struct("<BiQ")
BLOCK, DONE, SKIP, END = range(4)
# How long a process that has finished its recordings may take to exit before close() ends it (a loaded machine's exit
# can take seconds; one still decoding what counting no longer needs is ended at once).
_EXIT_GRACE_S = 10.0
_ROOT = Path(__file__).resolve().parents[2]


def _within_budget(paths: list[str | os.PathLike], budget_s: float) -> list[str | os.PathLike]:
    """The first recordings whose durations (from their headers) add up to at most `budget_s`; up to the first
    whose header cannot be read."""
    taken, total_s = [], 0.0
    for path in paths:
        try:
            total_s += audio_duration_s(path)
        except (AudioDecodeError, OSError):
            break
        if total_s > budget_s:
            break
        taken.append(path)
    return taken


class StartupDecoder:
    """Decodes `paths` in a second process from now until `stop()`; `blocks(path)` gives a recording's
    blocks as `stream_audio(path, sample_rate_hz)` would, from that process where it finished the recording,
    else by decoding it here. Close it (or use it as a context manager) to end the process."""

    def __init__(self, paths: list[str | os.PathLike], sample_rate_hz: int, budget_s: float = STARTUP_BUDGET_S):
        self.sample_rate_hz = sample_rate_hz
        paths = _within_budget(paths, budget_s)
        self._index = {Path(p): i for i, p in enumerate(paths)}
        self._blocks: dict[int, deque] = {}
        self._verdicts: dict[int, int] = {}
        self._end: int | None = None  # the first index the process leaves alone, once known (-1: it is gone)
        self._changed = threading.Condition()
        code = f"import sys; sys.path.insert(0, {str(_ROOT)!r}); from {__name__} import _decode; _decode()"
        self._process = subprocess.Popen(
            [sys.executable, "-c", code, str(sample_rate_hz), str(budget_s), *map(str, paths)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, start_new_session=True)  # Ctrl-C is counting's to handle
        self._receiver = threading.Thread(target=self._receive, name="startup-decoder-receiver", daemon=True)
        self._receiver.start()

    def _receive(self) -> None:
        stream = self._process.stdout
        try:
            while header := stream.read(_HEADER.size):
                kind, i, size = _HEADER.unpack(header)
                payload = stream.read(size) if size else b""
                if len(payload) != size:
                    break
                with self._changed:
                    if kind == BLOCK:
                        self._blocks.setdefault(i, deque()).append(np.frombuffer(payload, np.float32))
                    elif kind in (DONE, SKIP):
                        self._verdicts[i] = kind
                        if kind == SKIP:
                            self._blocks.pop(i, None)
                    else:
                        self._end = i
                    self._changed.notify_all()
                if kind == END:
                    return
        except (OSError, ValueError, struct.error):
            pass
        with self._changed:  # gone without a word: every recording it did not finish is counting's to decode
            self._end = -1
            self._changed.notify_all()

    def _finished(self, i: int) -> bool:
        """Whether recording i is all here (waits for the process to finish or leave it)."""
        with self._changed:
            while i not in self._verdicts:
                if self._end is not None and (self._end < 0 or i >= self._end):
                    return False
                self._changed.wait()
            return self._verdicts[i] == DONE

    def blocks(self, path: str | os.PathLike) -> Iterator[np.ndarray]:
        i = self._index.get(Path(path))
        if i is not None and self._finished(i):
            with self._changed:
                held = self._blocks.pop(i, deque())
                for earlier in [j for j in self._blocks if j < i]:  # recordings counting did not ask for (resumed)
                    del self._blocks[earlier]
            while held:
                yield held.popleft()
        else:
            yield from stream_audio(path, self.sample_rate_hz)

    def stop(self) -> None:
        """Decode nothing more after the recording in hand: counting's own readers take over."""
        try:
            self._process.stdin.close()
        except OSError:
            pass

    def close(self) -> None:
        self.stop()
        with self._changed:
            done = (self._end is not None and self._end >= 0) or len(self._verdicts) == len(self._index)
        if done:  # its work is done and it is exiting: let it, rather than end it half way through its exit
            try:
                self._process.wait(timeout=_EXIT_GRACE_S)
            except subprocess.TimeoutExpired:
                pass
        if self._process.poll() is None:
            self._process.terminate()
        self._process.wait()
        self._receiver.join()
        self._process.stdout.close()
        with self._changed:
            self._blocks.clear()

    def __enter__(self) -> "StartupDecoder":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _decode() -> None:
    """The second process: argv is the rate, the budget and the paths. Decodes in one thread, writes in
    another (a full pipe must not stall decoding), and stops at the recording in hand once stdin closes."""
    import warnings

    rate, budget_s, paths = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3:]
    out = os.fdopen(sys.stdout.fileno(), "wb", closefd=False)  # buffered: writes a whole block, however the pipe takes it
    stop = threading.Event()
    outbox: queue.Queue = queue.Queue()

    def write() -> None:
        try:
            while (message := outbox.get()) is not None:
                header, samples = message
                out.write(header)
                if samples is not None:
                    out.write(memoryview(samples).cast("B"))
                out.flush()
        except (BrokenPipeError, OSError):  # the counting process is gone
            stop.set()

    def wait_for_stop() -> None:
        while os.read(0, 4096):  # unbuffered: no lock for the interpreter's exit to find held
            pass
        stop.set()

    def send(kind: int, i: int, samples: np.ndarray | None = None) -> None:
        if samples is not None:
            samples = np.ascontiguousarray(samples, np.float32)
        outbox.put((_HEADER.pack(kind, i, 0 if samples is None else samples.nbytes), samples))

    writer = threading.Thread(target=write)
    writer.start()
    threading.Thread(target=wait_for_stop, daemon=True).start()
    decoded_s, i = 0.0, 0
    for i, path in enumerate(paths):
        if stop.is_set():
            break
        verdict = DONE
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                for block in stream_audio(path, rate):
                    send(BLOCK, i, block)
                    decoded_s += len(block) / rate
                    if decoded_s > budget_s:
                        verdict = SKIP  # longer than its header said: the counting process reads it itself
                        break
            if caught:
                verdict = SKIP
        except Exception:  # noqa: BLE001 - the counting process decodes it again and says what is wrong
            verdict = SKIP
        send(verdict, i)
    else:
        i = len(paths)
    send(END, i)
    outbox.put(None)
    writer.join()
