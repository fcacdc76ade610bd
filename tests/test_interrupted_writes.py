"""Training's own files cut short mid-write (a kill, a full disk): the previous whole file stays."""

from __future__ import annotations

import csv

import keras
import numpy as np
import pandas as pd
import pytest

from helpers.modeling.training.callbacks import BestWeights, HistoryFile


def _tiny_model() -> keras.Model:
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(loss="mse")
    return model


def test_the_best_weights_stay_whole_when_a_save_is_cut_short(tmp_path, monkeypatch):
    model, path = _tiny_model(), tmp_path / "best.weights.h5"
    checkpoint = BestWeights(path, monitor="val_loss", save_best_only=True)
    checkpoint.set_model(model)
    checkpoint.on_train_begin()
    checkpoint.on_epoch_end(0, {"val_loss": 1.0})
    saved = [w.copy() for w in model.get_weights()]

    def cut_short(filepath, overwrite=True):
        with open(filepath, "wb") as file:
            file.write(b"\x89HDF\r\n\x1a\n")  # the first bytes of an HDF5 file, then the kill
        raise OSError(28, "No space left on device")

    model.set_weights([w + 1 for w in saved])
    monkeypatch.setattr(model, "save_weights", cut_short)
    with pytest.raises(OSError):
        checkpoint.on_epoch_end(1, {"val_loss": 0.5})
    restored = _tiny_model()
    restored.load_weights(path)  # the first epoch's weights, whole
    for got, want in zip(restored.get_weights(), saved, strict=True):
        np.testing.assert_array_equal(got, want)


def test_the_history_never_holds_a_row_cut_short(tmp_path, monkeypatch):
    path = tmp_path / "history.csv"
    history = HistoryFile(path)
    history.set_model(_tiny_model())
    history.on_train_begin()
    history.on_epoch_end(0, {"loss": 0.5, "val_loss": 0.4})
    whole = path.read_bytes()

    def cut_short(self, row):
        self.writer.writerow([row["epoch"], "0.2"])  # half a row reaches the file, then the kill
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(csv.DictWriter, "writerow", cut_short)
    with pytest.raises(OSError):
        history.on_epoch_end(1, {"loss": 0.3, "val_loss": 0.2})
    assert path.read_bytes() == whole
    monkeypatch.undo()

    resumed = HistoryFile(path)  # the resumed training appends to the whole file
    resumed.set_model(_tiny_model())
    resumed.on_train_begin()
    resumed.on_epoch_end(1, {"loss": 0.3, "val_loss": 0.2})
    resumed.on_train_end()
    assert pd.read_csv(path)["epoch"].tolist() == [0, 1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.csv"]


def test_a_training_that_ended_before_a_kill_is_not_run_again(tmp_path, monkeypatch):
    from helpers.artifacts import RunPaths
    from helpers.modeling.training import fit as fit_module

    run, model = RunPaths(tmp_path / "run"), _tiny_model()
    fits: list[int] = []

    def fit() -> None:
        fits.append(1)
        run.checkpoint.parent.mkdir(parents=True, exist_ok=True)
        model.save_weights(run.checkpoint)
        run.history.write_text("epoch,loss,accuracy,val_loss,val_accuracy,elapsed_s\n0,1,0,1,0,1\n")

    def killed(run, model):
        raise KeyboardInterrupt  # the kill, as the network was being saved

    with monkeypatch.context() as patched:
        patched.setattr(fit_module, "save_best_network", killed)
        with pytest.raises(KeyboardInterrupt):
            fit_module.fit_then_save(run, model, fit)
    history = fit_module.fit_then_save(run, model, fit)  # the same command again
    assert fits == [1] and run.model.is_file() and len(history) == 1
    assert not run.fit_finished.exists()  # a later re-run trains anew
    fit_module.fit_then_save(run, model, fit)
    assert fits == [1, 1]
