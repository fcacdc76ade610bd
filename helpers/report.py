"""One page per run: the executed notebooks as a single HTML report, headline figures on top.

nbconvert renders it (JupyterLab's look, figures embedded, code left out), so the file opens in
any browser with nothing beside it: one file to share instead of six notebooks.
"""

from __future__ import annotations

import html

import nbformat
from nbconvert import HTMLExporter

from helpers.artifacts import RunPaths, write_text
from helpers.summary import headline, notebook_seconds

# Cells that set the run up rather than tell it: papermill's parameter cells.
SET_UP_TAGS = {"parameters", "injected-parameters"}

# The headline figures, in the order the report shows them, with their labels.
HEADLINE_LABELS = {
    "test_accuracy": "test accuracy",
    "test_log_loss": "test log loss",
    "test_images": "labelled test images",
    "val_accuracy": "validation accuracy (saved epoch)",
    "best_epoch": "saved epoch (lowest validation loss)",
    "epochs": "epochs trained",
    "median_epoch_s": "seconds an epoch (median)",
    "train_s": "training time (s)",
    "series_s": "the series' time (s)",
    "profile": "profile",
    "model": "network",
    "image_size": "image size (px)",
    "start_image_size": "progressive resizing from (px)",
    "learning_rate": "peak learning rate",
    "precision": "precision",
    "train_minutes": "time budget (min)",
    "cpu": "CPU",
}


def headline_html(run: RunPaths, seconds: dict[str, float]) -> str:
    """The run's headline figures as an HTML table; each value cell names its figure."""
    figures = headline(run, seconds)
    rows = "\n".join(
        f'<tr><th>{label}</th><td data-figure="{name}">{html.escape(str(figures[name]))}</td></tr>'
        for name, label in HEADLINE_LABELS.items()
        if figures.get(name) is not None
    )
    return f'<table class="catsdogs-headline">\n{rows}\n</table>'


def _is_set_up(cell: nbformat.NotebookNode) -> bool:
    return bool(SET_UP_TAGS & set(cell.get("metadata", {}).get("tags", [])))


def _without_stderr(cell: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The cell without library warnings (stderr), which the notebooks show but a reader skips."""
    if cell.cell_type == "code":
        cell.outputs = [o for o in cell.outputs if o.get("name") != "stderr"]
    return cell


def combined_notebook(run: RunPaths) -> nbformat.NotebookNode:
    """The run's executed notebooks as one, after a first cell of headline figures."""
    seconds = notebook_seconds(run)
    summary = [
        f"# Cats vs. dogs: run `{run.root.name}`",
        "",
        "The executed notebooks of this run, code left out (the notebooks beside this file "
        "have it). Figures of the run:",
        "",
        headline_html(run, seconds),
        "",
        "Settings: `config.yaml` beside this file.",
    ]
    cells = [nbformat.v4.new_markdown_cell("\n".join(summary))]
    for path in run.executed_notebooks():
        notebook = nbformat.read(path, as_version=4)
        took = f" ({seconds[path.name]:,.0f} s)" if path.name in seconds else ""
        cells.append(nbformat.v4.new_markdown_cell(f"---\n*{path.name}{took}*"))
        cells += [_without_stderr(c) for c in notebook.cells if not _is_set_up(c)]
    combined = nbformat.v4.new_notebook(cells=cells)
    combined.metadata["title"] = f"Cats vs. dogs: {run.root.name}"
    return combined


def write_report(run: RunPaths) -> RunPaths:
    """Write report.html into the run folder, atomically; return the run's paths."""
    exporter = HTMLExporter(
        template_name="lab",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    body, _ = exporter.from_notebook_node(combined_notebook(run))
    write_text(run.report, body)
    return run
