"""`make predict … OUTPUT=` and `make export` killed (SIGKILL) at seeded moments, then run again.

After each kill no output is visible half-written under its final name and no file of the user's
is gone; the same command then completes. (make run-all's kills: tests/test_end_to_end.py; make
data's: tests/make_data/test_data_kills.py.)
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pandas as pd
import pytest
import tensorflow as tf
from image_files import write_image
from kills import (
    after_line,
    environment_without,
    kill_then_complete,
    record_kills,
    seeded_delays,
    while_exists,
)
from saved_models import save_network

pytestmark = pytest.mark.slow

PHOTOS = 120


@pytest.fixture(scope="module")
def users_files(tmp_path_factory) -> tuple[Path, Path]:
    """A model in a run folder and a folder of photos: the user's, never to be lost."""
    root = tmp_path_factory.mktemp("kills")
    model = save_network(root / "runs" / "mine" / "model.keras", "compact_cnn", 16)
    for i in range(1, PHOTOS + 1):
        write_image(root / "photos" / f"{i}.jpg", size=(64, 48), seed=i)
    return model, root / "photos"


def _fingerprints(*folders: Path) -> dict[Path, str]:
    return {
        path: hashlib.sha256(path.read_bytes()).hexdigest()
        for folder in folders
        for path in Path(folder).rglob("*")
        if path.is_file() and not path.name.startswith(".")
    }


def _lost(before: dict[Path, str]) -> list[str]:
    """The user's files missing or changed since `before`."""
    return [
        f"the user's {path.name} is gone or changed"
        for path, digest in before.items()
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != digest
    ]


def test_predict_killed_anywhere_never_leaves_half_a_csv_and_then_completes(users_files):
    model, photos = users_files
    output = photos.parent / "predictions.csv"
    command = [sys.executable, "-m", "helpers.cli.predict", str(photos), "--model", str(model)]
    command += ["--output", str(output)]
    users = _fingerprints(photos, model.parent)

    def check() -> list[str]:
        findings = _lost(users)
        if output.exists():
            rows = pd.read_csv(output)
            if len(rows) != PHOTOS or not output.read_bytes().endswith(b"\n"):
                findings.append(f"{output.name} is half-written: {len(rows)} rows")
        return findings

    # TensorFlow's import takes most of a prediction's 7 s: the seeded moments spread over it and
    # the model's loading. (The CSV is written in less time than a look for it takes: the
    # atomic write is tested directly, tests/test_predict.py.)
    moments = [
        after_line(f"{delay:.1f} s in", "", delay) for delay in seeded_delays(31, 4, longest=5.0)
    ]
    report = kill_then_complete(
        "make predict OUTPUT=", command, environment_without(), moments, check, timeout=300
    )
    record_kills(report)
    assert report.findings == []
    assert report.kills == 4, [(a.moment, a.killed, a.seconds) for a in report.attempts]
    assert len(pd.read_csv(output)) == PHOTOS


def _whole_exports(model: Path) -> list[str]:
    """The exports beside `model` that are there but do not load."""
    from ai_edge_litert.interpreter import Interpreter

    from helpers.modeling.export import ExportPaths

    paths, findings = ExportPaths(model), []
    for tflite in (paths.tflite_float32, paths.tflite_dynamic_range):
        if tflite.exists():
            try:
                Interpreter(model_path=str(tflite)).allocate_tensors()
            except (ValueError, RuntimeError) as error:
                findings.append(f"{tflite.name} does not load: {error}")
    if paths.saved_model.exists() and not tf.saved_model.contains_saved_model(paths.saved_model):
        findings.append(f"{paths.saved_model.name} holds no SavedModel")
    if paths.check.exists() and len(pd.read_csv(paths.check)) != 4:
        findings.append(f"{paths.check.name} is half-written")
    return findings


def test_export_killed_anywhere_never_leaves_half_an_export_and_then_completes(users_files):
    model, photos = users_files
    command = [sys.executable, "-m", "helpers.cli.export", "--model", str(model)]
    command += ["--images", str(photos), "--runs", "5"]
    users = _fingerprints(photos, model)

    def check() -> list[str]:
        return _lost(users) + _whole_exports(model)

    # TensorFlow's import and the model's loading, the conversions (once the SavedModel is
    # written), the check (once the exports are in place).
    moments = [
        after_line(f"{delay:.1f} s in", "", delay) for delay in seeded_delays(37, 1, longest=9.0)
    ]
    moments += [
        while_exists("the LiteRT conversion", model.parent, ".export-*/*savedmodel/*.pb"),
        after_line("the check", "wrote ", 0.5),
    ]
    report = kill_then_complete(
        "make export", command, environment_without(), moments, check, timeout=300
    )
    record_kills(report)
    assert report.findings == []
    assert report.kills == 3, [(a.moment, a.killed, a.seconds) for a in report.attempts]
    assert _whole_exports(model) == [] and (model.parent / "model_export_check.csv").is_file()
