"""Errors a user can fix: shown as one clear paragraph, in a notebook as on the command line."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path


class UserError(Exception):
    """A problem with the user's data, settings or run folder, with what to do about it.

    IPython (JupyterLab, papermill, nbval) calls `_render_traceback_` instead of printing the
    stack: the reader sees the message and how to fix it in the notebook, not frames of
    library code.
    """

    notebook_hint = ""  # how to fix it from a notebook, added to the message there

    def _render_traceback_(self) -> list[str]:
        message = f"{type(self).__name__}: {self}"
        if not self.notebook_hint:
            return [message]
        end = "" if message.endswith((".", "!", "?")) else "."
        return [f"{message}{end} {self.notebook_hint}"]


class PathInTheWayError(UserError, FileExistsError):
    """A file or folder is already where a program would write: it is never overwritten."""


def first_line(error: BaseException) -> str:
    """The first line of an error's message, or its type's name when the message is empty.

    Libraries (Keras, TensorFlow, h5py) raise many-line messages; one line is what a user reads.
    """
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


class DiskFullError(UserError, OSError):
    """The disk of a folder a program writes into is full."""


def is_disk_full(error: BaseException) -> bool:
    """Whether `error` is a full disk: ENOSPC here, or in a notebook's kernel (its message)."""
    if isinstance(error, OSError) and error.errno == errno.ENOSPC:
        return True
    return f"[Errno {errno.ENOSPC}]" in str(error)


def disk_full(folder: Path, what: str, need_mb: int, setting: str) -> DiskFullError:
    """The error for a full disk under `folder`: how much is free, about how much `what` needs."""
    existing = next(
        p for p in (Path(folder).absolute(), *Path(folder).absolute().parents) if p.exists()
    )
    free_mb = shutil.disk_usage(existing).free / 2**20
    return DiskFullError(
        f"no space left on the disk of {folder} ({free_mb:,.0f} MB free): {what} needs about "
        f"{need_mb:,} MB there. Free some space, or give it a folder on another disk "
        f"({setting}=...), then run the same command again: it goes on from where it stopped."
    )


class NotWritableError(UserError, OSError):
    """A folder a program writes into is read-only, or not the user's to write in."""


NOT_WRITABLE = (errno.EROFS, errno.EACCES, errno.EPERM)


def is_not_writable(error: BaseException) -> bool:
    """Whether `error` is a refused write: here, or in a notebook's kernel (its message)."""
    if isinstance(error, OSError):
        return error.errno in NOT_WRITABLE
    # From a kernel only the message is known: a read-only disk is sure to be a write refused,
    # "permission denied" could be a read.
    return f"[Errno {errno.EROFS}]" in str(error)


def not_writable(folder: Path, what: str, setting: str) -> NotWritableError:
    """The error for a folder `what` cannot write in."""
    return NotWritableError(
        f"{what} cannot write in {folder}: it is read-only, or not yours to write in. Give it a "
        f"folder it can write in ({setting}=...), or make this one writable, then run the same "
        "command again."
    )


def write_refused(
    error: BaseException, folder: Path, what: str, need_mb: int, setting: str
) -> UserError | None:
    """The error to show for a write into `folder` that a full or read-only disk refused; None
    for any other error."""
    if is_disk_full(error):
        return disk_full(folder, what, need_mb, setting)
    if is_not_writable(error):
        return not_writable(folder, what, setting)
    return None
