import shutil

import pandas as pd
import pytest
from image_files import write_image

from helpers.artifacts import RunPaths
from helpers.config import load_config
from helpers.dataset import (
    DataNotFoundError,
    LabelsFileError,
    build_dataset_index,
    list_labelled_images,
    list_test_images,
    load_split,
    read_labels,
    split_train_val,
)


def config_for(data_dir, **overrides):
    return load_config(overrides={"data_dir": str(data_dir), **overrides}, environ={})


def test_kaggle_layout_labels_cat_0_dog_1(kaggle_dir):
    frame = list_labelled_images(kaggle_dir)
    assert len(frame) == 20
    assert list(frame.columns) == ["filename", "category", "label"]
    assert (frame.loc[frame["filename"].str.startswith("cat."), "label"] == 0).all()
    assert (frame.loc[frame["filename"].str.startswith("dog."), "label"] == 1).all()


def test_class_folder_layout_any_case(tmp_path):
    for i in range(3):
        write_image(tmp_path / "Cat" / f"{i}.jpg", seed=i)
        write_image(tmp_path / "DOGS" / "nested" / f"{i}.png", fmt="PNG", seed=10 + i)
    (tmp_path / "Cat" / "notes.txt").write_text("not an image")
    frame = list_labelled_images(tmp_path)
    assert sorted(frame["filename"]) == sorted(
        [f"Cat/{i}.jpg" for i in range(3)] + [f"DOGS/nested/{i}.png" for i in range(3)]
    )
    assert frame.set_index("filename").loc["Cat/0.jpg", "label"] == 0
    assert frame.set_index("filename").loc["DOGS/nested/0.png", "label"] == 1


def test_missing_data_folder_says_what_to_put_where(tmp_path):
    with pytest.raises(DataNotFoundError, match=r"does not exist.*train/cat\.<id>\.jpg.*DATA_DIR"):
        list_labelled_images(tmp_path / "nowhere")


def test_empty_data_folder_says_what_to_put_where(tmp_path):
    (tmp_path / "train").mkdir()
    with pytest.raises(
        DataNotFoundError, match=r"No labelled images found in .*train.*PROFILE=smoke"
    ):
        list_labelled_images(tmp_path)


def test_one_class_only_is_refused(tmp_path):
    write_image(tmp_path / "train" / "cat.1.jpg")
    with pytest.raises(DataNotFoundError, match="holds no dog images"):
        list_labelled_images(tmp_path)


