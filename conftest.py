"""pytest set-up shared by the unit tests and nbval.

Notebook cells run under the smoke profile with a fresh run folder per session, so strict nbval
reproduces the outputs stored in the notebooks. These CATSDOGS_* variables are set only while a
notebook cell runs (its kernel inherits them when it starts), never for the unit tests.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

NBVAL_ENV = {"CATSDOGS_PROFILE": "smoke"}
_saved_env: dict[str, str | None] = {}


def _is_notebook_cell(item: pytest.Item) -> bool:
    return item.path.suffix == ".ipynb"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--cpu-bfloat16",
        choices=("auto", "yes", "no"),
        default="auto",
        help="answer the CPU check behind PRECISION=auto as a CPU with (yes) or without (no) "
        "AMX would, to run the tests as on the other kind of machine",
    )


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # With make test's workers (pytest-xdist, --dist loadgroup), a test file runs on one worker, so
    # its module fixtures are made once, and the notebooks run in order on one worker, in its run
    # folder (04 reads the model that 03 trained).
    for item in items:
        group = "notebooks" if _is_notebook_cell(item) else item.path.name
        item.add_marker(pytest.mark.xdist_group(group))


def pytest_configure(config: pytest.Config) -> None:
    run_dir = Path(tempfile.mkdtemp(prefix="catsdogs-nbval-")) / "nbval-run"
    NBVAL_ENV["CATSDOGS_RUN_DIR"] = str(run_dir)
    answer = config.getoption("--cpu-bfloat16")
    if answer != "auto":
        import helpers.config

        helpers.config.cpu_has_fast_bfloat16 = lambda: answer == "yes"


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if _is_notebook_cell(item):
        for key, value in NBVAL_ENV.items():
            _saved_env.setdefault(key, os.environ.get(key))
            os.environ[key] = value


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    if _is_notebook_cell(item):
        for key, value in _saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        _saved_env.clear()
