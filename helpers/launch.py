"""How this process was launched: alone, or as one of the processes of a multi-machine training.

Keras's own variables say it (keras.distribution.initialize reads them), or a Slurm job step of
several tasks (srun), which JAX joins by itself. Without TensorFlow or JAX: make run-all reads it
before any notebook starts.
"""

from __future__ import annotations

import dataclasses
import os

from helpers.config import Config, backend_problem

JOB_ADDRESSES_ENV = "KERAS_DISTRIBUTION_JOB_ADDRESSES"
PROCESSES_ENV = "KERAS_DISTRIBUTION_NUM_PROCESSES"
PROCESS_ID_ENV = "KERAS_DISTRIBUTION_PROCESS_ID"
SLURM_STEP_ENV = "SLURM_STEP_NODELIST"  # set in a job step's tasks, not in an allocation's shell


def _slurm_step(name: str) -> str | None:
    """A Slurm variable, read only inside a job step (as JAX reads them)."""
    return os.environ.get(name) if SLURM_STEP_ENV in os.environ else None


def processes_asked() -> int:
    """How many processes the launcher started for this training (1: this one alone)."""
    return int(os.environ.get(PROCESSES_ENV) or _slurm_step("SLURM_NTASKS") or 1)


def process_index() -> int:
    """This process's place among them: 0 is the one that writes the run folder."""
    return int(os.environ.get(PROCESS_ID_ENV) or _slurm_step("SLURM_PROCID") or 0)


def launch_problem(cfg: Config, backend: str) -> str | None:
    """Why `cfg` cannot train as launched, on Keras's `backend`, or None when it can."""
    problem = backend_problem(cfg, backend)
    if problem or processes_asked() == 1:
        return problem
    if cfg.distribute != "data_parallel":
        return (
            f"{processes_asked()} processes were started for one training, which only "
            'distribute="data_parallel" (KERAS_BACKEND=jax) runs: set DISTRIBUTE=data_parallel, '
            f"or start one process (unset {PROCESSES_ENV})"
        )
    if cfg.train_minutes is not None:
        # Each process's clock would time the epochs its own way: they must stop at the same one.
        return (
            f"train_minutes={cfg.train_minutes:g}: a training of several processes runs a set "
            "number of epochs; give TRAIN_MINUTES=none and EPOCHS=..."
        )
    return None


def worker_config(cfg: Config) -> Config:
    """The settings of a process other than 0: its own folder, away from the run folder.

    It trains in step with process 0 and keeps its own backup there, to resume in step with it;
    the run's files are process 0's alone.
    """
    assert cfg.run_dir is not None
    folder = cfg.run_dir.with_name(f"{cfg.run_dir.name}.processes") / str(process_index())
    return dataclasses.replace(cfg, run_dir=folder)
