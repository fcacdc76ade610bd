"""Run-folder files cut short by a kill or edited into nonsense: each named, with what to do."""

from __future__ import annotations

import json

import h5py
import keras
import numpy as np
import pytest

from helpers.artifacts import DamagedRunFileError, RunPaths
from helpers.config import load_config
from helpers.dataset import load_dataset_index, load_split
from helpers.history import load_history, read_history
from helpers.modeling.training.backup import METADATA, PREVIOUS, WEIGHTS
from helpers.modeling.training.fit import history_to_continue, save_best_network

HEADER = "epoch,accuracy,elapsed_s,learning_rate,loss,val_accuracy,val_loss\n"
ROWS = "0,0.7,40.0,0.001,0.6,0.80,0.45\n1,0.8,70.0,0.001,0.4,0.91,0.30\n"
TORN = "2,0.85,101.5,0.0"  # killed while CSVLogger wrote epoch 3's row


@pytest.fixture
def run(tmp_path) -> RunPaths:
    run = RunPaths(tmp_path / "run")
    run.backup_dir.mkdir(parents=True)
    return run


def _backup(folder, epochs: int, suffix: str = "") -> None:
    """A whole Keras backup state that holds `epochs` epochs."""
    h5py.File(folder / f"{WEIGHTS}{suffix}", "w").close()
    (folder / f"{METADATA}{suffix}").write_text(json.dumps({"epoch": epochs, "batch": 0}))


def test_a_history_whose_last_line_was_cut_short_resumes_without_it(run, capsys):
    run.history.write_text(HEADER + ROWS + TORN)
    history, torn = read_history(run.history)
    assert torn and history["epoch"].tolist() == [0, 1]
    with pytest.warns(UserWarning, match="last line was cut short"):
        assert load_history(run)["epoch"].tolist() == [1, 2]

    _backup(run.backup_dir, epochs=2)
    resumed = history_to_continue(run)
    assert resumed["epoch"].tolist() == [0, 1]
    assert "kept its first 2 epochs" in capsys.readouterr().out  # said, not silent
    # The file holds whole rows again, byte for byte, so that the next row is not glued to the torn
    # one.
    assert run.history.read_text() == HEADER + ROWS


def test_an_epoch_that_ended_after_the_last_backup_is_trained_again(run, capsys):
    run.history.write_text(HEADER + ROWS)  # killed after epoch 2's row, before its backup
    _backup(run.backup_dir, epochs=1)
    assert history_to_continue(run)["epoch"].tolist() == [0]
    assert run.history.read_text() == HEADER + ROWS.splitlines(keepends=True)[0]
    assert "kept its first 1 epochs" in capsys.readouterr().out


def test_a_history_edited_into_nonsense_is_named_with_what_to_do(run):
    run.history.write_text("this is not, a history\n1,2\n")
    with pytest.raises(DamagedRunFileError, match=r"history.csv is not the file the series writes"):
        load_history(run)
    run.history.write_text(HEADER + "0,0.7,,0.001,0.6,0.80,0.45\n" + ROWS)  # a gap mid-file
    with pytest.raises(DamagedRunFileError, match="missing values.*RUN_DIR"):
        read_history(run.history)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        (WEIGHTS, b"\x89HDF\r\n\x1a\n" + b"\0" * 40),  # an HDF5 file cut short
        (WEIGHTS, b""),
        (METADATA, b'{"epoch": 3, "batch'),
    ],
)
def test_a_backup_cut_short_resumes_from_the_state_before_it(run, name, content, capsys):
    run.history.write_text(HEADER + ROWS)
    _backup(run.backup_dir, epochs=1, suffix=PREVIOUS)  # Keras keeps the state before the latest
    _backup(run.backup_dir, epochs=2)
    (run.backup_dir / name).write_bytes(content)  # the latest, cut short
    assert history_to_continue(run)["epoch"].tolist() == [0]
    assert "resumes from the state before it, after epoch 1" in capsys.readouterr().out
    assert json.loads((run.backup_dir / METADATA).read_text())["epoch"] == 1
    h5py.File(run.backup_dir / WEIGHTS, "r").close()  # whole again, for Keras to load


def test_a_backup_with_no_whole_state_stops_the_resume_naming_it(run):
    run.history.write_text(HEADER + ROWS)
    _backup(run.backup_dir, epochs=2)
    (run.backup_dir / WEIGHTS).write_bytes(b"\x89HDF\r\n\x1a\n")
    with pytest.raises(DamagedRunFileError) as error:
        history_to_continue(run)
    message = str(error.value)
    assert message.startswith(f"{run.backup_dir}: its latest state is damaged")
    assert f"Delete {run.backup_dir} to train again from the first epoch" in message


def test_a_best_checkpoint_cut_short_is_named_not_a_traceback(run):
    run.checkpoint.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    with pytest.raises(DamagedRunFileError, match=r"best.weights.h5, the best epoch's weights"):
        save_best_network(run, model)
    assert not run.model.exists()


def test_a_split_edited_into_nonsense_is_named_with_what_to_do(kaggle_dir, tmp_path):
    cfg = load_config(
        overrides={"data_dir": str(kaggle_dir), "run_dir": str(tmp_path / "run")}, environ={}
    )
    run = RunPaths(tmp_path / "run")
    run.root.mkdir()
    index = load_dataset_index(cfg, run)
    split = load_split(cfg, run, index)
    assert set(split["subset"]) == {"train", "val"}

    run.split.write_text("my notes\nnothing to see\n")
    with pytest.raises(DamagedRunFileError, match="no filename, category, label, subset column"):
        load_split(cfg, run, index)
    split.assign(subset="banana").to_csv(run.split, index=False)
    with pytest.raises(DamagedRunFileError, match="subsets other than train and val.*Delete it"):
        load_split(cfg, run, index)
    run.split.write_bytes(np.random.default_rng(0).bytes(300))
    with pytest.raises(DamagedRunFileError, match="split.csv"):
        load_split(cfg, run, index)


def test_the_damage_reads_as_one_paragraph_in_a_notebook(run):
    run.history.write_text("nonsense\n")
    with pytest.raises(DamagedRunFileError) as error:
        load_history(run)
    (shown,) = error.value._render_traceback_()  # what JupyterLab and papermill print
    assert shown.startswith("DamagedRunFileError: ") and str(run.history) in shown
    assert json.dumps(shown)  # one plain string, no frames
