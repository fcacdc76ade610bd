"""Notebook 06's steps: predictions it reads, calibration it saves, photos it explains."""

import json
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from helpers.artifacts import RunPaths, write_csv
from helpers.modeling.explain import (
    GradCAM,
    confident_per_class,
    explain_paths,
    own_photo_paths,
    photo_upload,
)
from helpers.modeling.inference import (
    CALIBRATED_COLUMN,
    calibrate,
    read_predictions,
    save_calibration,
)
from helpers.modeling.networks import build_seed_cnn
from helpers.synthetic import make_stripes_image


def overconfident_predictions(n=400, seed=0):
    rng = np.random.default_rng(seed)
    truth = rng.uniform(0.05, 0.95, n)
    labels = (rng.uniform(0, 1, n) < truth).astype("int64")
    logit = np.log(truth / (1 - truth)) * 4  # four times too sure
    dog_probability = 1 / (1 + np.exp(-logit))
    predicted = (dog_probability >= 0.5).astype("int64")
    confidence = np.where(predicted == 1, dog_probability, 1 - dog_probability)
    return pd.DataFrame(
        {
            "id": np.arange(n),
            "label": labels,
            "dog_probability": dog_probability,
            "confidence": confidence,
            "predicted": predicted,
        }
    )


def test_calibration_is_saved_and_applied_as_a_column_only_when_it_helps(tmp_path):
    run = RunPaths(tmp_path)
    frame = overconfident_predictions()
    write_csv(frame, run.validation_predictions)
    report = calibrate(frame["dog_probability"], frame["label"])
    assert report.apply, report.reason
    assert save_calibration(run, report, {run.validation_predictions: frame}) == [
        run.validation_predictions
    ]
    saved = pd.read_csv(run.validation_predictions)
    assert ((saved[CALIBRATED_COLUMN] >= 0.5) == (saved["dog_probability"] >= 0.5)).all()
    assert json.loads((tmp_path / "calibration.json").read_text())["column"] == CALIBRATED_COLUMN
    # Read back for a re-run, the old column is gone: the fit sees the model's own probabilities.
    assert CALIBRATED_COLUMN not in read_predictions(
        run.validation_predictions, "04_training_curves"
    )

    perfect = frame.assign(
        label=frame["predicted"], dog_probability=frame["predicted"] * 0.998 + 0.001
    )
    refused = calibrate(perfect["dog_probability"], perfect["label"])
    write_csv(perfect, run.validation_predictions)
    assert save_calibration(run, refused, {run.validation_predictions: perfect}) == []
    assert CALIBRATED_COLUMN not in pd.read_csv(run.validation_predictions)
    assert json.loads((tmp_path / "calibration.json").read_text())["apply"] is False


def test_missing_predictions_name_the_notebook_to_run(tmp_path):
    with pytest.raises(FileNotFoundError, match="run notebook 04_training_curves first"):
        read_predictions(tmp_path / "val_predictions.csv", "04_training_curves")


def test_confident_per_class_takes_right_answers_of_each_class_surest_first():
    frame = overconfident_predictions()
    frame["filename"] = [f"{i}.jpg" for i in frame["id"]]
    chosen = confident_per_class(frame, 3)
    assert list(chosen["label"]) == [0, 0, 0, 1, 1, 1]
    assert (chosen["predicted"] == chosen["label"]).all()
    assert (
        chosen["confidence"].iloc[0]
        == frame.query("label == 0 and predicted == 0")["confidence"].max()
    )


def stripes_photos(folder, count=3):
    rng = np.random.default_rng(0)
    paths = []
    for i in range(count):
        make_stripes_image(i % 2, rng).save(folder / f"{i + 1}.jpg")
        paths.append(folder / f"{i + 1}.jpg")
    return paths


def test_own_photos_default_to_test_images_and_resolve_relative_paths(tmp_path, monkeypatch):
    monkeypatch.setenv("CATSDOGS_ROOT", str(tmp_path))
    test_paths = pd.DataFrame({"id": [3, 1, 2], "path": ["c.jpg", "a.jpg", "b.jpg"]})
    assert own_photo_paths([], test_paths) == ["a.jpg", "b.jpg"]
    assert own_photo_paths(["mine.jpg", "/abs/x.png"], test_paths) == [
        str(tmp_path / "mine.jpg"),
        "/abs/x.png",
    ]


def test_explain_paths_draws_photos_and_names_a_missing_one(tmp_path):
    gradcam = GradCAM.for_model(build_seed_cnn(32))
    paths = [str(p) for p in stripes_photos(tmp_path)]
    fig = explain_paths(gradcam, paths, columns=2)
    assert len([ax for ax in fig.axes if ax.images]) == 6  # each photo and its overlay
    with pytest.raises(FileNotFoundError, match="no photo at .*nope.jpg"):
        explain_paths(gradcam, [str(tmp_path / "nope.jpg")])


def test_upload_widget_passes_each_uploaded_photo_to_the_callback(tmp_path):
    received = []
    widget = photo_upload(lambda path: received.append((path.name, path.read_bytes())))
    upload = widget.children[0]
    content = stripes_photos(tmp_path, 1)[0].read_bytes()
    upload.value = (
        {
            "name": "../my cat.jpg",
            "type": "image/jpeg",
            "size": len(content),
            "content": memoryview(content),
            "last_modified": datetime.now(UTC),
        },
    )
    assert received == [("my cat.jpg", content)]  # saved under its bare name, in a temporary folder


def test_upload_widget_says_when_a_file_is_not_an_image(capsys):
    gradcam = GradCAM.for_model(build_seed_cnn(32))
    upload = photo_upload(lambda path: explain_paths(gradcam, [str(path)])).children[0]
    upload.value = (
        {
            "name": "notes.txt",
            "type": "text/plain",
            "size": 5,
            "content": memoryview(b"hello"),
            "last_modified": datetime.now(UTC),
        },
    )
    assert "notes.txt could not be read as an image" in capsys.readouterr().out
