"""The run folder: where each output of a run lives, written atomically."""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from helpers.config import Config, config_to_yaml, project_root


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: Path, write: Callable[[Path], None]) -> Path:
    """Call `write(tmp)` on a temporary file beside `path`, then move it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    # mkstemp makes the file private (0600); give it the mode a plain open() would, or the old file's.
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


@dataclass(frozen=True)
class RunPaths:
    """Named paths of every file a run writes into its folder."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "config.yaml"

    @property
    def dataset_index(self) -> Path:
        return self.root / "dataset.csv"

    @property
    def unreadable(self) -> Path:
        return self.root / "unreadable_files.csv"

    @property
    def split(self) -> Path:
        return self.root / "split.csv"

    @property
    def model(self) -> Path:
        return self.root / "model.keras"

    @property
    def checkpoint(self) -> Path:
        return self.root / "checkpoints" / "best.weights.h5"

    @property
    def backup_dir(self) -> Path:
        return self.root / "checkpoints" / "backup"

    @property
    def history(self) -> Path:
        return self.root / "history.csv"

    @property
    def tensorboard(self) -> Path:
        return self.root / "tensorboard"

    @property
    def figures(self) -> Path:
        return self.root / "figures"

    @property
    def validation_predictions(self) -> Path:
        return self.root / "val_predictions.csv"

    @property
    def test_predictions(self) -> Path:
        return self.root / "test_predictions.csv"

    @property
    def submission(self) -> Path:
        return self.root / "submission.csv"

    @property
    def test_metrics(self) -> Path:
        return self.root / "test_metrics.json"

    def figure(self, name: str) -> Path:
        """Path of figure `name` (a PNG in figures/)."""
        return self.figures / f"{name}.png"


def open_run(cfg: Config) -> RunPaths:
    """Create the run folder (default runs/<profile>) if needed and record the run's config in it."""
    run = RunPaths(Path(cfg.run_dir or project_root() / "runs" / cfg.profile))
    run.root.mkdir(parents=True, exist_ok=True)
    write_text(run.config, config_to_yaml(dataclasses.replace(cfg, run_dir=run.root)))
    return run
