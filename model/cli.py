"""What every top-level script shares: quiet start-up, one-line errors and warnings, a clean Ctrl-C."""

from __future__ import annotations

import atexit
import importlib.abc
import io
import os
import re
import sys
import threading
import warnings
from pathlib import Path

# Set before TensorFlow is imported anywhere: hide its C++ start-up chatter (warnings stay visible).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# What --labels takes, wherever a script takes labels (data_pipeline.labels.annotations reads them).
LABELS_HELP = ("labelled calls: a CSV recording,start,end[,confidence], a Raven selection table, an Audacity label track "
               "(<recording stem>.labels.txt), or a folder of tables and tracks")

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


class KerasWithoutExtras(importlib.abc.MetaPathFinder):
    """Keeps Keras from importing scikit-learn and matplotlib while Keras itself is imported.

    Keras imports both at start-up whenever they are installed, only for code this project never uses:
    scikit-learn (and with it SciPy's statistics) for its scikit-learn wrappers, a quarter of the CPU time of
    `import keras` (TensorFlow with it) here; matplotlib's pyplot for its image galleries, a fifth of what was
    left (docs/throughput.md, "Start-up, and GPU options"). Keras's modules import them inside try/except
    ImportError and carry on without them; every other import (cross-validation, the t-SNE plot, the project's
    own plots) goes ahead as usual, whenever it comes.
    """

    LEFT_OUT = {"sklearn": "keras.src.wrappers.", "matplotlib": "keras.src.visualization."}  # module: importers

    def find_spec(self, name, path=None, target=None):
        importers = self.LEFT_OUT.get(name)
        if importers is None:
            return None
        frame = sys._getframe(1)
        while frame is not None:
            if str(frame.f_globals.get("__name__", "")).startswith(importers):
                raise ModuleNotFoundError(f"{name} is left out of Keras's start-up (model.cli)", name=name)
            frame = frame.f_back
        return None


def start_keras_without_extras() -> None:
    """Install KerasWithoutExtras (once; before TensorFlow or Keras is imported, or it changes nothing)."""
    if not any(isinstance(finder, KerasWithoutExtras) for finder in sys.meta_path):
        sys.meta_path.insert(0, KerasWithoutExtras())


def run(main) -> None:
    """Call `main()`; an expected problem (missing file, bad setting, undecodable audio, a server that
    never answered) exits with one line 'error: ...' and status 2 instead of a traceback. `main` returns
    the exit status."""
    from data_pipeline.audio.decoding import AudioDecodeError
    from model import interrupts

    interrupts.watch()
    filter_native_stderr()
    start_keras_without_extras()
    warnings.showwarning = _one_line_warning
    try:
        sys.exit(main() or 0)
    except SystemExit:
        raise
    except BaseException as err:
        # After a Ctrl-C, whatever escapes is the interruption: library code that dropped the
        # KeyboardInterrupt may fail on its own half-done work before the next check (model.interrupts).
        if isinstance(err, KeyboardInterrupt) or interrupts.interrupted():
            print("interrupted; no output was left half-written", file=sys.stderr)
            sys.exit(130)
        if isinstance(err, (FileNotFoundError, FileExistsError, NotADirectoryError, ValueError, TimeoutError,
                            AudioDecodeError)):
            print(f"error: {err}", file=sys.stderr)
            sys.exit(2)
        raise
    finally:
        skip_collection_at_exit()


def skip_collection_at_exit() -> None:
    """Leave the objects alive now out of the garbage collector's passes while the interpreter shuts down.

    With TensorFlow imported those passes took 0.8-0.9 s of every script's exit, however little it had done
    (docs/throughput.md, "Start-up"); the operating system frees the memory anyway. Exit handlers still run (the
    stderr filter drains, readers close), and so does every object's cleanup that reference counting
    triggers; only objects kept alive by reference cycles are left unfinalised: this project closes its
    files, writers and clients explicitly before it returns.
    """
    import gc

    gc.freeze()


class OneLineWarning(UserWarning):
    """A warning for the person running a script, printed as one line 'warning: ...' (as AudioWarning is;
    that one lives in data_pipeline, which never imports model)."""


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    from data_pipeline.audio.decoding import AudioWarning

    if issubclass(category, (AudioWarning, OneLineWarning)):
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
    # Line-buffered as Python's own stderr is, so that a line goes out in one write: print() writes the text and
    # its newline apart, and a native line forwarded between the two was spliced into it.
    sys.stderr = io.TextIOWrapper(io.BufferedWriter(io.FileIO(real, "w", closefd=False)), errors="backslashreplace",
                                  line_buffering=True)

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


def file_to_write(value: str) -> Path:
    """An argparse type for an option naming a file to write (--output): a folder there, or a name ending in a
    slash, is refused in one line before any work, where the write at the end would fail after all of it."""
    import argparse

    if value.endswith(("/", os.sep)) or Path(value).is_dir():
        raise argparse.ArgumentTypeError(f"{value} is a folder; give the file to write, e.g. "
                                         f"{Path(value) / 'counts.csv'}")
    return Path(value)
