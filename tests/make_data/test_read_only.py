"""A read-only data folder or run folder (a tmpfs remounted read-only: root ignores permissions)."""

from __future__ import annotations

import shutil

import pytest
from archives import PETIMAGES_FILES, make_zip
from disks import make_read_only, small_disk_at

from helpers.artifacts import open_run
from helpers.cli.data import main as make_data
from helpers.cli.run_all import main as run_all
from helpers.config import load_config
from helpers.dataset import load_dataset_index, load_split
from helpers.series import check_inputs


@pytest.fixture
def read_only_disk(tmp_path):
    """A tmpfs at tmp_path/disk and the function that makes it read-only; skipped without root."""
    disk = tmp_path / "disk"
    with small_disk_at(disk, "16m") as resize:
        if resize is None:
            pytest.skip("cannot mount a tmpfs here: needs root (CAP_SYS_ADMIN)")
        yield disk, lambda: make_read_only(disk)


def test_make_data_into_a_read_only_folder_says_so_and_what_to_do(read_only_disk, tmp_path, capsys):
    disk, make_it_read_only = read_only_disk
    archive = tmp_path / "kagglecatsanddogs.zip"
    archive.write_bytes(make_zip(PETIMAGES_FILES))
    make_it_read_only()
    code = make_data(["--source", str(archive), "--data-dir", str(disk / "data")])
    message = capsys.readouterr().err
    assert code == 2, message
    assert f"make data cannot write in {disk / 'data'}: it is read-only" in message
    assert "DATA_DIR=" in message and "Traceback" not in message


def test_photos_on_a_read_only_disk_are_verified_indexed_and_split(
    read_only_disk, kaggle_dir, tmp_path, capsys
):
    disk, make_it_read_only = read_only_disk
    shutil.copytree(kaggle_dir / "train", disk / "train")
    shutil.copytree(kaggle_dir / "test1", disk / "test1")
    make_it_read_only()
    assert make_data(["--data-dir", str(disk)]) == 0  # only read: nothing to write
    assert "already holds 20 training images" in capsys.readouterr().out
    cfg = load_config(overrides={"data_dir": str(disk), "run_dir": str(tmp_path / "run")})
    assert check_inputs(cfg) is True
    run = open_run(cfg)
    split = load_split(cfg, run, load_dataset_index(cfg, run))
    assert len(split) == 20 and run.split.is_file()


def test_run_all_with_a_read_only_run_folder_names_it(read_only_disk, kaggle_dir, capsys):
    disk, make_it_read_only = read_only_disk
    make_it_read_only()
    code = run_all(["--set", f"DATA_DIR={kaggle_dir}", "--set", f"RUN_DIR={disk / 'run'}"])
    message = capsys.readouterr().err
    assert code == 2, message
    assert f"run-all: a run cannot write in {disk / 'run'}: it is read-only" in message
    assert "RUN_DIR=" in message and "Traceback" not in message
