import hashlib

import pytest

from helpers.config import load_config
from helpers.dataset import list_labelled_images, list_test_images, read_labels
from helpers.synthetic import ensure_synthetic_dataset


def small_config(data_dir, **extra):
    settings = {
        "data_dir": str(data_dir),
        "synthetic_train_per_class": 10,
        "synthetic_test_count": 6,
        **extra,
    }
    return load_config("smoke", overrides=settings, environ={})


def digest(folder):
    return hashlib.sha1(
        b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())
    ).hexdigest()


def test_generates_a_kaggle_layout_set_with_test_labels(tmp_path):
    cfg = small_config(tmp_path / "synthetic")
    ensure_synthetic_dataset(cfg)
    frame = list_labelled_images(cfg.data_dir)
    assert frame["category"].value_counts().to_dict() == {"cat": 10, "dog": 10}
    assert list_test_images(cfg.test_dir)["id"].tolist() == [1, 2, 3, 4, 5, 6]
    assert read_labels(cfg.test_labels).sum() == 3


def test_is_deterministic_and_reused(tmp_path):
    first, second = small_config(tmp_path / "a"), small_config(tmp_path / "b")
    ensure_synthetic_dataset(first)
    ensure_synthetic_dataset(second)
    assert digest(first.data_dir) == digest(second.data_dir)
    before = (first.data_dir / "train" / "cat.1.jpg").stat().st_mtime_ns
    ensure_synthetic_dataset(first)
    assert (first.data_dir / "train" / "cat.1.jpg").stat().st_mtime_ns == before


def test_regenerates_its_own_older_set_when_settings_change(tmp_path):
    ensure_synthetic_dataset(small_config(tmp_path / "s"))
    ensure_synthetic_dataset(small_config(tmp_path / "s", synthetic_train_per_class=12))
    assert len(list_labelled_images(tmp_path / "s")) == 24
    assert [p.name for p in tmp_path.iterdir()] == ["s"]


def test_refuses_to_write_into_a_folder_of_other_files(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "holiday.jpg").write_bytes(b"precious")
    with pytest.raises(FileExistsError, match="refusing to write into it"):
        ensure_synthetic_dataset(small_config(tmp_path / "mine"))
    assert (tmp_path / "mine" / "holiday.jpg").read_bytes() == b"precious"
