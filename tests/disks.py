"""A small disk of its own for a test folder: a tmpfs mounted there (root only)."""

from __future__ import annotations

import contextlib
import subprocess
from pathlib import Path


@contextlib.contextmanager
def small_disk_at(disk: Path, size: str = "2m"):
    """`disk` made a tmpfs of `size` of its own, and a function to resize it (as freeing space
    does); None instead of the function where mounting is not allowed (it needs root)."""
    disk.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(disk)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        yield None
        return

    def resize(new_size: str) -> None:
        subprocess.run(["mount", "-o", f"remount,size={new_size}", str(disk)], check=True)

    try:
        yield resize
    finally:
        subprocess.run(["umount", "--lazy", str(disk)], check=False)


def make_read_only(disk: Path) -> None:
    """Remount the tmpfs at `disk` read-only: even root cannot write there then."""
    subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
