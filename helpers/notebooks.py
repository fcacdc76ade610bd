"""The series' notebooks: found in order, what each needs, and the working copies `make lab` serves.

JupyterLab runs and saves the working copies, never the notebooks in notebooks/, whose stored
outputs strict nbval compares.

A copy starts without outputs, so every output in it is the reader's own run. A copy the reader
has not changed follows the source notebook when that changes (a `git pull`); one the reader has
run or edited is kept as it is, and left alone.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import nbformat

from helpers.artifacts import NUMBERED_NOTEBOOKS, write_json, write_text
from helpers.config import project_root

WORKING_COPIES = "lab"  # the folder, beside notebooks/, that `make lab` serves (git ignores it)
RECORD = ".copied.json"  # each copy's SHA-256 as written, to tell the reader's changes apart


def notebook_paths(root: Path | None = None) -> list[Path]:
    """The series' notebooks, in their numbered order."""
    notebooks = sorted((root or project_root()).joinpath("notebooks").glob(NUMBERED_NOTEBOOKS))
    if not notebooks:
        raise FileNotFoundError(
            f"no numbered notebooks in {(root or project_root()) / 'notebooks'}"
        )
    return notebooks


def _series_metadata(notebook: Path) -> dict:
    return json.loads(notebook.read_text())["metadata"].get("catsdogs", {})


def needs_test_images(notebook: Path) -> bool:
    """Whether a notebook reads the test folder (metadata: catsdogs.needs_test_images)."""
    return bool(_series_metadata(notebook).get("needs_test_images"))


def trains_the_model(notebook: Path) -> bool:
    """Whether a notebook trains the model (metadata: catsdogs.trains_the_model)."""
    return bool(_series_metadata(notebook).get("trains_the_model"))


def kernel_backend(notebook: Path, backend: str) -> str:
    """The Keras backend a notebook's kernel runs on when `backend` is asked for.

    The training notebook runs on any; the others read the saved model on TensorFlow, whichever
    engine trained it.
    """
    return backend if trains_the_model(notebook) else "tensorflow"


def _code_cells(notebook: dict) -> list[str]:
    return [
        "".join(cell["source"])
        for cell in notebook["cells"]
        if cell["cell_type"] == "code"
        and "injected-parameters" not in cell["metadata"].get("tags", [])
    ]


def already_executed(executed: Path, notebook: Path, parameters: dict) -> bool:
    """Whether `executed` is `notebook`'s code run to its end by papermill with `parameters`.

    A copy still running, stopped by an error, cut short by a kill, run with other settings, or
    of code that has changed since, is not.
    """
    try:
        done = json.loads(executed.read_text())
        record = done["metadata"]["papermill"]
    except (OSError, ValueError, KeyError):
        return False
    finished = record.get("end_time") is not None and not record.get("exception")
    same_settings = record.get("parameters") == json.loads(json.dumps(parameters))
    return (
        finished
        and same_settings
        and _code_cells(done) == _code_cells(json.loads(notebook.read_text()))
    )


def without_outputs(notebook: Path) -> str:
    """The notebook's text with every output and execution count cleared."""
    content = nbformat.read(notebook, as_version=4)
    for cell in content.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return nbformat.writes(content) + "\n"


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def prepare_working_copies(notebooks: list[Path], folder: Path) -> dict[str, str]:
    """Copy each notebook into `folder` (outputs cleared) where that is safe; what became of each.

    By file name: "copied" (new), "updated" (the source changed, the copy was untouched),
    "current", or "kept" (the reader ran or edited it: it is never overwritten).
    """
    folder.mkdir(parents=True, exist_ok=True)
    record_file = folder / RECORD
    record = json.loads(record_file.read_text()) if record_file.is_file() else {}
    outcome = {}
    for notebook in notebooks:
        fresh, copy = without_outputs(notebook), folder / notebook.name
        current = copy.read_text() if copy.is_file() else None
        if current == fresh:
            outcome[notebook.name] = "current"
        elif current is not None and _sha256(current) != record.get(notebook.name):
            outcome[notebook.name] = "kept"
        else:
            outcome[notebook.name] = "copied" if current is None else "updated"
            write_text(copy, fresh)
        if outcome[notebook.name] != "kept":
            record[notebook.name] = _sha256(fresh)
    write_json(record, record_file)
    return outcome
