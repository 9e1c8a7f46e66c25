"""What every top-level script shares: quiet start-up, one-line errors and warnings, a clean Ctrl-C."""

from __future__ import annotations

import _thread
import atexit
import importlib.abc
import inspect
import io
import os
import re
import signal
import sys
import threading
import time
import warnings

# Set before TensorFlow is imported anywhere: hide its C++ start-up chatter (warnings stay visible).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# What the MP3 decoder inside libsndfile (mpg123) prints straight to the terminal about damaged or
# truncated files ("Note: Trying to resync...", "[src/libmpg123/parse.c:...] error: Giving up resync").
# The file is reported once, in the project's own words (data_pipeline.audio.decoding), instead.
NATIVE_CHATTER = re.compile(rb"^(Note: |Warning: |Error: |\[src/libmpg123|\[libmpg123|.*libmpg123)")

# TensorFlow 2.21 logs through absl, which prints its start-up INFO lines ("oneDNN custom operations
# are on") before it reads TF_CPP_MIN_LOG_LEVEL. Dropped here as that variable asks: INFO from
# level 1, WARNING from level 2 (the default set above); errors always pass.
ABSL_PREAMBLE = b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
ABSL_LINE = re.compile(rb"^([IW])\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [\w.]+:\d+\] ")


def is_native_chatter(line: bytes, tf_log_level: int) -> bool:
    """Whether a line native code wrote to stderr is noise to drop (see filter_native_stderr)."""
    if NATIVE_CHATTER.match(line):
        return True
    if line.startswith(ABSL_PREAMBLE):
        return tf_log_level >= 1
    level = ABSL_LINE.match(line)
    return level is not None and tf_log_level >= {b"I": 1, b"W": 2}[level.group(1)]


class KerasWithoutSklearn(importlib.abc.MetaPathFinder):
    """Keeps Keras from importing scikit-learn while Keras itself is imported.

    Keras imports scikit-learn (and with it SciPy's statistics) at start-up whenever it is installed,
    only for its scikit-learn wrappers, which this project never uses; that was a quarter of the CPU time of
    `import keras` (TensorFlow with it) here (README, "Throughput"). Keras's wrapper modules import it inside
    try/except ImportError and carry on without it; every other import of scikit-learn (cross-validation,
    the t-SNE plot) goes ahead as usual, whenever it comes.
    """

    IMPORTERS = "keras.src.wrappers."

    def find_spec(self, name, path=None, target=None):
        if name != "sklearn":
            return None
        frame = sys._getframe(1)
        while frame is not None:
            if str(frame.f_globals.get("__name__", "")).startswith(self.IMPORTERS):
                raise ModuleNotFoundError("scikit-learn is left out of Keras's start-up (model.cli)", name=name)
            frame = frame.f_back
        return None


def start_keras_without_sklearn() -> None:
    """Install KerasWithoutSklearn (once; before TensorFlow or Keras is imported, or it changes nothing)."""
    if not any(isinstance(finder, KerasWithoutSklearn) for finder in sys.meta_path):
        sys.meta_path.insert(0, KerasWithoutSklearn())


def run(main) -> None:
    """Call `main()`; an expected problem (missing file, bad setting, undecodable audio, a server that
    never answered) exits with one line 'error: ...' and status 2 instead of a traceback. `main` returns
    the exit status."""
    from data_pipeline.audio.decoding import AudioDecodeError

    filter_native_stderr()
    start_keras_without_sklearn()
    warnings.showwarning = _one_line_warning
    interrupts = SafeInterrupts.install()
    try:
        sys.exit(main() or 0)
    except (FileNotFoundError, FileExistsError, NotADirectoryError, ValueError, TimeoutError, AudioDecodeError) as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted; no output was left half-written", file=sys.stderr)
        sys.exit(130)
    finally:
        if interrupts is not None:
            interrupts.uninstall()


