"""One writer at a time: an advisory lock on a folder itself (no lock file to leave behind), which
the system releases when the process that holds it ends, even when it is killed (fcntl.flock)."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from helpers.errors import UserError

PROC_LOCKS = Path("/proc/locks")


class FolderBusyError(UserError, RuntimeError):
    """Another process is writing to the folder; the message says which and what to do."""


def lock_holder(folder: Path, locks: Path = PROC_LOCKS) -> str:
    """Which process holds a flock on `folder`, from Linux's /proc/locks; else "another process"."""
    try:
        inode = os.stat(folder).st_ino
        for line in locks.read_text().splitlines():
            # "1: FLOCK  ADVISORY  WRITE 1234 00:2d:5678 0 EOF"
            fields = line.split()
            if "FLOCK" in fields and fields[5].rsplit(":", 1)[-1] == str(inode):
                return f"process {fields[4]}"
    except (OSError, IndexError):
        pass
    return "another process"


@contextmanager
def folder_lock(
    folder: Path,
    busy: Callable[[str], str] | None = None,
    waiting: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold `folder`'s lock (creating the folder) while the block runs.

    When another process holds it: with `busy`, raise a FolderBusyError with `busy(holder)` as its
    message; else call `waiting(holder)`, if given, and wait for the lock.
    """
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if busy is not None:
                raise FolderBusyError(busy(lock_holder(folder))) from None
            if waiting is not None:
                waiting(lock_holder(folder))
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing it releases the lock
