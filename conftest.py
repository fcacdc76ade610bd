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


def pytest_configure(config: pytest.Config) -> None:
    run_dir = Path(tempfile.mkdtemp(prefix="catsdogs-nbval-")) / "nbval-run"
    NBVAL_ENV["CATSDOGS_RUN_DIR"] = str(run_dir)


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
