"""`make predict` / catsdogs-predict: files, folders and globs, bad files skipped, clear errors."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest
from image_files import write_image
from saved_models import save_network

from helpers.cli.predict import build_parser, main
from helpers.config import Config
from helpers.modeling.inference import (
    ModelFileError,
    expand_inputs,
    load_trained_model,
    predict_dog_probability,
)


@pytest.fixture(scope="module")
def model_file(tmp_path_factory) -> Path:
    return save_network(tmp_path_factory.mktemp("model") / "model.keras", "compact_cnn", 16)


@pytest.fixture
def photos(tmp_path) -> Path:
    """Four images of mixed sizes and formats (one PNG, one grey), an empty file and a text file."""
    folder = tmp_path / "photos"
    write_image(folder / "1.jpg", size=(40, 30), seed=1)
    write_image(folder / "2.jpg", size=(90, 120), seed=2)
    write_image(folder / "10.png", fmt="PNG", seed=3)
    write_image(folder / "sub" / "dog.7.jpg", mode="L", seed=4)
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "notes.jpg").write_text("not a photo")
    (folder / "labels.csv").write_text("id,label\n")
    return folder


def test_single_image_prediction_equals_the_batched_notebook_prediction(
    model_file, photos, tmp_path
):
    files = [photos / "1.jpg", photos / "2.jpg", photos / "10.png", photos / "sub" / "dog.7.jpg"]
    # Notebook 05 predicts with the default recipe's test-time views, as the CLI does.
    batched = predict_dog_probability(
        load_trained_model(model_file),
        [str(f) for f in files],
        flip=Config.test_time_flip,
        zoom=Config.test_time_zoom,
    )
    for index, image in enumerate(files):
        output = tmp_path / f"single-{index}.csv"
        assert main([str(image), "--model", str(model_file), "--output", str(output)]) == 0
        single = pd.read_csv(output)
        assert single["file"].tolist() == [str(image)]
        np.testing.assert_allclose(single["dog_probability"], [batched[index]], rtol=0, atol=1e-6)


def test_folders_and_globs_are_expanded_in_natural_order_and_bad_files_named(
    model_file, photos, tmp_path, capsys
):
    output = tmp_path / "preds.csv"
    status = main(
        [
            str(photos),
            str(photos / "*.png"),
            str(tmp_path / "missing.jpg"),
            "--model",
            str(model_file),
            "--output",
            str(output),
        ]
    )
    assert status == 0
    printed = capsys.readouterr()
    assert f"skipped {photos / 'empty.jpg'}: empty file (0 bytes)" in printed.err
    assert f"skipped {photos / 'notes.jpg'}: not an image" in printed.err
    assert f"skipped {tmp_path / 'missing.jpg'}: no such file or folder" in printed.err
    assert "Traceback" not in printed.err
    frame = pd.read_csv(output)
    names = [Path(name).relative_to(photos).as_posix() for name in frame["file"]]
    assert names == ["1.jpg", "2.jpg", "10.png", "sub/dog.7.jpg"]  # the glob's 10.png only once
    assert set(frame["label"]) <= {"cat", "dog"}
    assert ((frame["dog_probability"] >= 0.5) == (frame["label"] == "dog")).all()
    assert "P(dog)" in printed.out and "4 images" in printed.out and "2 unreadable" in printed.out


def test_expand_inputs_reports_an_empty_folder_and_an_unmatched_pattern(tmp_path):
    (tmp_path / "empty").mkdir()
    files, problems = expand_inputs([str(tmp_path / "empty"), str(tmp_path / "*.jpg")])
    assert files == []
    assert [reason for _, reason in problems] == [
        "a folder with no .jpg, .jpeg or .png file in it",
        "a pattern that matches no file",
    ]


def test_nothing_readable_is_an_error(model_file, photos, capsys):
    status = main(
        [str(photos / "empty.jpg"), str(photos / "notes.jpg"), "--model", str(model_file)]
    )
    err = capsys.readouterr().err
    assert status == 2
    assert "nothing to predict" in err and "Traceback" not in err


def test_missing_model_names_the_command_that_trains_one(photos, tmp_path, capsys):
    assert main([str(photos / "1.jpg"), "--model", str(tmp_path / "runs" / "model.keras")]) == 2
    err = capsys.readouterr().err
    assert "no model file at" in err and "make run-all" in err and "Traceback" not in err


def test_a_file_that_is_not_a_model_is_named(photos, tmp_path, capsys):
    fake = tmp_path / "model.keras"
    fake.write_text("not a model")
    assert main([str(photos / "1.jpg"), "--model", str(fake)]) == 2
    assert f"{fake} is not a Keras model file" in capsys.readouterr().err


def test_an_existing_output_is_kept_unless_forced(model_file, photos, tmp_path, capsys):
    output = tmp_path / "preds.csv"
    output.write_text("mine\n")
    assert main([str(photos / "1.jpg"), "--model", str(model_file), "--output", str(output)]) == 2
    assert "already exists" in capsys.readouterr().err and output.read_text() == "mine\n"
    assert (
        main(
            [str(photos / "1.jpg"), "--model", str(model_file), "--output", str(output), "--force"]
        )
        == 0
    )
    assert pd.read_csv(output).columns.tolist() == ["file", "label", "dog_probability"]
    assert (
        main(
            [str(photos / "1.jpg"), "--model", str(model_file), "--output", str(photos), "--force"]
        )
        == 2
    )
    assert "is a folder" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "photos",
        "preds.csv",
    ]  # no temporary left


def test_accuracy_against_a_labels_file(model_file, photos, tmp_path, capsys):
    labels = tmp_path / "labels.csv"
    labels.write_text("id,label\n1,0\n2,1\n10,1\n")
    assert main([str(photos), "--model", str(model_file), "--labels", str(labels)]) == 0
    out = capsys.readouterr().out
    assert "on 4 labelled images of 4 predicted" in out  # 3 by id, dog.7.jpg by its name


def test_a_bad_labels_file_stops_before_predicting_and_names_it(
    model_file, photos, tmp_path, capsys
):
    labels = tmp_path / "labels.csv"
    labels.write_text("file,class\n1.jpg,dog\n")
    assert main([str(photos), "--model", str(model_file), "--labels", str(labels)]) == 2
    captured = capsys.readouterr()
    assert f"labels file {labels} must have the columns id,label" in captured.err
    assert captured.out == ""


def test_safe_mode_stays_on_when_loading(tmp_path):
    inputs = keras.Input((16, 16, 3))
    outputs = keras.layers.Lambda(lambda x: x * 2)(inputs)
    path = tmp_path / "lambda.keras"
    keras.Model(inputs, outputs).save(path)
    with pytest.raises(ModelFileError, match="could not be loaded"):
        load_trained_model(path)


def test_help_says_what_happens_to_an_existing_output(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--help"])
    assert stop.value.code == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "unless --force" in help_text and "runs/latest/model.keras" in help_text


def test_flip_averaging_defaults_to_the_recipe_and_no_flip_turns_it_off():
    assert build_parser().parse_args([]).flip is Config.test_time_flip
    assert build_parser().parse_args(["--no-flip"]).flip is False
    assert build_parser().parse_args(["--flip"]).flip is True


def test_zoom_defaults_to_the_recipe_and_a_zoom_out_of_range_is_refused(model_file, photos, capsys):
    assert build_parser().parse_args([]).zoom == Config.test_time_zoom
    assert main([str(photos / "1.jpg"), "--model", str(model_file), "--zoom", "0.5"]) == 2
    assert "--zoom=0.5 must be between 1 (off) and 2" in capsys.readouterr().err
