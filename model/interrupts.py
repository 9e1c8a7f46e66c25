"""A Ctrl-C that library code caught and dropped still stops the work, at the next safe point.

Python turns Ctrl-C into a KeyboardInterrupt wherever the main thread happens to be. Inside some
library code it is dropped: TensorFlow's C++ `nest.flatten` asks `isinstance` of abstract base
classes, and a KeyboardInterrupt raised there (in `abc`) is turned into an "unraisable" SystemError,
printed as a stray traceback or not at all, and the work goes on (`tests/test_interrupts.py`
reproduces it). Counting 8 recordings interrupted at random moments had run to the end and exited 0
in 3 of 266 tries (README, "The scripts").

`watch` remembers every Ctrl-C as it raises the KeyboardInterrupt and hides the unraisable reports
that carry it or follow from it; each network call (`Detector.score`) and training batch calls `stop_if_interrupted`,
which raises it again if it was lost on the way; `model.cli.run` ends with the one "interrupted" line
and status 130 whatever escapes after a Ctrl-C. Holding the interrupt back until TensorFlow returns
was tried instead and lost Ctrl-Cs of its own under load; this only adds a second chance.
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


def _carries_a_ctrl_c(exc: BaseException | None) -> bool:
    seen = 0
    while exc is not None and seen < 20:
        if isinstance(exc, KeyboardInterrupt):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def _unraisable_hook(previous):
    def hook(unraisable) -> None:
        # After a Ctrl-C: the Ctrl-C itself, dropped where it was raised (stop_if_interrupted raises it
        # again), and the SystemErrors of C code that went on with it pending, are not reported.
        if _raised_at is not None and (_carries_a_ctrl_c(unraisable.exc_value)
                                       or isinstance(unraisable.exc_value, SystemError)):
            return
        previous(unraisable)

    return hook


def watch() -> None:
    """Ctrl-C raises KeyboardInterrupt as before and is remembered. Left alone where Ctrl-C is not
    Python's default (ignored, as in a job a script started in the background, or another handler);
    from the main thread only (Python's rule for signal handlers)."""
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _raise_keyboard_interrupt)
        sys.unraisablehook = _unraisable_hook(sys.unraisablehook)


def interrupted() -> bool:
    """Whether a Ctrl-C has come (whether or not its KeyboardInterrupt got through)."""
    return _raised_at is not None


def stop_if_interrupted() -> None:
    """Raise KeyboardInterrupt if a Ctrl-C came and the work is still going (something dropped it)."""
    if _raised_at is None:
        return
    if os.environ.get(DEBUG_VARIABLE):
        print(f"(a Ctrl-C raised at {_raised_at} was dropped there)", file=sys.stderr)
    raise KeyboardInterrupt
