"""Two-phase training of a pretrained backbone: interrupted and resumed, and the series end to end.

The backbone's weights are seeded test weights (not ImageNet's, which cannot be fetched here), so
these tests check the mechanics, not the accuracy the guide reports.
"""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest
from training_run import train_once

from helpers.artifacts import open_run
from helpers.config import load_config
from helpers.dataset import read_labels
from helpers.modeling.inference import load_trained_model
from helpers.modeling.networks import BACKBONES, backbone_of, write_test_weights
from helpers.modeling.networks.backbones import build_backbone
from helpers.modeling.training import (
    fine_tune,
)
from helpers.notebooks import notebook_paths
from helpers.series import run_series
from helpers.synthetic import ensure_synthetic_dataset

pytestmark = pytest.mark.slow


class Interrupted(Exception):
    """Stands in for a kernel stopped mid-training."""


class InterruptAfterEpoch(keras.callbacks.Callback):
    def __init__(self, epoch: int) -> None:
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if epoch + 1 == self.epoch:
            raise Interrupted


@pytest.fixture(scope="module")
def test_weights(tmp_path_factory) -> Path:
    return write_test_weights(tmp_path_factory.mktemp("weights") / "test-weights.h5")


def test_two_phases_resume_between_and_within_phases(tmp_path, test_weights, monkeypatch):
    cfg = load_config(
        "transfer-smoke",
        overrides={
            "data_dir": str(tmp_path / "data"),
            "run_dir": str(tmp_path / "run"),
            "weights": str(test_weights),
            "synthetic_train_per_class": 20,
            "synthetic_test_count": 4,
            "batch_size": 8,
            "epochs": 2,
            "fine_tune_epochs": 2,
            "early_stopping_patience": 10,
        },
        environ={},
    )
    ensure_synthetic_dataset(cfg)
    run = open_run(cfg)

    # 1. Stopped between the phases: phase 1 is recorded as done.
    def stop(cfg):
        raise Interrupted

    with monkeypatch.context() as patch:
        patch.setattr(fine_tune, "fine_tune_optimizer", stop)
        with pytest.raises(Interrupted):
            train_once(cfg)
    assert json.loads(run.phases.read_text()) == {
        "head_epochs": 2,
        "fine_tune": True,
    }
    assert pd.read_csv(run.history)["phase"].tolist() == [1, 1] and not run.model.exists()

    # 2. Resumed: phase 1 is not trained again; stopped after the first fine-tuning epoch.
    original = fine_tune.phase_callbacks
    with monkeypatch.context() as patch:
        patch.setattr(
            fine_tune,
            "phase_callbacks",
            lambda *a, **k: [*original(*a, **k), InterruptAfterEpoch(3)],
        )
        with pytest.raises(Interrupted):
            train_once(cfg)
    history = pd.read_csv(run.history)
    assert history["phase"].tolist() == [1, 1, 2] and history["epoch"].tolist() == [0, 1, 2]
    assert run.backup_dir.exists()

    # 3. Resumed again: the last epoch only, from the backup; then the best network is saved.
    run, history = train_once(cfg)
    assert history["epoch"].tolist() == [1, 2, 3, 4] and history["phase"].tolist() == [1, 1, 2, 2]
    assert history["elapsed_s"].is_monotonic_increasing
    assert not run.phases.exists() and not run.backup_dir.exists()
    saved = load_trained_model(run.model)
    # Phase 2's state was saved.
    assert backbone_of(saved).get_layer(BACKBONES[cfg.model].fine_tune_from).trainable
    # A new training in the same folder starts afresh.
    run, history = train_once(cfg)
    assert history["phase"].tolist() == [1, 1, 2, 2]


def test_transfer_smoke_series_runs_end_to_end(tmp_path, test_weights):
    cfg = load_config(
        "transfer-smoke",
        overrides={
            "data_dir": str(tmp_path / "synthetic"),
            "run_dir": str(tmp_path / "run"),
            "weights": str(test_weights),
        },
        environ={},
    )
    # The notebooks a backbone changes: training (03), its curves and validation predictions
    # (04), the submission (05). 01 and 02 never load a network, and 06's Grad-CAM of a nested
    # backbone has its own tests (test_gradcam.py).
    transfer_notebooks = [p for p in notebook_paths() if p.name[:2] in {"03", "04", "05"}]
    run = run_series(cfg, transfer_notebooks)
    names = {path.name for path in run.root.iterdir()}
    assert {
        "model.keras",
        "history.csv",
        "submission.csv",
        "test_metrics.json",
        "val_predictions.csv",
    } <= names
    history = pd.read_csv(run.history)
    assert set(history["phase"]) == {1, 2} and history["phase"].is_monotonic_increasing
    assert {"training_curves.png", "training_curves_time.png", "test_predictions.png"} <= {
        path.name for path in run.figures.iterdir()
    }
    # The saved network nests the backbone with the weights file loaded: its stem, frozen in both
    # phases, holds the file's values, not a fresh initialization's.
    saved = backbone_of(load_trained_model(run.model))
    from_file = build_backbone(cfg.model, cfg.image_size)
    from_file.load_weights(str(test_weights))
    stem = next(layer.name for layer in from_file.layers if layer.weights)
    np.testing.assert_array_equal(
        saved.get_layer(stem).get_weights()[0], from_file.get_layer(stem).get_weights()[0]
    )
    # The submission is the predictions' verdicts, and its score is the metrics file's.
    submission = pd.read_csv(run.submission)
    predictions = pd.read_csv(run.test_predictions).set_index("id").loc[submission["id"]]
    assert len(submission) == cfg.synthetic_test_count
    assert (submission["label"].to_numpy() == (predictions["dog_probability"] >= 0.5)).all()
    truth = submission["id"].map(read_labels(cfg.test_labels))
    accuracy = json.loads(run.test_metrics.read_text())["accuracy"]
    assert accuracy == pytest.approx((submission["label"] == truth).mean())
