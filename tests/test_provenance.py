"""A run folder knows what made its files: a later session with other settings never reuses them
silently (it stops, or with force sets them aside and makes them anew); the same settings resume."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from helpers.artifacts import open_run
from helpers.config import load_config
from helpers.dataset import load_dataset_index, load_split
from helpers.provenance import StaleRunFileError, check_made_with, record_made_with


def session(kaggle_dir, run_dir, **settings):
    """What notebooks 01 to 03 do with the split, as a Lab session with these settings."""
    overrides = {"data_dir": str(kaggle_dir), "run_dir": str(run_dir), **settings}
    cfg = load_config(overrides=overrides, environ={})
    run = open_run(cfg)
    return cfg, run, load_split(cfg, run, load_dataset_index(cfg, run))


def test_a_second_session_with_other_settings_never_uses_the_first_split(kaggle_dir, tmp_path):
    _, run, first = session(kaggle_dir, tmp_path / "run", max_train_images=10)
    assert len(first) == 10
    with pytest.raises(StaleRunFileError) as error:
        session(kaggle_dir, tmp_path / "run", max_train_images=16)
    message = str(error.value)
    assert "max_train_images=10, not 16" in message and "RUN_DIR=" in message
    assert "FORCE=1" in message and str(run.root) in message
    assert "run_dir" in "\n".join(error.value._render_traceback_())  # the notebook's fix too
    assert run.split.read_text() == first.to_csv(index=False)  # nothing was changed

    # The same settings again: the split is reused, as a resumed session needs it.
    _, _, again = session(kaggle_dir, tmp_path / "run", max_train_images=10)
    assert again.equals(first)


def test_force_sets_the_stale_files_aside_and_makes_them_anew(kaggle_dir, tmp_path, capsys):
    cfg, run, first = session(kaggle_dir, tmp_path / "run", max_train_images=10)
    record_made_with(cfg, run, "training")
    run.history.write_text("epoch,loss\n0,0.7\n")  # a training made from the old split
    _, run, second = session(kaggle_dir, tmp_path / "run", max_train_images=16, force=True)
    assert len(second) == 16 and not run.history.exists()
    (replaced,) = run.root.glob("replaced-*")
    assert (replaced / "split.csv").read_text() == first.to_csv(index=False)
    assert (replaced / "history.csv").is_file() and "set aside" in capsys.readouterr().out
    # The new split is recorded: a third session with its settings goes on without a word.
    session(kaggle_dir, tmp_path / "run", max_train_images=16)


def test_training_resumes_only_what_the_same_settings_began(kaggle_dir, tmp_path):
    cfg, run, _ = session(kaggle_dir, tmp_path / "run")
    record_made_with(cfg, run, "training")
    run.backup_dir.mkdir(parents=True)  # an interrupted training
    check_made_with(cfg, run, "training")  # the same settings: resume
    for setting, value in [("learning_rate", 0.01), ("image_size", 96), ("epochs", 3)]:
        with pytest.raises(StaleRunFileError, match=f"{setting}="):
            check_made_with(dataclasses.replace(cfg, **{setting: value}), run, "training")
    # What only predicts differently is no reason to stop.
    check_made_with(dataclasses.replace(cfg, test_time_zoom=1.0), run, "training")


def test_a_run_folder_from_before_the_records_is_taken_as_it_is(kaggle_dir, tmp_path):
    _, run, first = session(kaggle_dir, tmp_path / "run", max_train_images=10)
    run.made_with.unlink()
    _, _, again = session(kaggle_dir, tmp_path / "run", max_train_images=10)
    assert np.array_equal(again["filename"], first["filename"])
