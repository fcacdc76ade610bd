"""The dataset's conventions: classes, labels, file and folder names."""

from pathlib import Path

import pytest

from helpers.layout import (
    CLASS_FOLDERS,
    CLASS_NAMES,
    DOG_LABEL,
    is_image_file,
    kaggle_category,
    kaggle_name,
    kaggle_test_name,
)


def test_labels_are_the_kaggle_convention_cat_0_dog_1():
    assert CLASS_NAMES.index("cat") == 0 and CLASS_NAMES.index("dog") == DOG_LABEL == 1


@pytest.mark.parametrize(
    "name, category",
    [("cat.1.jpg", "cat"), ("Dog.12.JPG", "dog"), ("dogs.1.jpg", None), ("1.jpg", None)],
)
def test_kaggle_names_give_the_class(name, category):
    assert kaggle_category(name) == category


def test_names_are_written_as_they_are_read():
    assert kaggle_category(kaggle_name("dog", 7)) == "dog"
    assert kaggle_test_name(12) == "12.jpg"
    assert {CLASS_FOLDERS[name] for name in ("cat", "Cats".lower(), "dogs")} == {"cat", "dog"}


def test_image_files_are_visible_files_with_an_image_extension(tmp_path: Path):
    for name in ("a.jpg", "b.PNG", "c.jpeg", ".hidden.jpg", "Thumbs.db", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "folder.jpg").mkdir()
    found = sorted(p.name for p in tmp_path.iterdir() if is_image_file(p))
    assert found == ["a.jpg", "b.PNG", "c.jpeg"]
