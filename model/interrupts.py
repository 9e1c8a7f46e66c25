"""A Ctrl-C that library code caught and dropped still stops the work, at the next safe point.

Python turns Ctrl-C into a KeyboardInterrupt wherever the main thread happens to be. Inside some
library code (TensorFlow, Keras, a finaliser) it can be caught and dropped: a count of 8 recordings
interrupted at random moments ran to the end and exited 0 in 3 of 266 tries (README, "The scripts").
`watch` remembers every Ctrl-C as it raises the KeyboardInterrupt, and loops that run for long
(each batch of windows counting scores) call `stop_if_interrupted`, which raises it again if it
was lost on the way. Holding the interrupt back instead (until TensorFlow returns) was tried and
lost Ctrl-Cs of its own under load; this only adds a second chance.
"""

from __future__ import annotations

import os
import signal
import sys

DEBUG_VARIABLE = "CAPUCHINBIRD_DEBUG_INTERRUPTS"  # set: say where a dropped Ctrl-C had been raised

_raised_at: str | None = None  # "file:line" of the last Ctrl-C's KeyboardInterrupt, once there was one


def _raise_keyboard_interrupt(signum, frame) -> None:
    global _raised_at
    _raised_at = f"{frame.f_code.co_filename}:{frame.f_lineno}" if frame is not None else "?"
    raise KeyboardInterrupt


def watch() -> None:
    """Ctrl-C raises KeyboardInterrupt as before and is remembered. Left alone where Ctrl-C is not
    Python's default (ignored, as in a job a script started in the background, or another handler);
    from the main thread only (Python's rule for signal handlers)."""
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _raise_keyboard_interrupt)


def stop_if_interrupted() -> None:
    """Raise KeyboardInterrupt if a Ctrl-C came and the work is still going (something dropped it)."""
    if _raised_at is None:
        return
    if os.environ.get(DEBUG_VARIABLE):
        print(f"(a Ctrl-C raised at {_raised_at} was dropped there)", file=sys.stderr)
    raise KeyboardInterrupt
