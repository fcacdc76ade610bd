"""Training on several devices: the same computation as on one device.

distribute="mirrored" (TensorFlow's MirroredStrategy) and "data_parallel" (keras.distribution on
JAX); the processes of a multi-process training are in tests/test_processes.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from kills import Moment, environment_without, run_once, smoke_run_all

from helpers.config import ConfigError, backend_problem, load_config

HERE = Path(__file__).resolve().parent


@pytest.mark.parametrize(
    ("distribute", "devices", "backend"),
    [("mirrored", 2, "tensorflow"), ("data_parallel", 4, "jax")],
)
def test_data_parallel_on_cpu_devices_computes_what_one_device_does(distribute, devices, backend):
    # As Keras tests its own strategy code: the same steps from the same weights and batches, on
    # one device and on several (augmentation and dropout off: each replica draws its own
    # randomness). Measured: mirrored on 2, losses equal to 3e-7 and weights to 2e-5 (with each
    # device's own batch-norm statistics, not synchronized, 1e-2 apart); data_parallel on 4, the
    # same loss and weights to 1e-6 (docs/evidence/scaling).
    result = subprocess.run(
        [sys.executable, str(HERE / "distributed_equivalence.py"), distribute, str(devices), "3"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        env={**os.environ, "KERAS_BACKEND": backend},
    )
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert (found["backend"], found["replicas"]) == (backend, devices)
    np.testing.assert_allclose(found["loss_distributed"], found["loss_single"], rtol=1e-4)
    assert found["largest_weight_difference"] < 1e-3 * found["largest_weight"]


def test_devices_and_distribution_are_checked_with_the_other_settings():
    with pytest.raises(
        ConfigError, match="distribute='many' must be none or mirrored or data_parallel"
    ):
        load_config(overrides={"distribute": "many"}, environ={})
    wanted = 'devices=2 must be empty, or at least 1 with distribute="mirrored" or "data_parallel"'
    with pytest.raises(ConfigError, match=wanted):
        load_config(overrides={"devices": 2}, environ={})
    cfg = load_config(overrides={"distribute": "mirrored", "devices": 2}, environ={})
    assert (cfg.distribute, cfg.devices) == ("mirrored", 2)


def test_each_distribution_asks_for_its_backend():
    mirrored = load_config(overrides={"distribute": "mirrored"}, environ={})
    data_parallel = load_config(overrides={"distribute": "data_parallel"}, environ={})
    assert backend_problem(mirrored, "tensorflow") is None
    assert backend_problem(data_parallel, "jax") is None
    assert backend_problem(load_config(environ={}), "jax") is None  # one device: either
    assert backend_problem(data_parallel, "tensorflow") == (
        'distribute="data_parallel" runs on Keras\'s jax backend, and this one is tensorflow: '
        "start it with KERAS_BACKEND=jax"
    )
    assert "start it with KERAS_BACKEND=tensorflow" in backend_problem(mirrored, "jax")
    assert "the project trains on tensorflow or jax" in backend_problem(mirrored, "torch")


def test_precision_auto_is_float32_on_jax(monkeypatch):
    # XLA's CPU convolutions ran slower in bfloat16 than in float32 (docs/scaling.md).
    monkeypatch.setattr("helpers.config.cpu_has_fast_bfloat16", lambda: True)
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    assert load_config(environ={}).precision == "float32"
    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")
    assert load_config(environ={}).precision == "mixed_bfloat16"


def _run_strategy(code: str, backend: str = "tensorflow") -> str:
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env={**os.environ, "KERAS_BACKEND": backend},
    )
    return result.stdout


def test_a_batch_that_does_not_split_between_the_devices_is_refused_clearly():
    code = (
        "from helpers.config import load_config\n"
        "from helpers.modeling.training import training_strategy\n"
        "from helpers.modeling.training.devices import DevicesError\n"
        "cfg = load_config(overrides={'distribute': 'data_parallel', 'devices': 3})\n"
        "try:\n"
        "    training_strategy(cfg)\n"
        "except DevicesError as error:\n"
        "    print(error)\n"
    )
    assert "batch_size=64 cannot be split evenly between 3 devices: choose a multiple of 3" in (
        _run_strategy(code, "jax")
    )


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
    assert "devices=3: TensorFlow has already started, with 1 CPU device(s)" in _run_strategy(code)


@pytest.mark.slow
def test_run_all_mirrored_on_two_logical_cpus_runs_the_series_and_resumes(tmp_path):
    run_dir = tmp_path / "runs" / "mirrored"
    command = smoke_run_all(
        tmp_path / "synthetic", run_dir, "DISTRIBUTE=mirrored", "DEVICES=2", "EPOCHS=4"
    )
    history = run_dir / "history.csv"
    # Killed (SIGKILL, kernel and all) once two epochs are in the history, then run again.
    mid_training = Moment(
        "mid-training", lambda _: history.is_file() and len(history.read_bytes().splitlines()) >= 3
    )
    killed = run_once(command, environment_without(), mid_training)
    assert killed.killed, killed.output[-3000:]
    kept = history.read_bytes().splitlines()
    done = run_once(command, environment_without(), None)
    assert done.returncode == 0, done.output[-3000:]
    assert "MirroredStrategy) on 2 devices" in (run_dir / "03_train_cnn.ipynb").read_text()
    assert (run_dir / "report.html").is_file() and (run_dir / "submission.csv").is_file()
    # Resumed, not restarted: the first epoch is kept byte for byte, its time too (the last row
    # before the kill goes when the kill came before its backup was written, and is trained again).
    final = history.read_bytes().splitlines()
    assert final[:2] == kept[:2] and len(final) == 5


def test_a_saved_model_read_on_jax_is_refused_saying_what_to_do():
    code = (
        "from helpers.modeling.inference import load_trained_model\n"
        "try:\n"
        "    load_trained_model('runs/latest/model.keras')\n"
        "except Exception as error:\n"
        "    print(type(error).__name__, error)\n"
    )
    assert (
        "BackendError the saved model is read with Keras on TensorFlow, and this process runs "
        "Keras on jax: run it without KERAS_BACKEND, or with KERAS_BACKEND=tensorflow"
    ) in _run_strategy(code, "jax")
