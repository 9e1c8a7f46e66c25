"""The layout's promises, checked from the source: no import loops, and each role imports only
the roles before it in the data flow (audio -> features -> labels -> training data; detection ->
reporting -> learning), so a newcomer can read the packages in that order."""

import ast
from pathlib import Path

from conftest import ROOT

PACKAGES = ("data_pipeline", "model")
# A role may import from itself and from the roles listed before it; never from a later one.
ROLE_ORDER = {
    "data_pipeline": ["audio", "features", "labels", "training_data", "synthetic"],
    "model": ["outputs", "interrupts", "cli", "layers", "detection", "reporting", "learning", "review"],
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)

def import_graph() -> dict[str, set[str]]:
    """Every project module -> the project modules it imports (at any depth of the file)."""
    modules = {_module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:  # `from pkg import module` names a module, not an attribute
                    full = f"{node.module}.{alias.name}"
                    targets.add(full if full in modules else node.module)
            elif isinstance(node, ast.Import):
                targets.update(a.name for a in node.names)
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph

def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None

def test_no_import_loops():
    assert _cycle(import_graph()) is None, " -> ".join(_cycle(import_graph()))

def test_cycle_finder_finds_a_loop():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]

def test_data_pipeline_never_imports_model():
    bad = [(m, t) for m, ts in import_graph().items() if m.startswith("data_pipeline") for t in ts if t.startswith("model")]
    assert not bad, bad

def _role(module: str) -> tuple[str, int] | None:
    pkg, *rest = module.split(".")
    if not rest or pkg not in ROLE_ORDER:
        return None
    order = ROLE_ORDER[pkg]
    assert rest[0] in order, f"{module}: {pkg}/{rest[0]} is not a role the layout knows; add it to ROLE_ORDER and the README"
    return pkg, order.index(rest[0])

def test_roles_import_only_earlier_roles():
    bad = []
    for module, targets in import_graph().items():
        here = _role(module)
        for target in targets:
            there = _role(target)
            if here and there and here[0] == there[0] and there[1] > here[1]:
                bad.append(f"{module} imports {target}")
    assert not bad, bad

def test_no_source_file_is_ignored_by_git():
    # .gitignore's `submission*` (count_calls.py's outputs) once hid model/reporting/submission.py: every test
    # passed here while a fresh clone could not import it.
    import shutil
    import subprocess

    import pytest

    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    sources = [str(p.relative_to(ROOT)) for p in ROOT.glob("*.py")]
    sources += [str(p.relative_to(ROOT)) for pkg in (*PACKAGES, "tests", "benchmarks") for p in (ROOT / pkg).rglob("*")
                if p.suffix in (".py", ".html") and "__pycache__" not in p.parts]
    ignored = subprocess.run(["git", "check-ignore", "--no-index", "--stdin"], cwd=ROOT, input="\n".join(sources),
                             capture_output=True, text=True).stdout.split()
    assert not ignored, f"ignored by .gitignore, so missing from a fresh clone: {ignored}"


def test_the_tfio_leg_collects_every_file_with_a_tfio_or_environment_test():
    """`make test-tfio` collects only the files named in the Makefile's TFIO_TESTS: a tfio or environment test
    written in another file would never run in the tensorflow-io environment."""
    import re

    makefile = (ROOT / "Makefile").read_text()
    named = set(re.search(r"^TFIO_TESTS = (.+)$", makefile, re.M).group(1).split())
    marked = {f"tests/{p.name}" for p in (ROOT / "tests").glob("test_*.py")
              if re.search(r"mark\.(tfio|environment)\b", p.read_text())}
    assert marked == named, (marked, named)