def test_unreadable_files_are_reported_not_raised(kaggle_dir):
    (kaggle_dir / "train" / "cat.90.jpg").write_bytes(b"")
    (kaggle_dir / "train" / "dog.91.jpg").write_text("this is text, not a JPEG")
    good = (kaggle_dir / "train" / "cat.1.jpg").read_bytes()
    (kaggle_dir / "train" / "dog.92.jpg").write_bytes(good[: len(good) // 2])
    index = build_dataset_index(config_for(kaggle_dir)).set_index("filename")
    assert index.loc["cat.90.jpg", "error"] == "empty file (0 bytes)"
    assert index.loc["dog.91.jpg", "error"] == "not an image"
    assert index.loc["dog.92.jpg", "error"] == "truncated JPEG (no end-of-image marker)"
    assert index.loc["cat.1.jpg", "error"] == ""
    assert (index.loc["cat.1.jpg", "width"], index.loc["cat.1.jpg", "height"]) == (40, 30)
    assert (index["error"] != "").sum() == 3


def _pool(n_per_class: int) -> pd.DataFrame:
    rows = [
        (f"{c}.{i}.jpg", c, label, f"{c}{i}", "")
        for label, c in enumerate(("cat", "dog"))
        for i in range(n_per_class)
    ]
    return pd.DataFrame(rows, columns=["filename", "category", "label", "sha256", "error"])


def test_split_is_stratified_leak_free_and_seeded():
    pool = _pool(50)
    cfg = load_config(overrides={"val_fraction": 0.2, "seed": 7}, environ={})
    split = split_train_val(pool, cfg)
    assert len(split) == 100 and split["filename"].is_unique
    val = split[split["subset"] == "val"]
    assert len(val) == 20 and (val["label"] == 0).sum() == 10
    assert set(val["filename"]).isdisjoint(split.loc[split["subset"] == "train", "filename"])
    assert split.equals(split_train_val(pool, cfg))
    assert not split.equals(split_train_val(pool, load_config(overrides={"seed": 8}, environ={})))


def test_split_keeps_identical_copies_together_and_skips_unreadable():
    pool = _pool(50)
    pool.loc[pool["filename"].isin(["cat.1.jpg", "cat.2.jpg", "cat.3.jpg"]), "sha256"] = (
        "same-bytes"
    )
    pool.loc[pool["filename"] == "dog.4.jpg", "error"] = "OSError: broken"
    split = split_train_val(pool, load_config(environ={}))
    assert "dog.4.jpg" not in set(split["filename"])
    copies = split[split["filename"].isin(["cat.1.jpg", "cat.2.jpg", "cat.3.jpg"])]
    assert copies["subset"].nunique() == 1


def test_max_train_images_takes_a_stratified_subset():
    split = split_train_val(_pool(100), load_config(overrides={"max_train_images": 40}, environ={}))
    assert len(split) == 40 and (split["label"] == 1).sum() == 20


def test_saved_split_is_reused_and_checked(kaggle_dir, tmp_path):
    cfg = config_for(kaggle_dir)
    run = RunPaths(tmp_path / "run")
    run.root.mkdir()
    index = build_dataset_index(cfg)
    first = load_split(cfg, run, index)
    assert run.split.is_file()
    assert load_split(cfg, run, index).equals(first)
    other = index[index["filename"] != first["filename"].iloc[0]]
    with pytest.raises(DataNotFoundError, match="belongs to other data"):
        load_split(cfg, run, other)


def test_test_images_sorted_by_numeric_id(kaggle_dir):
    test = list_test_images(kaggle_dir / "test1")
    assert test["id"].tolist() == list(range(1, 13))
    assert test["path"].iloc[9].endswith("/10.jpg")


def test_non_numeric_test_names_are_refused(kaggle_dir):
    shutil.copy(kaggle_dir / "test1" / "1.jpg", kaggle_dir / "test1" / "cat.1.jpg")
    with pytest.raises(DataNotFoundError, match=r"<numeric id>\.jpg.*cat\.1\.jpg"):
        list_test_images(kaggle_dir / "test1")


def test_missing_test_folder_is_explained(tmp_path):
    with pytest.raises(DataNotFoundError, match="TEST_DIR"):
        list_test_images(tmp_path / "test1")


def test_test_labels_are_validated(tmp_path):
    good = tmp_path / "labels.csv"
    good.write_text("id,label\n2,1\n1,0\n")
    assert read_labels(good).to_dict() == {2: 1, 1: 0}
    bad = tmp_path / "bad.csv"
    bad.write_text("id,label\n1,cat\n")
    with pytest.raises(ValueError, match="0 \\(cat\\) or 1 \\(dog\\)"):
        read_labels(bad)
    wrong_columns = tmp_path / "wrong.csv"
    wrong_columns.write_text("image,class\n1,0\n")
    with pytest.raises(ValueError, match="must have the columns id,label"):
        read_labels(wrong_columns)


@pytest.mark.parametrize(
    "content, reason",
    [
        (b"", "cannot be read"),
        (b"\xff\xd8\xff\xe0 binary", "cannot be read"),
        (b"id,label\ncat.1,1\n", "every id must be a whole number"),
        (b"id,label\n1,0.5\n", "0 \\(cat\\) or 1 \\(dog\\)"),
    ],
    ids=["empty", "binary", "name-as-id", "fraction"],
)
def test_a_bad_labels_file_is_a_user_error_naming_it(tmp_path, content, reason):
    path = tmp_path / "labels.csv"
    path.write_bytes(content)
    with pytest.raises(LabelsFileError, match=f"labels file {path}.*{reason}"):
        read_labels(path)


def test_labels_columns_may_come_in_any_order_and_a_header_alone_is_no_labels(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("label,id,note\n1,7,x\n")
    assert read_labels(path).to_dict() == {7: 1}
    path.write_text("id,label\n")
    assert read_labels(path).empty
