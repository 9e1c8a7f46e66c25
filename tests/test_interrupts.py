"""Ctrl-C in the scripts (model.cli.SafeInterrupts): held while TensorFlow's own Python, an import or a
finaliser runs, delivered again when Python drops it, raised as soon as the main thread is back in other
code, so every script still ends with one line and status 130. Each test runs a small script through
`cli.run` in a fresh process and sends it a real SIGINT; none imports TensorFlow: code "inside
TensorFlow" is a function whose module is named tensorflow.*.
"""

import signal
import subprocess
import sys
import textwrap

from conftest import ROOT

INTERRUPTED = "interrupted; no output was left half-written"

SCRIPT = """
import os, signal, sys, threading, time
sys.path.insert(0, {root!r})
from model import cli
{busy_source}
inside_tensorflow = {{"__name__": "tensorflow.python.eager.fake"}}
exec({tensorflow_source!r}, inside_tensorflow)

class Finalised:
    def __del__(self):
        busy(1.0)
        print("finaliser done", flush=True)

class Referent:
    pass

def weakref_callback(ref):
    busy(1.0)
    print("callback done", flush=True)

def ctrl_c_in(seconds):
    threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGINT)).start()

def main():
{body}
    return 0

cli.run(main)
"""

BUSY_SOURCE = """
import time

def busy(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass
"""

TENSORFLOW_SOURCE = BUSY_SOURCE + """
def busy_then_say(seconds):
    busy(seconds)
    print("tensorflow done", flush=True)
"""


def run_script(tmp_path, body: str, sigint=signal.SIG_DFL):
    script = tmp_path / "script.py"
    script.write_text(SCRIPT.format(root=str(ROOT), busy_source=BUSY_SOURCE, tensorflow_source=TENSORFLOW_SOURCE,
                                    body=textwrap.indent(textwrap.dedent(body), "    ")))
    # SIG_DFL: Python's own handler, as from a terminal (whatever the test runner's parent left).
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60,
                          preexec_fn=lambda: signal.signal(signal.SIGINT, sigint))
    return proc.returncode, proc.stdout.splitlines(), proc.stderr.splitlines()


def test_a_ctrl_c_inside_tensorflow_is_held_until_it_returns_then_ends_the_script(tmp_path):
    status, out, err = run_script(tmp_path, """
        ctrl_c_in(0.2)
        inside_tensorflow["busy_then_say"](1.5)  # a function traced, a first operation made: never cut in half
        print("the next line", flush=True)  # the held Ctrl-C comes out of the call before this line runs
        busy(30)
    """)
    assert (status, out, err) == (130, ["tensorflow done"], [INTERRUPTED])


def test_a_ctrl_c_held_too_long_is_raised_wherever_it_is(tmp_path):
    status, out, err = run_script(tmp_path, """
        cli.SafeInterrupts.HOLD_LIMIT_S = 0.5
        ctrl_c_in(0.2)
        inside_tensorflow["busy_then_say"](30)  # code that does not return (a deadlock)
    """)
    assert (status, out, err) == (130, [], [INTERRUPTED])


def test_a_ctrl_c_inside_a_finaliser_is_held_not_swallowed(tmp_path):
    # Raised inside __del__, Python prints "Exception ignored in" and the script went on to the end (status 0).
    status, out, err = run_script(tmp_path, """
        ctrl_c_in(0.2)
        obj = Finalised()
        del obj
        busy(30)
        print("never reached", flush=True)
    """)
    assert (status, out, err) == (130, ["finaliser done"], [INTERRUPTED])


def test_a_ctrl_c_dropped_in_a_weakref_callback_is_delivered_again(tmp_path):
    # The garbage collector runs such callbacks inside any code; an exception raised in one is printed and
    # dropped. One inside the import machinery's once left a module lock broken and counting waiting forever.
    status, out, err = run_script(tmp_path, """
        import weakref
        referent = Referent()
        ref = weakref.ref(referent, weakref_callback)
        ctrl_c_in(0.2)
        del referent
        busy(3)
        print("reached the end", flush=True)
    """)
    assert (status, out, err) == (130, [], [INTERRUPTED])


def test_a_ctrl_c_while_tensorflow_is_imported_stops_at_once(tmp_path):
    # An exception in a module being imported is an import that failed, which Python undoes; holding it
    # kept a Ctrl-C in a script's first seconds waiting for the whole import of TensorFlow (3-8 s).
    (tmp_path / "tensorflow").mkdir()  # a stand-in, found first on the path of this script only
    (tmp_path / "tensorflow" / "__init__.py").write_text(BUSY_SOURCE + "busy(30)\nprint('imported', flush=True)\n")
    status, out, err = run_script(tmp_path, """
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        ctrl_c_in(0.2)
        import tensorflow  # noqa: F401
    """)
    assert (status, out, err) == (130, [], [INTERRUPTED])


def test_what_is_held_inside_imports(tmp_path, monkeypatch):
    from model.cli import SafeInterrupts

    # The import machinery's own code (module locks and their callbacks): held.
    machinery = {"__name__": "_frozen_importlib", "sys": sys}
    exec("def here():\n    return sys._getframe()\n", machinery)
    assert SafeInterrupts.unsafe(machinery["here"]())
    # A module that TensorFlow's running code imports (lazily, while tracing): held, as TensorFlow is.
    (tmp_path / "probe.py").write_text("import sys\nfrom model.cli import SafeInterrupts\n"
                                       "HELD = SafeInterrupts.unsafe(sys._getframe())\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    tensorflow = {"__name__": "tensorflow.python.fake"}
    exec("import importlib\ndef load():\n    return importlib.import_module('probe').HELD\n", tensorflow)
    assert tensorflow["load"]() is True
    # The same module imported by other code: not held.
    sys.modules.pop("probe")
    import probe  # noqa: F401
    assert sys.modules["probe"].HELD is False
    sys.modules.pop("probe")


def test_a_ctrl_c_in_other_code_stops_it_at_once(tmp_path):
    status, out, err = run_script(tmp_path, """
        ctrl_c_in(0.2)
        busy(30)
        print("never reached", flush=True)
    """)
    assert (status, out, err) == (130, [], [INTERRUPTED])


def test_an_ignored_ctrl_c_stays_ignored(tmp_path):
    # A job started with nohup, or with `&` from a script, inherits SIGINT ignored: cli.run leaves it so.
    status, out, err = run_script(tmp_path, """
        ctrl_c_in(0.1)
        busy(0.5)
        print("finished", flush=True)
    """, sigint=signal.SIG_IGN)
    assert (status, out, err) == (0, ["finished"], [])
