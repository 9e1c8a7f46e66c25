"""Run an iterator in a background thread, a few items ahead of its consumer.

Decoding (libsndfile, soxr) and the network (TensorFlow) both release the GIL, so decoding the next
block in a thread overlaps it with scoring the current one.

`close()` stops the thread and closes the source (its `finally` blocks run, files close) before it
returns. Call it when the consumer stops early (Ctrl-C, an error): a thread left running inside a
native decoder while the interpreter shuts down can abort the process or print leak warnings
("nanobind: leaked 1 instances!", soxr's). Any reader still running at exit is closed then, too: a
Ctrl-C can land after a reader's thread started and before its caller holds it to close.
"""

from __future__ import annotations

import atexit
import queue
import threading
import weakref
from typing import Iterable, Iterator, TypeVar

T = TypeVar("T")
_DONE = object()
_POLL_S = 0.05


class background(Iterator[T]):
    """Iterate `source` in a daemon thread, at most `depth` items ahead. Exceptions raised by the
    source are re-raised, unchanged, at the consumer's next()."""

    def __init__(self, source: Iterable[T], depth: int = 2):
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(iter(source),), daemon=True)
        _running.add(self)  # before the thread starts, so that exit finds it whatever happens next
        self._thread.start()

    def _put(self, item) -> bool:
        """Queue `item` unless asked to stop first; True when queued."""
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def _run(self, it: Iterator[T]) -> None:
        try:
            for item in it:
                if not self._put((item, None)):
                    break
            else:
                self._put((_DONE, None))
        except BaseException as err:  # forwarded to the consumer
            self._put((_DONE, err))
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()  # a generator's finally blocks run here, in its own thread

    def __next__(self) -> T:
        item, err = self._queue.get()
        if item is _DONE:
            self._queue.put((_DONE, err))  # stay exhausted
            if err is not None:
                raise err
            raise StopIteration
        return item

    def close(self, timeout_s: float = 10.0) -> None:
        """Stop reading ahead, close the source and wait for the thread to end."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def __enter__(self) -> "background[T]":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


_running: weakref.WeakSet = weakref.WeakSet()  # a running reader's thread holds it, so it stays here


@atexit.register
def _close_running() -> None:
    for reader in list(_running):
        reader.close()
