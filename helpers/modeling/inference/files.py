"""The image files a command is given: files, folders and glob patterns, and which are readable."""

from __future__ import annotations

import glob
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from helpers.image_check import inspect_file
from helpers.layout import is_image_file
from helpers.runtime import captured_stderr

GLOB_CHARACTERS = frozenset("*?[")


def _natural_key(path: Path) -> list[object]:
    """Sort key that puts 2.jpg before 10.jpg."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", str(path))]


def expand_inputs(items: Sequence[str]) -> tuple[list[Path], list[tuple[str, str]]]:
    """The files that `items` name (files; folders: their image files, recursively; globs), in
    order, without repeats; and the items that name none, each with the reason."""
    found: list[Path] = []
    problems: list[tuple[str, str]] = []
    for item in items:
        path = Path(item).expanduser()
        if path.is_dir():
            images = sorted((p for p in path.rglob("*") if is_image_file(p)), key=_natural_key)
            found += images
            if not images:
                problems.append((item, "a folder with no .jpg, .jpeg or .png file in it"))
        elif path.exists():
            found.append(path)
        elif GLOB_CHARACTERS & set(item):
            matches = [Path(p) for p in glob.glob(str(path), recursive=True) if Path(p).is_file()]
            found += sorted(matches, key=_natural_key)
            if not matches:
                problems.append((item, "a pattern that matches no file"))
        else:
            problems.append((item, "no such file or folder"))
    return list(dict.fromkeys(found)), problems


def _problem(path: Path) -> str:
    """Why the training pipeline could not read `path` as an image, or "" when it can."""
    try:
        return str(inspect_file(path)["problem"])
    except OSError as error:
        return f"cannot be read: {error.strerror or error}"


def readable_images(
    paths: Sequence[Path], workers: int = 4
) -> tuple[list[Path], list[tuple[str, str]]]:
    """The paths that are readable images, and the others with the reason (helpers.image_check)."""
    with captured_stderr(), ThreadPoolExecutor(max_workers=workers) as pool:
        problems = list(pool.map(_problem, paths))  # libjpeg's warnings stay out of the output
    good = [path for path, problem in zip(paths, problems, strict=True) if not problem]
    bad = [(str(path), problem) for path, problem in zip(paths, problems, strict=True) if problem]
    return good, bad
