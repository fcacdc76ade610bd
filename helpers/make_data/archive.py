"""Safe zip extraction: no absolute paths, no `..`, no links, nothing in place until complete."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import zipfile
from pathlib import Path, PurePosixPath, PureWindowsPath

from helpers.errors import PathInTheWayError, UserError


class UnsafeArchiveError(UserError, ValueError):
    """An archive entry that would write outside the target folder, or a link."""


def unsafe_reason(info: zipfile.ZipInfo) -> str:
    """Why extracting this entry would be unsafe, or an empty string."""
    name = info.filename
    if name.startswith(("/", "\\")) or PureWindowsPath(name).drive:
        return "absolute path"
    if ".." in PurePosixPath(name.replace("\\", "/")).parts:
        return "path with '..'"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "symbolic link"
    return ""


def check_archive(zip_path: Path) -> None:
    """Raise UnsafeArchiveError naming the first unsafe entry, or a clear error if it is no zip."""
    try:
        with zipfile.ZipFile(zip_path) as archive:
            for info in archive.infolist():
                reason = unsafe_reason(info)
                if reason:
                    raise UnsafeArchiveError(
                        f"{zip_path} holds an unsafe entry, {info.filename!r} ({reason}); "
                        "nothing was extracted. Use an archive from a source you trust."
                    )
    except zipfile.BadZipFile:
        raise UnsafeArchiveError(
            f"{zip_path} is not a valid zip archive (damaged or another format)"
        ) from None


def safe_extract(zip_path: Path, target: Path) -> Path:
    """Extract `zip_path` into a temporary folder beside `target`, then move it to `target`."""
    target = Path(target)
    if target.exists():
        raise PathInTheWayError(
            f"{target} already exists; extraction never writes into an existing folder"
        )
    check_archive(zip_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.extracting-", dir=target.parent))
    try:
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(staging)
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
