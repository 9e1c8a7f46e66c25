"""How a script ends (model.cli.run): its status, its last native stderr lines and its exit handlers all
come through, while the objects left are kept out of the garbage collector's passes at shutdown."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent("""
    import atexit, gc, os, sys
    sys.path.insert(0, {root!r})
    from model import cli

    def at_exit():
        with open({report!r}, "w") as f:
            f.write(str(gc.get_freeze_count()))

    def main():
        atexit.register(at_exit)
        cycle = [];  cycle.append(cycle)  # something for the collector to pass over
        os.write(2, b"written by native code\\n")  # through the stderr filter's pipe
        if {fail!r}:
            raise ValueError("a setting out of range")
        return 3

    cli.run(main)
""")


@pytest.mark.parametrize("fail", [False, True])
def test_a_script_exits_with_its_status_and_handlers_but_no_collection(tmp_path, fail):
    report = tmp_path / "frozen.txt"
    script = tmp_path / "script.py"
    script.write_text(SCRIPT.format(root=str(ROOT), report=str(report), fail=fail))
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    expected_err = ["written by native code"] + (["error: a setting out of range"] if fail else [])
    # sorted: the filter's thread forwards native lines while Python's own go straight to stderr
    assert (proc.returncode, sorted(proc.stderr.splitlines())) == (2 if fail else 3, sorted(expected_err))
    assert int(report.read_text()) > 0  # the handlers ran after the objects were frozen
