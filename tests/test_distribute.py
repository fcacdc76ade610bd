"""Training on several devices (distribute="mirrored"): the same computation as on one device."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers.config import ConfigError, load_config

HERE = Path(__file__).resolve().parent


def test_mirrored_on_two_logical_cpus_computes_what_one_device_does():
    # As Keras tests its own strategy code: the same steps from the same weights and batches, on
    # one device and on two (augmentation and dropout off: each replica draws its own randomness).
    # Measured: losses equal to 3e-7, weights to 2e-5; with each device's own batch-norm
    # statistics (not synchronized) the weights differ by 1e-2 (docs/evidence/scaling).
    result = subprocess.run(
        [sys.executable, str(HERE / "mirrored_equivalence.py"), "2", "3"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["replicas"] == 2
    np.testing.assert_allclose(found["loss_mirrored"], found["loss_single"], rtol=1e-4)
    assert found["largest_weight_difference"] < 1e-3 * found["largest_weight"]


def test_devices_and_distribution_are_checked_with_the_other_settings():
    with pytest.raises(ConfigError, match="distribute='many' must be none or mirrored"):
        load_config(overrides={"distribute": "many"}, environ={})
    with pytest.raises(
        ConfigError, match='devices=2 must be empty, or at least 1 with distribute="mirrored"'
    ):
        load_config(overrides={"devices": 2}, environ={})
    cfg = load_config(overrides={"distribute": "mirrored", "devices": 2}, environ={})
    assert (cfg.distribute, cfg.devices) == ("mirrored", 2)


def test_one_device_by_default():
    from helpers.modeling.training import describe_devices, training_strategy

    strategy = training_strategy(load_config(environ={}))
    assert describe_devices(strategy).startswith("Training on one device: ")


def test_devices_asked_for_after_tensorflow_started_are_refused_clearly():
    code = (
        "import tensorflow as tf\n"
        "tf.constant(1)  # TensorFlow starts\n"
        "from helpers.config import load_config\n"
        "from helpers.modeling.training import training_strategy\n"
        "from helpers.modeling.training.devices import DevicesError\n"
        "try:\n"
        "    training_strategy(load_config(overrides={'distribute': 'mirrored', 'devices': 3}))\n"
        "except DevicesError as error:\n"
        "    print(error)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert "devices=3: TensorFlow has already started, with 1 CPU device(s)" in result.stdout
