"""Ctrl-C stops the work at a safe point, not inside TensorFlow's C++.

Python turns Ctrl-C into a KeyboardInterrupt wherever the main thread happens to be, and inside
TensorFlow that is unsafe. Its C++ `nest.flatten` asks `isinstance` of abstract base classes; a
KeyboardInterrupt raised there (in `abc`) becomes an "unraisable" SystemError, printed as a stray
traceback or not at all, and the work goes on (`tests/test_interrupts.py` reproduces it): counting 8
recordings interrupted at random moments had run to the end and exited 0 in 3 of 266 tries (README,
"The scripts"). Raised while an eager tensor was being made, it crashed the process (SIGSEGV, once in
40 tries).

So, once `watch` is on (`model.cli.run` turns it on in every script):
- inside `deferred()` (counting's loop over recordings, each `net.fit` of training) a first Ctrl-C only
  marks the work as interrupted, and the next safe point raises it: `stop_if_interrupted`, called before
  each network call (`Detector.probabilities`) and after each training batch. A second Ctrl-C raises at
  once, wherever the main thread is: the way out if no safe point comes;
- elsewhere (start-up, model loading, decoding clips) Ctrl-C raises at once as in any Python program,
  and should library code drop it, the next safe point raises it again; unraisable reports that carry
  it, or follow from it, are not printed; `model.cli.run` ends with the one "interrupted" line and
  status 130 whatever escapes after a Ctrl-C.
A process that started with Ctrl-C ignored (a job a shell script put in the background) keeps ignoring it.
"""

from __future__ import annotations

import os
import signal
import sys

DEBUG_VARIABLE = "CAPUCHINBIRD_DEBUG_INTERRUPTS"  # set: say where a dropped Ctrl-C had been raised

_ctrl_c_at: str | None = None  # "file:line" where the main thread was when the last Ctrl-C came
_raised = False  # whether that Ctrl-C was raised there as a KeyboardInterrupt (not deferred)
_deferring = 0  # depth of deferred() blocks


def _on_ctrl_c(signum, frame) -> None:
    global _ctrl_c_at, _raised
    first = _ctrl_c_at is None
    _ctrl_c_at = f"{frame.f_code.co_filename}:{frame.f_lineno}" if frame is not None else "?"
    _raised = not (_deferring and first)
    if _raised:
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
        if _ctrl_c_at is not None and (_carries_a_ctrl_c(unraisable.exc_value)
                                       or isinstance(unraisable.exc_value, SystemError)):
            return
        previous(unraisable)

    return hook


def watch() -> None:
    """Turn the above on (from the main thread, before the work starts). Left alone where Ctrl-C is not
    Python's default: ignored, or another handler."""
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _on_ctrl_c)
        sys.unraisablehook = _unraisable_hook(sys.unraisablehook)


def interrupted() -> bool:
    """Whether a Ctrl-C has come (raised, dropped or deferred)."""
    return _ctrl_c_at is not None


def stop_if_interrupted() -> None:
    """A safe point: raise KeyboardInterrupt if a Ctrl-C came and the work is still going (deferred, or
    dropped by library code)."""
    if _ctrl_c_at is None:
        return
    if _raised and os.environ.get(DEBUG_VARIABLE):
        print(f"(a Ctrl-C raised at {_ctrl_c_at} was dropped there)", file=sys.stderr)
    raise KeyboardInterrupt


class deferred:
    """`with deferred():` a first Ctrl-C waits for the next safe point (see the module doc); one still
    waiting when the block ends is raised there."""

    def __enter__(self) -> "deferred":
        global _deferring
        _deferring += 1
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        global _deferring
        _deferring -= 1
        if exc_type is None:
            stop_if_interrupted()
