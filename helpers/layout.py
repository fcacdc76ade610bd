"""The dataset's conventions, defined once: classes and labels, file and folder names."""

from __future__ import annotations

import re
from pathlib import Path

CLASS_NAMES: tuple[str, ...] = ("cat", "dog")  # the label is the index: 0 = cat, 1 = dog
DOG_LABEL = CLASS_NAMES.index("dog")
DOG_THRESHOLD = 0.5  # a predicted P(dog) at or above it is a dog, below it a cat

TRAIN_DIR = "train"  # the labelled photos: cat.<id>.jpg and dog.<id>.jpg, or one folder per class
TEST_DIR = "test1"  # the test photos, <id>.jpg (Kaggle's name for the folder)
TEST_LABELS = "test1_labels.csv"  # true test labels, id,label, where known

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png"})
# Folder name (lower case) -> class, for data in one folder per class.
CLASS_FOLDERS = {"cat": "cat", "cats": "cat", "dog": "dog", "dogs": "dog"}
_KAGGLE_NAME = re.compile(r"^(cat|dog)\.", re.IGNORECASE)


def is_image_file(path: Path) -> bool:
    """Whether `path` is a visible file with an image extension (.jpg, .jpeg, .png, any case)."""
    return (
        path.is_file() and path.suffix.lower() in IMAGE_EXTENSIONS and not path.name.startswith(".")
    )


def kaggle_category(name: str) -> str | None:
    """Class of a Kaggle file name ('cat' for cat.<id>.jpg, 'dog' for dog.<id>.jpg), or None."""
    match = _KAGGLE_NAME.match(name)
    return match.group(1).lower() if match else None


def kaggle_name(category: str, image_id: str | int) -> str:
    """The Kaggle file name of a labelled photo: cat.<id>.jpg or dog.<id>.jpg."""
    return f"{category}.{image_id}.jpg"


def kaggle_test_name(image_id: int) -> str:
    """The file name of a test photo: <id>.jpg."""
    return f"{image_id}.jpg"
