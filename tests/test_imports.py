"""The package's import graph, read from the source (`ast`): no cycles, and every tie one way.

Every import counts, a function's deferred ones too: a tie that runs the wrong way is one whether
it runs at import time or later.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("helpers", "benchmarks")
TENSORFLOW = ("keras", "tensorflow")
QUIET = "helpers.quiet_tensorflow"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def sources() -> dict[str, ast.Module]:
    """Every module of the packages, parsed, by dotted name."""
    return {
        module_name(path): ast.parse(path.read_text(), str(path))
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
    }


def imported_names(tree: ast.Module) -> list[str]:
    """The dotted names a module imports, `from a import b` as a.b where b is a module."""
    modules = sources()
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
            names += [
                f"{node.module}.{alias.name}"
                for alias in node.names
                if f"{node.module}.{alias.name}" in modules
            ]
    return names


@cache
def graph() -> dict[str, set[str]]:
    """Module -> the modules of the packages it imports."""
    modules = sources()
    return {
        name: {imported for imported in imported_names(tree) if imported in modules} - {name}
        for name, tree in modules.items()
    }


def reachable(start: str) -> set[str]:
    """Every module that importing `start` may import, through any chain of imports."""
    seen, todo = set(), [start]
    while todo:
        for module in graph()[todo.pop()] - seen:
            seen.add(module)
            todo.append(module)
    return seen


def under(name: str, *prefixes: str) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as [a, b, ..., a], or None."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for successor in sorted(edges[node]):
            if state.get(successor) == "open":
                return stack[stack.index(successor) :] + [successor]
            if successor not in state and (cycle := visit(successor)):
                return cycle
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycles():
    # A package's __init__ that re-exports its modules is not a cycle with them: no module
    # here imports its own package back.
    assert find_cycle(graph()) is None


def test_a_saved_model_is_used_without_the_training_code():
    users = ("helpers.modeling.inference", "helpers.modeling.explain", "helpers.modeling.export")
    for module in (name for name in graph() if under(name, *users)):
        training = {m for m in reachable(module) if under(m, "helpers.modeling.training")}
        assert not training, f"{module} imports the training code: {sorted(training)}"


def test_figures_read_a_history_they_do_not_train():
    assert not {m for m in reachable("helpers.plots") if under(m, "helpers.modeling.training")}


def test_the_data_side_imports_no_model_code():
    data_side = (
        "helpers.dataset",
        "helpers.pipeline",
        "helpers.augmentation",
        "helpers.image_check",
        "helpers.make_data",
    )
    for module in (name for name in graph() if under(name, *data_side)):
        model_code = {m for m in reachable(module) if under(m, "helpers.modeling")}
        assert not model_code, f"{module} imports model code: {sorted(model_code)}"


def test_the_library_imports_neither_the_programs_nor_the_benchmarks():
    for module in (
        name for name in graph() if under(name, "helpers") and not under(name, "helpers.cli")
    ):
        wrong = {m for m in graph()[module] if under(m, "helpers.cli", "benchmarks")}
        assert not wrong, f"{module} imports {sorted(wrong)}"


def test_argparse_lives_in_the_programs_only():
    for name, tree in sources().items():
        if under(name, "helpers") and not under(name, "helpers.cli"):
            assert "argparse" not in imported_names(tree), f"{name} parses a command line"


def test_modules_that_import_tensorflow_import_it_quietly_first():
    """TensorFlow's first import sets oneDNN and filters its log lines (helpers.quiet_tensorflow):
    a module that imports keras or tensorflow at its top imports that module before them."""
    for name, tree in sources().items():
        top = [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
        names = [imported_names(ast.Module(body=[node], type_ignores=[])) for node in top]
        order = [n for group in names for n in group]
        uses = [i for i, n in enumerate(order) if n.split(".")[0] in TENSORFLOW]
        if uses:
            assert QUIET in order and order.index(QUIET) < uses[0], name


# One process for all: each check below is sequential, so any of them loading TensorFlow shows.
LIGHT_MODULES = [
    "helpers.config",
    "helpers.cli.predict",
    "helpers.cli.export",
    "helpers.cli.run_all",
    "helpers.cli.data",
    "helpers.cli.lab",
    # run-all's own process runs the notebooks, which import TensorFlow in their kernels: a kill
    # and a re-run (tests/test_end_to_end.py) pay for its import once, not twice.
    "helpers.series",
]
WRONG_ARGUMENTS = [
    ("predict", [], "name at least one image file"),
    ("predict", ["a.jpg", "--model", "nothing.keras"], "no model file at nothing.keras"),
    ("export", ["--runs", "0"], "--max-images and --runs must be at least 1"),
    ("export", ["--model", "nothing.keras"], "no model file at nothing.keras"),
    ("run_all", ["--set", "EPOCHS=many"], "is not a whole number"),
    ("data", ["--source", "nowhere.zip"], "neither petimages, kaggle"),
]


def _python(code: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "CATSDOGS_ROOT": str(cwd)},
        check=True,
    )


def test_settings_and_programs_import_without_tensorflow():
    code = "import importlib, sys\n" + "".join(
        f"importlib.import_module({module!r}); print({module!r}, 'tensorflow' in sys.modules, "
        "'keras' in sys.modules)\n"
        for module in LIGHT_MODULES
    )
    lines = _python(code, ROOT).stdout.splitlines()
    assert lines == [f"{module} False False" for module in LIGHT_MODULES]


def test_a_wrong_argument_is_answered_before_tensorflow_loads(tmp_path):
    """Each program checks its arguments first: the answer does not wait for TensorFlow."""
    code = "import importlib, sys\n" + "".join(
        f"status = importlib.import_module('helpers.cli.{program}').main({argv!r})\n"
        f"print({program!r}, status, 'tensorflow' in sys.modules)\n"
        "sys.stderr.write('---\\n')\n"
        for program, argv, _ in WRONG_ARGUMENTS
    )
    result = _python(code, tmp_path)
    assert result.stdout.splitlines() == [f"{program} 2 False" for program, _, _ in WRONG_ARGUMENTS]
    answers = result.stderr.split("---\n")
    for (program, _, message), answer in zip(WRONG_ARGUMENTS, answers, strict=False):
        assert message in answer, f"{program}: {answer}"
