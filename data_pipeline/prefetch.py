"""Run an iterator in a background thread, a few items ahead of its consumer.

Decoding (libsndfile, soxr) and the network (TensorFlow) both release the GIL, so decoding the next
block in a thread overlaps it with scoring the current one.
"""

from __future__ import annotations

import queue
import threading
from typing import Iterable, Iterator, TypeVar

T = TypeVar("T")
_DONE = object()


class background(Iterator[T]):
    """Iterate `source` in a daemon thread, at most `depth` items ahead. Exceptions raised by the
    source are re-raised, unchanged, at the consumer's next()."""

    def __init__(self, source: Iterable[T], depth: int = 2):
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._thread = threading.Thread(target=self._run, args=(iter(source),), daemon=True)
        self._thread.start()

    def _run(self, it: Iterator[T]) -> None:
        try:
            for item in it:
                self._queue.put((item, None))
        except BaseException as err:  # forwarded to the consumer
            self._queue.put((_DONE, err))
            return
        self._queue.put((_DONE, None))

    def __next__(self) -> T:
        item, err = self._queue.get()
        if item is _DONE:
            self._queue.put((_DONE, err))  # stay exhausted
            if err is not None:
                raise err
            raise StopIteration
        return item
