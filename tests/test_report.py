"""report.html and the run summary it heads: made from a run folder's own files."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from PIL import Image

from helpers.artifacts import RunPaths
from helpers.report import write_report
from helpers.summary import headline, notebook_seconds, record_machine

ROOT = Path(__file__).resolve().parents[1]


def _png() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), (200, 30, 30)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def _executed_notebook(path: Path, seconds: float) -> None:
    """A notebook as papermill leaves it: parameters, narrative, code with text, picture, stderr."""
    parameters = nbformat.v4.new_code_cell("profile = None", metadata={"tags": ["parameters"]})
    narrative = nbformat.v4.new_markdown_cell("## Training curves\n\nWhat the model learned.")
    code = nbformat.v4.new_code_cell("plot_training_curves(history)  # SECRET-CODE")
    code.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="best epoch 2\n"),
        nbformat.v4.new_output("stream", name="stderr", text="LIBRARY-WARNING\n"),
        nbformat.v4.new_output("display_data", data={"image/png": _png(), "text/plain": "fig"}),
    ]
    notebook = nbformat.v4.new_notebook(cells=[parameters, narrative, code])
    notebook.metadata["papermill"] = {"duration": seconds}
    nbformat.write(notebook, path)


@pytest.fixture
def run(tmp_path: Path) -> RunPaths:
    run = RunPaths(tmp_path / "run")
    run.root.mkdir()
    run.config.write_text(
        "profile: cpu\nmodel: slim_cnn\nimage_size: 72\nprecision: float32\ntrain_minutes: 24\n"
    )
    run.history.write_text(
        "epoch,accuracy,elapsed_s,learning_rate,loss,val_accuracy,val_loss\n"
        "0,0.7,50.0,0.001,0.6,0.80,0.45\n1,0.8,80.0,0.001,0.4,0.91,0.30\n"
        "2,0.9,110.0,0.0,0.3,0.93,0.33\n"
    )
    run.test_metrics.write_text(json.dumps({"accuracy": 0.9375, "log_loss": 0.2, "n_images": 16}))
    _executed_notebook(run.root / "01_data_exploration.ipynb", 12.5)
    _executed_notebook(run.root / "04_training_curves.ipynb", 30.0)
    return run


def test_the_headline_reads_the_run_files(run):
    record_machine(run)
    figures = headline(run)
    assert figures["test_accuracy"] == 0.9375 and figures["test_images"] == 16
    # The saved epoch is the lowest validation loss (the 2nd, counted from 1), not the last.
    assert figures["best_epoch"] == 2 and figures["val_accuracy"] == 0.91
    assert figures["epochs"] == 3 and figures["median_epoch_s"] == 30.0
    assert figures["train_s"] == 110.0 and figures["series_s"] == 42.5
    assert list(notebook_seconds(run).values()) == [12.5, 30.0]
    assert figures["model"] == "slim_cnn" and "(" in figures["cpu"]  # model (kind)


def test_the_report_is_one_page_of_narrative_and_outputs_without_code(run):
    html = write_report(run).report.read_text()
    assert html.count("What the model learned.") == 2  # each notebook's narrative, in order
    assert html.index("01_data_exploration") < html.index("04_training_curves")
    assert "best epoch 2" in html
    assert html.count('src="data:image/png;base64,') == 2  # the figures, inside the page
    assert "SECRET-CODE" not in html and "profile = None" not in html
    assert "LIBRARY-WARNING" not in html
    assert '<td data-figure="test_accuracy">0.9375</td>' in html
    assert not list(run.root.glob(".report*"))  # written atomically: no temporary file left


def test_make_report_names_a_folder_that_holds_no_run(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "helpers.cli.report", "--run-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.startswith(f"report: {tmp_path} holds no executed notebooks")
    assert "Traceback" not in done.stderr and not (tmp_path / "report.html").exists()
