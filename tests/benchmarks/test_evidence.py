"""The docs' results and speed tables against their committed evidence files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from benchmarks import evidence

ROOT = Path(__file__).resolve().parents[2]


def test_each_evidence_table_of_the_docs_is_rendered_from_its_files():
    pages = evidence.pages_with_evidence()
    assert {ROOT / doc for doc in evidence.EVIDENCE_ONLY} <= set(pages)
    for page in pages:
        text = page.read_text()
        assert evidence.rendered(text, page) == text, (
            f"{page.name}: a table differs from its evidence under {evidence.EVIDENCE}/: "
            "run python -m benchmarks.evidence tables, never edit a figure by hand"
        )


@pytest.mark.parametrize("doc", evidence.EVIDENCE_ONLY)
def test_the_results_and_speed_pages_hold_no_table_without_evidence(doc):
    # A hand-typed table would escape the check above.
    outside = evidence.BLOCK.sub("", (ROOT / doc).read_text())
    assert not re.findall(r"^\|.*\|$", outside, re.MULTILINE), f"{doc}: a table without evidence"


def test_a_figure_typed_by_hand_is_caught():
    text = (ROOT / "docs/results.md").read_text()
    row = next(line for line in text.splitlines() if "**0." in line)
    typed = text.replace(row, re.sub(r"\*\*0\.(\d)", lambda m: f"**0.{(int(m[1]) + 1) % 10}", row))
    assert typed != text and evidence.rendered(typed) != typed


def _run_folder(folder: Path) -> Path:
    """A finished run folder in miniature: the files keep-run copies, a notebook with a picture."""
    folder.mkdir()
    (folder / "config.yaml").write_text(
        "profile: cpu\nmodel: slim_cnn\nimage_size: 72\nstart_image_size: 48\n"
        "learning_rate: 0.002\nprecision: mixed_bfloat16\ntrain_minutes: 24\n"
    )
    (folder / "history.csv").write_text(
        "epoch,accuracy,elapsed_s,learning_rate,loss,val_accuracy,val_loss\n"
        "0,0.7,40.0,0.001,0.6,0.80,0.45\n1,0.8,70.0,0.001,0.4,0.91,0.30\n"
        "2,0.9,100.0,0.0,0.3,0.90,0.35\n"
    )
    (folder / "test_metrics.json").write_text(
        json.dumps({"accuracy": 0.9125, "log_loss": 0.2345, "n_images": 1000})
    )
    (folder / "calibration.json").write_text("{}")
    (folder / "machine.json").write_text(
        json.dumps({"cpu": {"model": "Test CPU", "kind": "AVX2", "cores": 2}, "commit": "abc"})
    )
    notebook = {
        "cells": [
            {
                "cell_type": "code",
                "metadata": {},
                "source": "plot()",
                "outputs": [{"output_type": "display_data", "data": {"image/png": "iVBO" * 1000}}],
            }
        ],
        "metadata": {"papermill": {"duration": 125.0}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (folder / "03_train_cnn.ipynb").write_text(json.dumps(notebook))
    return folder


def test_keep_run_copies_the_small_files_and_the_row_reads_them(tmp_path, monkeypatch):
    monkeypatch.setattr(evidence, "evidence_root", lambda: tmp_path / "evidence")
    kept = evidence.keep_run(_run_folder(tmp_path / "run"), "20261201-test")
    notebook = json.loads((kept / "03_train_cnn.ipynb").read_text())
    assert notebook["cells"][0]["outputs"][0]["data"] == {}  # the picture is not kept
    assert notebook["metadata"]["papermill"]["duration"] == 125.0  # its time is
    row = evidence.run_row(kept)
    recipe = "`slim_cnn`, 48→72 px, peak rate 0.002, mixed_bfloat16, 24-minute budget"
    for figure in ("Test CPU (AVX2)", recipe, "3 (30.0 s each)"):
        assert figure in row
    assert "2: 0.9100" in row  # the saved epoch: the lowest validation loss, counted from 1
    assert "**0.9125**" in row and "0.2345" in row and "2 min 05 s" in row


def test_keep_run_refuses_an_unfinished_run_naming_what_is_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(evidence, "evidence_root", lambda: tmp_path / "evidence")
    run = _run_folder(tmp_path / "run")
    (run / "test_metrics.json").unlink()
    with pytest.raises(evidence.EvidenceError, match="no test_metrics.json"):
        evidence.keep_run(run, "unfinished")
    assert not (tmp_path / "evidence").exists()
