"""Training leaves TensorBoard event files with the epoch loss and accuracy in the run folder."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import tensorflow as tf

from helpers.artifacts import open_run
from helpers.config import load_config
from helpers.modeling.training import build_model, make_callbacks


def read_scalars(folder) -> dict[str, list[float]]:
    """Every scalar in the event files under `folder`, by tag, in step order."""
    found = defaultdict(list)
    for events in sorted(folder.glob("events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(str(events)):
            for value in event.summary.value:
                found[value.tag].append((event.step, float(tf.make_ndarray(value.tensor))))
    return {tag: [v for _, v in sorted(points)] for tag, points in found.items()}


def test_a_short_run_leaves_readable_loss_and_accuracy_scalars(tmp_path):
    cfg = load_config(
        overrides={
            "run_dir": str(tmp_path / "run"),
            "image_size": 16,
            "epochs": 2,
            "augment": False,
            "lr_schedule": "plateau",
            "model": "seed_cnn",
        },
        environ={},
    )
    run = open_run(cfg)
    x = np.random.default_rng(0).integers(0, 256, (16, 16, 16, 3), dtype=np.uint8)
    y = np.eye(2)[[0, 1] * 8]
    history = build_model(cfg).fit(
        x,
        y,
        validation_data=(x, y),
        epochs=2,
        verbose=0,
        callbacks=make_callbacks(cfg, run, steps_per_epoch=1),
    )
    train = read_scalars(run.tensorboard / "train")
    validation = read_scalars(run.tensorboard / "validation")
    np.testing.assert_allclose(train["epoch_loss"], history.history["loss"], rtol=1e-6)
    np.testing.assert_allclose(train["epoch_accuracy"], history.history["accuracy"], rtol=1e-6)
    np.testing.assert_allclose(validation["epoch_loss"], history.history["val_loss"], rtol=1e-6)
    assert len(validation["epoch_accuracy"]) == 2
    assert not any("histogram" in tag for tag in train)