class SafeInterrupts:
    """A Ctrl-C handler that raises KeyboardInterrupt only where Python can unwind cleanly.

    Python raises KeyboardInterrupt at whatever line the main thread runs next. Counting a few recordings
    and sending Ctrl-C 0-2 s after the model loaded, 120 times, found two places where that goes wrong:
    inside TensorFlow's own Python (tracing the network, a C++ call back into Python) it ended in
    `SystemError: <built-in function __import__> returned a result with an exception set`; inside a
    callback of the import machinery, run by the garbage collector, it was printed as "Exception ignored"
    and dropped, and it left a module lock broken, so the decoding thread waited for it forever and so did
    counting. So a Ctrl-C that lands inside TensorFlow's running code, the import machinery or a finaliser
    is held (`unsafe`): it is raised the moment that code returns into other code (a profile hook watches
    returns while one is held), or when a retry every `RETRY_S` finds the main thread elsewhere. One that
    Python drops anyway (raised in a weakref callback, whose frames name nothing) comes back through
    `sys.unraisablehook` and is held the same way. The script then ends with `run`'s one line and status
    130. Held for `HOLD_LIMIT_S`, it is raised wherever it lands: a way out of code that never returns.
    """

    RETRY_S = 0.02
    HOLD_LIMIT_S = 10.0
    IMPORT_MACHINERY = ("importlib", "_frozen_importlib", "_frozen_importlib_external")
    UNSAFE_MODULES = ("tensorflow", *IMPORT_MACHINERY)
    SUSPENDABLE = inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR  # "return" = a yield

    def __init__(self):
        self.held = threading.Event()
        self.held_since = 0.0
        self.retrier: threading.Thread | None = None
        self.delivered_again = False
        self.previous_unraisablehook = sys.unraisablehook
        self.previous_profile = None

    @classmethod
    def install(cls) -> "SafeInterrupts | None":
        """Take over SIGINT from Python's default handler (not from one a caller set, nor where it is
        ignored, as for a `nohup` job); None when not installed (also off the main thread)."""
        if threading.current_thread() is not threading.main_thread():
            return None
        if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
            return None
        handler = cls()
        signal.signal(signal.SIGINT, handler.on_sigint)
        sys.unraisablehook = handler.on_unraisable
        return handler

    def uninstall(self) -> None:
        self.release()
        if self.retrier is not None:
            self.retrier.join()  # so that no held Ctrl-C reaches the handler restored below
        if signal.getsignal(signal.SIGINT) == self.on_sigint:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        if sys.unraisablehook == self.on_unraisable:
            sys.unraisablehook = self.previous_unraisablehook

    @staticmethod
    def top_module(frame) -> str:
        return str(frame.f_globals.get("__name__", "")).split(".", 1)[0]

    @classmethod
    def unsafe(cls, frame) -> bool:
        """Whether the main thread, stopped at `frame`, is inside TensorFlow's running code, the import
        machinery's own bookkeeping or a finaliser. TensorFlow being imported (its module code, below an
        import of other code) is not: an exception there is an import that failed, which Python undoes,
        and holding it kept a Ctrl-C in a script's first seconds waiting for the whole import (3-8 s)."""
        if cls.top_module(frame) in cls.IMPORT_MACHINERY:
            return True
        chain = []
        while frame is not None:
            if frame.f_code.co_name == "__del__":
                return True
            chain.append(cls.top_module(frame))
            frame = frame.f_back
        importing = [i for i, module in enumerate(chain) if module in cls.IMPORT_MACHINERY]
        importers = chain[importing[-1] + 1:] if importing else chain  # the frames that started the outermost import
        return "tensorflow" in importers

    def on_sigint(self, signum, frame) -> None:
        again, self.delivered_again = self.delivered_again, False
        if again and not self.held.is_set():
            return  # a held Ctrl-C sent again just as it was raised: one KeyboardInterrupt is enough
        overdue = self.held.is_set() and time.monotonic() - self.held_since > self.HOLD_LIMIT_S
        if self.unsafe(frame) and not overdue:
            self.hold()
            return
        self.release()
        raise KeyboardInterrupt

    def on_unraisable(self, unraisable) -> None:
        if issubclass(unraisable.exc_type, KeyboardInterrupt):
            self.hold()  # raised, then dropped by Python: deliver it again
        else:
            self.previous_unraisablehook(unraisable)

    def on_profile_event(self, frame, event, arg) -> None:
        """While a Ctrl-C is held: raise it as TensorFlow or the import machinery returns into other code
        (it then comes out of the call, as if raised on the caller's line)."""
        if event != "return" or not self.held.is_set() or self.top_module(frame) not in self.UNSAFE_MODULES:
            return
        if frame.f_code.co_flags & self.SUSPENDABLE or self.unsafe(frame.f_back):
            return
        self.release()
        raise KeyboardInterrupt

    def hold(self) -> None:
        if self.held.is_set():
            return
        self.held_since = time.monotonic()
        self.held.set()
        if threading.current_thread() is threading.main_thread():
            self.previous_profile = sys.getprofile()
            sys.setprofile(self.on_profile_event)
        self.retrier = threading.Thread(target=self._deliver_again, name="held-ctrl-c", daemon=True)
        self.retrier.start()

    def release(self) -> None:
        self.held.clear()
        if threading.current_thread() is threading.main_thread() and sys.getprofile() == self.on_profile_event:
            sys.setprofile(self.previous_profile)

    def _deliver_again(self) -> None:
        while self.held.is_set():
            time.sleep(self.RETRY_S)
            if self.held.is_set():
                self.delivered_again = True
                _thread.interrupt_main(signal.SIGINT)


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    from data_pipeline.audio.decoding import AudioWarning

    if issubclass(category, AudioWarning):
        print(f"warning: {message}", file=sys.stderr)
    else:
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def filter_native_stderr() -> None:
    """Drop the MP3 decoder's and TensorFlow's chatter (is_native_chatter) from what native code
    writes to stderr.

    Native libraries write to file descriptor 2 directly. It becomes a pipe that a thread reads,
    forwarding every other line to the real stderr; Python's own sys.stderr writes to the real one
    directly, so progress bars and messages are neither filtered nor delayed. At exit the pipe is
    drained and stderr restored.
    """
    if getattr(filter_native_stderr, "installed", False):
        return
    try:
        real = os.dup(2)
        read_end, write_end = os.pipe()
    except OSError:
        return
    sys.stderr.flush()
    os.dup2(write_end, 2)
    os.close(write_end)
    sys.stderr = io.TextIOWrapper(io.FileIO(real, "w", closefd=False), errors="backslashreplace", write_through=True)

    try:
        tf_log_level = int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0"))
    except ValueError:
        tf_log_level = 0

    def forward():
        pending = b""
        while chunk := os.read(read_end, 65536):
            lines = (pending + chunk).split(b"\n")
            pending = lines.pop()
            kept = [line for line in lines if not is_native_chatter(line, tf_log_level)]
            if kept:
                os.write(real, b"\n".join(kept) + b"\n")
        if pending and not is_native_chatter(pending, tf_log_level):
            os.write(real, pending)

    thread = threading.Thread(target=forward, name="stderr-filter", daemon=True)
    thread.start()

    def restore():
        os.dup2(real, 2)  # closes the pipe's last write end: the reader drains it and stops
        thread.join(2.0)

    atexit.register(restore)
    filter_native_stderr.installed = True
