"""Arranging a source's images in the Kaggle layout.

A source with no test set gets a labelled hold-out instead.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.layout import (
    CLASS_FOLDERS,
    CLASS_NAMES,
    TEST_DIR,
    TEST_LABELS,
    TRAIN_DIR,
    is_image_file,
    kaggle_category,
    kaggle_name,
    kaggle_test_name,
)
from helpers.make_data.sources import DataSourceError


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if is_image_file(p))


def _place(source: Path, destination: Path, move: bool) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    if move:
        os.replace(source, destination)
    else:
        shutil.copy2(source, destination)  # a user's own folder: never move or change their files


def lay_out(root: Path, out: Path, *, move: bool, test_count: int, seed: int) -> str:
    """Arrange the images under `root` in the Kaggle layout in `out`; return the layout found."""
    kaggle_train = [
        d
        for d in [root, *root.rglob("*")]
        if d.is_dir() and d.name == TRAIN_DIR and any(kaggle_category(p.name) for p in _images(d))
    ]
    if kaggle_train:
        for image in _images(kaggle_train[0]):
            if kaggle_category(image.name):
                _place(image, out / TRAIN_DIR / image.name.lower(), move)
        tests = [d for d in root.rglob(TEST_DIR) if d.is_dir() and _images(d)]
        for image in _images(tests[0]) if tests else []:
            _place(image, out / TEST_DIR / image.name, move)
        return "kaggle"
    class_dirs = {
        CLASS_FOLDERS[d.name.lower()]: d
        for d in root.rglob("*")
        if d.is_dir() and d.name.lower() in CLASS_FOLDERS
    }
    if set(class_dirs) != set(CLASS_NAMES):
        raise DataSourceError(
            f"no cat and dog images found in {root}: expected train/cat.<id>.jpg and "
            "train/dog.<id>.jpg (Kaggle), PetImages/Cat and PetImages/Dog (Microsoft), "
            "or cat/ and dog/ folders"
        )
    rows = [
        (image, name) for name, folder in sorted(class_dirs.items()) for image in _images(folder)
    ]
    held_out = _hold_out(rows, min(test_count, len(rows) // 5), seed)
    test_rows = []
    for test_id, index in enumerate(sorted(held_out, key=held_out.get), start=1):
        image, name = rows[index]
        _place(image, out / TEST_DIR / kaggle_test_name(test_id), move)
        test_rows.append((test_id, CLASS_NAMES.index(name)))
    for index in range(len(rows)):
        if index not in held_out:
            image, name = rows[index]
            _place(image, out / TRAIN_DIR / kaggle_name(name, image.stem), move)
    if test_rows:
        labels = pd.DataFrame(test_rows, columns=["id", "label"])
        labels.to_csv(out / TEST_LABELS, index=False)
    return "class folders"


def _hold_out(rows: list[tuple[Path, str]], test_count: int, seed: int) -> dict[int, int]:
    """A seeded, stratified choice of `test_count` rows (row index: draw order).

    Byte-identical copies stay together.
    """
    digests = [hashlib.sha256(image.read_bytes()).hexdigest() for image, _ in rows]
    groups: dict[str, list[int]] = {}
    for index, digest in enumerate(digests):
        groups.setdefault(digest, []).append(index)
    quota = {"cat": test_count - test_count // 2, "dog": test_count // 2}
    held_out: dict[int, int] = {}
    for index in np.random.default_rng(seed).permutation(len(rows)):
        members, label = groups[digests[index]], rows[index][1]
        if index not in held_out and len(members) <= quota[label]:
            quota[label] -= len(members)
            held_out.update((member, len(held_out)) for member in members)
    return held_out
