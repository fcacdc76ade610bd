"""The run folder: where each output of a run lives, written atomically."""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from helpers.config import Config, config_to_yaml, project_root
from helpers.errors import UserError, first_line


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: Path, write: Callable[[Path], None]) -> Path:
    """Call `write(tmp)` on a temporary file beside `path`, then move it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", dir=path.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    # mkstemp makes the file private (0600); give it the mode a plain open() would,
    # or the old file's.
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~_umask()
    try:
        write(tmp)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_text(path: Path, text: str) -> Path:
    """Write text to `path` atomically."""
    return atomic_write(path, lambda tmp: tmp.write_text(text))


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """Write a DataFrame as CSV (no index) atomically."""
    return atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False))


def write_json(data: Any, path: Path) -> Path:
    """Write JSON atomically."""
    return write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


class DamagedRunFileError(UserError, ValueError):
    """A file of the run folder cannot be read as the series wrote it (cut short, edited)."""


def read_run_csv(path: Path, columns: tuple[str, ...], remedy: str) -> pd.DataFrame:
    """A CSV file of the run folder with at least `columns`; else an error naming it, `remedy`."""
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise DamagedRunFileError(
            f"{path} cannot be read as CSV ({first_line(error)}): {remedy}"
        ) from None
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise DamagedRunFileError(
            f"{path} is not the file the series writes (it has no {', '.join(missing)} column): "
            f"{remedy}"
        )
    return frame


class MissingRunFileError(UserError, FileNotFoundError):
    """A file that an earlier notebook of the series writes into the run folder is not there."""

    notebook_hint = (
        "Notebooks read what the earlier ones wrote into the same run folder: run them in "
        "order with the same profile and settings, or all at once with make run-all."
    )


def require(path: Path, notebook: str) -> Path:
    """`path` if it exists, else an error naming the notebook that writes it."""
    if not Path(path).exists():
        raise MissingRunFileError(f"{path} does not exist: run notebook {notebook} first.")
    return Path(path)


MODEL_FILE = "model.keras"  # the run's saved network, what make predict and make export use
NUMBERED_NOTEBOOKS = "[0-9][0-9]_*.ipynb"  # the series' notebooks, in notebooks/ and run folders


def _in_run(*parts: str) -> property:
    """A read-only attribute: the path `parts` inside the run folder."""
    return property(lambda self: self.root.joinpath(*parts), doc=f"<run folder>/{'/'.join(parts)}")


@dataclass(frozen=True)
class RunPaths:
    """Named paths of every file a run writes into its folder."""

    root: Path

    config = _in_run("config.yaml")
    dataset_index = _in_run("dataset.csv")
    unreadable = _in_run("unreadable_files.csv")
    split = _in_run("split.csv")
    model = _in_run(MODEL_FILE)
    checkpoint = _in_run("checkpoints", "best.weights.h5")
    backup_dir = _in_run("checkpoints", "backup")
    phases = _in_run("checkpoints", "phases.json")  # a pretrained backbone's phase 1 is done
    # The training ended and its network is not saved yet (an interruption came between).
    fit_finished = _in_run("checkpoints", "fit_finished.txt")
    history = _in_run("history.csv")
    tensorboard = _in_run("tensorboard")
    figures = _in_run("figures")
    validation_predictions = _in_run("val_predictions.csv")
    test_predictions = _in_run("test_predictions.csv")
    submission = _in_run("submission.csv")
    test_metrics = _in_run("test_metrics.json")
    made_with = _in_run("made_with.json")  # the settings each file was made with (provenance)
    machine = _in_run("machine.json")  # the CPU and versions make run-all ran on
    report = _in_run("report.html")  # the executed notebooks as one page (helpers.report)

    def executed_notebooks(self) -> list[Path]:
        """The series' notebooks executed into the run folder, in their numbered order."""
        return sorted(self.root.glob(NUMBERED_NOTEBOOKS))

    def figure(self, name: str) -> Path:
        """Path of figure `name` (a PNG in figures/)."""
        return self.figures / f"{name}.png"


RUNS = "runs"  # the project's folder of run folders
LATEST = "latest"  # in it, a link to the run folder that last saved a model


def point_latest_at(run: RunPaths) -> None:
    """Make runs/latest a symbolic link to this run's folder, atomically.

    Only for a run folder inside a folder named runs/ (the project's, or another project's
    layout); the link is replaced in one rename, so a reader never finds it missing.
    """
    if run.root.parent.name != RUNS:
        return
    latest = run.root.parent / LATEST
    if latest.exists() and not latest.is_symlink():
        return  # someone's own folder called "latest": leave it alone
    tmp = latest.with_name(f".{LATEST}.{os.getpid()}")
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(run.root.name)
    os.replace(tmp, latest)


TRAIN_HINT = (
    "train one with notebook 03_train_cnn or `make run-all` "
    "(or give another model file with MODEL_FILE=... / --model)"
)


class ModelFileError(UserError, ValueError):
    """The model file is missing or cannot be loaded as a Keras model."""


def default_model_file() -> Path:
    """The model of the run that saved one last: runs/latest/model.keras under the project root."""
    return project_root() / RUNS / LATEST / MODEL_FILE


def find_model_file(model: Path | None) -> Path:
    """`model` when given, else runs/latest's; without that, an error listing the run folders that
    hold a model, newest first, and how to pick one."""
    if model is not None:
        return Path(model)
    latest = default_model_file()
    if latest.exists():
        return latest
    saved = sorted(
        latest.parent.parent.glob(f"*/{MODEL_FILE}"), key=lambda p: p.stat().st_mtime, reverse=True
    )
    if not saved:
        raise ModelFileError(f"no trained model yet (no {RUNS}/*/{MODEL_FILE}): {TRAIN_HINT}.")
    shown = ", ".join(str(path.relative_to(project_root())) for path in saved[:5])
    raise ModelFileError(
        f"{latest} does not exist, but {len(saved)} run folder(s) hold a model (newest first): "
        f"{shown}. Pick one with MODEL_FILE={saved[0].relative_to(project_root())} "
        "(--model), or train again to set runs/latest."
    )


def check_model_file(path: Path) -> Path:
    """`path` if it can be a saved Keras model (a .keras zip file); else a ModelFileError."""
    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"no model file at {path}: {TRAIN_HINT}.")
    if path.is_dir():
        raise ModelFileError(
            f"{path} is a folder, not a model file: give the path of a .keras file."
        )
    if not zipfile.is_zipfile(path):
        raise ModelFileError(
            f"{path} is not a Keras model file (a .keras file is a zip archive, as model.save "
            f"writes it): give the model.keras of a run, or {TRAIN_HINT}."
        )
    return path


def describe_run(cfg: Config, run: RunPaths) -> str:
    """Which profile, data and run folder a notebook uses, and how to change them."""
    return (
        f"profile {cfg.profile!r}, data: {cfg.data_dir.name}/, run folder: {run.root.name}/\n"
        "(to change them, set profile or overrides in the first cell, "
        "or start JupyterLab with make lab PROFILE=... DATA_DIR=...)"
    )


def run_paths(cfg: Config) -> RunPaths:
    """The paths of the run folder `cfg` names (default runs/<profile>)."""
    return RunPaths(Path(cfg.run_dir or project_root() / RUNS / cfg.profile))


def open_run(cfg: Config) -> RunPaths:
    """Create the run folder (default runs/<profile>) if needed; record the run's config in it."""
    run = run_paths(cfg)
    run.root.mkdir(parents=True, exist_ok=True)
    write_text(run.config, config_to_yaml(dataclasses.replace(cfg, run_dir=run.root)))
    return run
