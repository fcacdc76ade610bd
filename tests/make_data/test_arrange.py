"""The Kaggle layout from class folders, with a labelled, seeded, duplicate-aware hold-out."""

from __future__ import annotations

import pandas as pd
from image_files import encode

from helpers.dataset import list_labelled_images, list_test_images, read_labels
from helpers.make_data import prepare_data


def test_a_source_without_test_set_gets_a_labelled_seeded_hold_out(tmp_path):
    source = tmp_path / "PetImages"
    for i in range(10):
        (source / "Cat").mkdir(parents=True, exist_ok=True)
        (source / "Dog").mkdir(parents=True, exist_ok=True)
        (source / "Cat" / f"{i}.jpg").write_bytes(encode(seed=i))
        (source / "Dog" / f"{i}.jpg").write_bytes(encode(seed=50 + i))
    for copy in range(10, 13):  # three copies of one photo: all on one side of the hold-out
        (source / "Dog" / f"{copy}.jpg").write_bytes(encode(seed=50))
    for seed in range(6):
        data_dir = tmp_path / f"data{seed}"
        prepare_data(str(source), data_dir, test_count=4, seed=seed, progress=False)
        duplicates = pd.read_csv(data_dir / "duplicates.csv")
        assert duplicates["count"].tolist() == [4] and not duplicates["leakage"].any()
    prepare_data(str(source), tmp_path / "data", test_count=4, progress=False)

    test = list_test_images(tmp_path / "data" / "test1")
    labels = read_labels(tmp_path / "data" / "test1_labels.csv")
    assert test["id"].tolist() == [1, 2, 3, 4]
    assert sorted(labels) == [0, 0, 1, 1]
    assert len(list_labelled_images(tmp_path / "data")) == 19
    assert len(list(source.rglob("*.jpg"))) == 23  # a local folder is copied, never moved
