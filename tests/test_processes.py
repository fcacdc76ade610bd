"""Several processes, one training: keras.distribution on JAX, the processes on 127.0.0.1.

Each test starts its processes on free ports with a bounded run time and ends them all, whatever
happens.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from kills import environment_without, smoke_run_all

from helpers.config import load_config
from helpers.launch import launch_problem, process_index, processes_asked, worker_config
from helpers.synthetic import ensure_synthetic_dataset

HERE = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_processes(command: list[str], count: int, extra: dict[int, list[str]] | None = None):
    """`count` processes of `command`, each told its place by Keras's variables."""
    address = f"127.0.0.1:{free_port()}"
    processes = []
    for index in range(count):
        env = {
            **environment_without(),
            "KERAS_BACKEND": "jax",
            "KERAS_DISTRIBUTION_JOB_ADDRESSES": address,
            "KERAS_DISTRIBUTION_NUM_PROCESSES": str(count),
            "KERAS_DISTRIBUTION_PROCESS_ID": str(index),
        }
        processes.append(
            subprocess.Popen(
                command + (extra or {}).get(index, []),
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
    return processes


def finish(processes: list[subprocess.Popen], timeout: float) -> list[tuple[int, str, float]]:
    """Each process's exit status, output and seconds taken; all are killed past `timeout`."""
    start, results = time.monotonic(), []
    try:
        for process in processes:
            left = max(1.0, timeout - (time.monotonic() - start))
            output, _ = process.communicate(timeout=left)
            results.append((process.returncode, output, time.monotonic() - start))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.communicate()
    return results


def test_two_processes_train_in_step_and_agree_on_the_weights():
    command = [sys.executable, str(HERE / "processes_training.py")]
    results = finish(start_processes(command, 2), timeout=240)
    for status, output, _ in results:
        assert status == 0, output[-3000:]
    weights = [json.loads(output.strip().splitlines()[-1]) for _, output, _ in results]
    assert weights[0] == weights[1]


def test_a_process_that_dies_makes_the_other_stop_saying_so_not_hang():
    # Measured: the survivor's next collective fails at once; JAX's own heartbeat (100 s) kept it
    # waiting 106 s to exit, the project's (10 s) about 10 s.
    command = [sys.executable, str(HERE / "processes_training.py")]
    processes = start_processes(command, 2, extra={1: ["die-after-epoch", "1"]})
    (status, output, seconds), (died, _, _) = finish(processes, timeout=240)
    assert died == 3
    assert status != 0
    assert "ProcessLostError: another of the 2 processes of this training stopped" in output
    assert "Start every process again with the same command" in output
    assert seconds < 120, f"the survivor took {seconds:.0f} s to stop"


@pytest.mark.slow
def test_run_all_in_two_processes_trains_once_and_only_process_0_writes_the_run(tmp_path):
    run_dir = tmp_path / "runs" / "two"
    # 3 epochs: the steps are under test, not a model.
    command = smoke_run_all(tmp_path / "synthetic", run_dir, "DISTRIBUTE=data_parallel", "EPOCHS=3")
    # The synthetic photos first: both processes would make them at once in the same folder.
    ensure_synthetic_dataset(
        load_config("smoke", overrides={"data_dir": str(tmp_path / "synthetic")}, environ={})
    )
    results = finish(start_processes(command, 2), timeout=500)
    for status, output, _ in results:
        assert status == 0, output[-3000:]
    (_, first, _), (_, second, _) = results
    assert "[run-all] 06_explain_model.ipynb" in first and (run_dir / "report.html").is_file()
    assert "03_train_cnn.ipynb" in second and "04_training_curves" not in second
    worker = tmp_path / "runs" / "two.processes" / "1"
    assert "in 2 process(es)" in (run_dir / "03_train_cnn.ipynb").read_text()
    # Trained in step: the same losses, epoch by epoch (only the times differ).
    ours, theirs = (pd.read_csv(folder / "history.csv") for folder in (run_dir, worker))
    pd.testing.assert_frame_equal(ours.drop(columns="elapsed_s"), theirs.drop(columns="elapsed_s"))
    assert (tmp_path / "runs" / "latest").resolve() == run_dir


def test_a_launch_of_several_processes_is_read_from_keras_or_slurm(monkeypatch):
    for name in ("KERAS_DISTRIBUTION_NUM_PROCESSES", "KERAS_DISTRIBUTION_PROCESS_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("SLURM_STEP_NODELIST", raising=False)
    assert (processes_asked(), process_index()) == (1, 0)
    monkeypatch.setenv("SLURM_NTASKS", "4")  # an allocation's shell (salloc -n 4): one process
    monkeypatch.setenv("SLURM_PROCID", "3")
    assert (processes_asked(), process_index()) == (1, 0)
    monkeypatch.setenv("SLURM_STEP_NODELIST", "node[1-4]")  # a task of srun's job step
    assert (processes_asked(), process_index()) == (4, 3)
    monkeypatch.setenv("KERAS_DISTRIBUTION_NUM_PROCESSES", "2")  # Keras's own variables first
    monkeypatch.setenv("KERAS_DISTRIBUTION_PROCESS_ID", "1")
    assert (processes_asked(), process_index()) == (2, 1)


def test_several_processes_need_data_parallel_and_a_set_number_of_epochs(monkeypatch):
    monkeypatch.setenv("KERAS_DISTRIBUTION_NUM_PROCESSES", "2")
    mirrored = load_config(overrides={"distribute": "mirrored"}, environ={})
    assert "2 processes were started for one training" in launch_problem(mirrored, "tensorflow")
    budgeted = load_config(overrides={"distribute": "data_parallel"}, environ={})
    assert launch_problem(budgeted, "jax") == (
        "train_minutes=24: a training of several processes runs a set number of epochs; give "
        "TRAIN_MINUTES=none and EPOCHS=..."
    )
    overrides = {"distribute": "data_parallel", "train_minutes": None}
    assert launch_problem(load_config(overrides=overrides, environ={}), "jax") is None


def test_a_process_other_than_0_trains_in_a_folder_beside_the_run_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_DISTRIBUTION_PROCESS_ID", "2")
    cfg = load_config(overrides={"run_dir": str(tmp_path / "runs" / "two")}, environ={})
    assert worker_config(cfg).run_dir == tmp_path / "runs" / "two.processes" / "2"
