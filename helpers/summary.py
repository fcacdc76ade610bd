"""A run at a glance: the machine it ran on, how long each notebook took, its headline figures.

`make run-all` records the machine in the run folder; the rest is read from the files the
notebooks wrote. The run's report (helpers.report) and the docs' evidence tables read it here.
"""

from __future__ import annotations

import json
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from helpers.artifacts import RunPaths, write_json
from helpers.config import project_root, read_yaml_settings
from helpers.history import best_epoch, load_history
from helpers.runtime import describe_cpu

PACKAGES = ("tensorflow-cpu", "tensorflow", "keras", "jax", "numpy")  # what a figure depends on


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _commit() -> str | None:
    """The project's git commit, with `+changes` when the work tree differs; None outside git."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", *args], cwd=project_root(), capture_output=True, text=True, timeout=30
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "--short", "HEAD")
    if commit and git("status", "--porcelain", "--untracked-files=no"):
        commit += "+changes"
    return commit


def describe_machine() -> dict[str, Any]:
    """This machine and software: the CPU, Python, the packages a figure depends on, the commit."""
    return {
        "cpu": describe_cpu(),
        "python": platform.python_version(),
        "packages": {name: v for name in PACKAGES if (v := _version(name))},
        "commit": _commit(),
    }


def record_machine(run: RunPaths) -> None:
    """Write machine.json into the run folder: what this run's times and figures were made on."""
    write_json(describe_machine(), run.machine)


def notebook_seconds(run: RunPaths) -> dict[str, float]:
    """Each executed notebook's wall time in the run folder, as papermill recorded it."""
    seconds = {}
    for path in run.executed_notebooks():
        duration = json.loads(path.read_text())["metadata"].get("papermill", {}).get("duration")
        if duration is not None:
            seconds[path.name] = round(float(duration), 1)
    return seconds


def _read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.is_file() else {}


def headline(run: RunPaths, seconds: dict[str, float] | None = None) -> dict[str, Any]:
    """The run's settings and figures that matter most; a figure the run did not make is absent.

    `seconds`: the notebooks' wall times when the caller has read them already (notebook_seconds).
    """
    settings = read_yaml_settings(run.config)
    figures: dict[str, Any] = {
        name: settings.get(name)
        for name in (
            "profile",
            "model",
            "image_size",
            "start_image_size",
            "learning_rate",
            "precision",
            "train_minutes",
        )
    }
    if run.history.is_file():
        history = load_history(run)
        best = best_epoch(history)
        epoch_s = history["elapsed_s"].diff().fillna(history["elapsed_s"])
        figures |= {
            "epochs": len(history),
            "best_epoch": int(best["epoch"]),
            "val_accuracy": round(float(best["val_accuracy"]), 4),
            "train_s": round(float(history["elapsed_s"].iloc[-1]), 1),
            "median_epoch_s": round(float(epoch_s.median()), 1),
        }
    test = _read_json(run.test_metrics)
    if test:
        figures |= {
            "test_accuracy": round(test["accuracy"], 4),
            "test_log_loss": round(test["log_loss"], 4),
            "test_images": test["n_images"],
        }
    seconds = notebook_seconds(run) if seconds is None else seconds
    if seconds:
        figures["series_s"] = round(sum(seconds.values()), 1)
    machine = _read_json(run.machine)
    if machine:
        figures["cpu"] = f"{machine['cpu']['model']} ({machine['cpu']['kind']})"
    return figures
