"""Every benchmark script still starts: it imports what it names and parses its options.

The benchmarks are the commands behind every figure in the README and docs/, run by hand, mostly on real data
and for minutes; a module moved or a function renamed would break one unnoticed until someone tried to repeat
a figure. Each script imports its dependencies at the top of main(), before parsing, so `--help` reaches them.
"""

import contextlib
import importlib
import io
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# backend_check.py chooses Keras' backend (PyTorch) as it is imported, which this process cannot undo.
SCRIPTS = sorted(p.stem for p in (ROOT / "benchmarks").glob("*.py") if p.stem != "backend_check")


@pytest.mark.parametrize("name", SCRIPTS)
def test_a_benchmark_imports_what_it_names_and_prints_its_usage(name, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    monkeypatch.setattr(sys, "argv", [f"benchmarks/{name}.py", "--help"])
    script = importlib.import_module(name)
    shown = io.StringIO()
    with contextlib.redirect_stdout(shown), pytest.raises(SystemExit) as exit_:
        script.main()
    assert exit_.value.code == 0
    assert shown.getvalue().startswith("usage:") and f"{name}.py" in shown.getvalue()


def test_every_benchmark_is_checked():
    assert len(SCRIPTS) >= 30 and "count_throughput" in SCRIPTS and "robustness" in SCRIPTS
