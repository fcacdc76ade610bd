"""What made a run folder's files: the settings each depends on, checked before a file is reused.

A run folder holds the dataset index, the split and the training's files (checkpoints, history,
model). Each is recorded in made_with.json with the settings it depends on when it is made. A
later run in the same folder whose settings differ stops with a message naming them; with
`force` it sets the stale files (and those made from them) aside in replaced-<date-time>/ and
makes them anew. Nothing is ever mixed silently, and nothing is deleted.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

from helpers.artifacts import RunPaths, write_json
from helpers.config import Config
from helpers.errors import UserError

# The settings that do not change what training makes: where a run is and what it predicts.
_NOT_TRAINING = {
    "profile",
    "run_dir",
    "test_dir",
    "test_labels",
    "synthetic",
    "synthetic_train_per_class",
    "synthetic_test_count",
    "cache",
    "bad_images",
    "test_time_flip",
    "test_time_zoom",
    "force",
    # The devices: the same training, its global batch split between them (a resumed training
    # may continue on others).
    "distribute",
    "devices",
}


@dataclasses.dataclass(frozen=True)
class Stage:
    """Files of the run folder made in one step, and the settings they depend on."""

    name: str
    files: tuple[str, ...]  # RunPaths attribute names
    settings: tuple[str, ...]


# In the order they are made: setting one aside sets aside the later ones, made from it.
STAGES: tuple[Stage, ...] = (
    Stage("dataset index", ("dataset_index", "unreadable"), ("data_dir",)),
    Stage("split", ("split",), ("data_dir", "max_train_images", "val_fraction", "seed")),
    Stage(
        "training",
        ("checkpoint", "backup_dir", "phases", "history", "tensorboard", "model"),
        tuple(f.name for f in dataclasses.fields(Config) if f.name not in _NOT_TRAINING),
    ),
)


class StaleRunFileError(UserError, ValueError):
    """A run folder's file was made with other settings than this run's."""

    notebook_hint = (
        'In a notebook, set overrides = {"run_dir": "runs/another"} (or "force": True) in the '
        "first cell."
    )


def stage(name: str) -> Stage:
    """The stage called `name`."""
    return next(s for s in STAGES if s.name == name)


def _values(cfg: Config, settings: tuple[str, ...]) -> dict[str, Any]:
    plain = cfg.to_dict()
    return {name: plain[name] for name in settings}


def _existing(run: RunPaths, step: Stage) -> list[Path]:
    return [path for path in (getattr(run, name) for name in step.files) if path.exists()]


def _record(run: RunPaths) -> dict[str, dict[str, Any]]:
    return json.loads(run.made_with.read_text()) if run.made_with.is_file() else {}


def record_made_with(cfg: Config, run: RunPaths, name: str) -> None:
    """Record that stage `name`'s files in the run folder are made with cfg's settings."""
    step = stage(name)
    write_json({**_record(run), name: _values(cfg, step.settings)}, run.made_with)


def set_aside(run: RunPaths, steps: list[Stage]) -> Path:
    """Move the files of `steps` into <run>/replaced-<date-time>/; return that folder."""
    folder = run.root / f"replaced-{time.strftime('%Y%m%d-%H%M%S')}"
    for step in steps:
        for path in _existing(run, step):
            target = folder / path.relative_to(run.root)
            target.parent.mkdir(parents=True, exist_ok=True)
            path.rename(target)
    record = _record(run)
    write_json({k: v for k, v in record.items() if k not in {s.name for s in steps}}, run.made_with)
    return folder


def check_made_with(cfg: Config, run: RunPaths, name: str) -> None:
    """Stop when stage `name`'s files in the run folder were made with other settings.

    With cfg.force, set them (and the later stages' files) aside instead, to be made anew. Files
    of a run folder from before these records are taken as made with this run's settings.
    """
    step = stage(name)
    made_with = _record(run).get(name)
    if made_with is None or not _existing(run, step):
        return
    wanted = _values(cfg, step.settings)
    changed = [key for key in step.settings if key in made_with and made_with[key] != wanted[key]]
    if not changed:
        return
    if cfg.force:
        later = list(STAGES[STAGES.index(step) :])
        folder = set_aside(run, later)
        print(f"force: the {name} and what was made from it set aside in {folder.name}/")
        return
    differences = ", ".join(f"{key}={made_with[key]!r}, not {wanted[key]!r}" for key in changed)
    raise StaleRunFileError(
        f"the {name} in run folder {run.root} was made with {differences} as this run asks: "
        "its files would not match its settings. Use a new run folder (RUN_DIR=...), or "
        "FORCE=1 to set the old files aside in the run folder's replaced-<date-time>/ and make "
        "them anew."
    )
