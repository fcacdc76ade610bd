"""An interrupted training's backup (Keras's BackupAndRestore, two states kept): which epochs it
holds, falling back to the state before when the latest was cut short by a kill or a full disk."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import h5py

from helpers.artifacts import DamagedRunFileError, RunPaths, atomic_write
from helpers.errors import first_line

# Keras's own names in the backup folder; with double_checkpoint=True the state before the latest
# is kept beside it, with ".bkp" appended.
WEIGHTS = "latest.weights.h5"
METADATA = "training_metadata.json"
PREVIOUS = ".bkp"

BACKUP_REMEDY = (
    "Delete {folder} to train again from the first epoch (the run folder's other files stay), "
    "or use a new run folder (RUN_DIR=...)."
)


def _epochs_in(weights: Path, metadata: Path) -> int:
    """The epochs a weights and metadata pair holds; OSError or ValueError if either is damaged."""
    h5py.File(weights, "r").close()
    return int(json.loads(metadata.read_text())["epoch"])


def backed_up_epochs(run: RunPaths) -> int | None:
    """How many epochs the backup of an interrupted training holds; None when it holds none yet.

    When the latest state was cut short and the one before is whole, that one takes its place
    (as Keras does for damaged weights, but for damaged metadata too), and it says so.
    """
    folder = run.backup_dir
    weights, metadata = folder / WEIGHTS, folder / METADATA
    if not weights.exists() and not metadata.exists():
        return None
    try:
        return _epochs_in(weights, metadata)
    except (OSError, ValueError, KeyError) as error:
        damage = f"{folder}: its latest state is damaged ({first_line(error)})"
    previous = [Path(f"{path}{PREVIOUS}") for path in (weights, metadata)]
    try:
        epochs = _epochs_in(*previous)
    except (OSError, ValueError, KeyError):
        raise DamagedRunFileError(
            f"{damage}, and there is no whole state before it to resume from. "
            + BACKUP_REMEDY.format(folder=folder)
        ) from None
    for source, target in zip(previous, (weights, metadata), strict=True):
        atomic_write(target, lambda tmp, source=source: shutil.copyfile(source, tmp))
    print(f"{damage}: the training resumes from the state before it, after epoch {epochs}")
    return epochs
