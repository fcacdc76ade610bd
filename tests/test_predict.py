import json
import os

import numpy as np
import pandas as pd
import pytest

from helpers.artifacts import atomic_write, write_json
from helpers.modeling.inference import (
    make_submission,
    predictions_frame,
    score_predictions,
    write_submission,
)


def test_submission_is_id_label_sorted_numerically_with_dog_as_1(tmp_path):
    predictions = predictions_frame([10, 2, 1], np.array([0.9, 0.2, 0.5]))
    path = write_submission(predictions, tmp_path / "submission.csv")
    assert path.read_text() == "id,label\n1,1\n2,0\n10,1\n"
    assert list(make_submission(predictions).columns) == ["id", "label"]
    assert [p.name for p in tmp_path.iterdir()] == [
        "submission.csv"
    ]  # no temporary file left behind


def test_confidence_is_the_probability_of_the_predicted_class():
    frame = predictions_frame([1, 2], np.array([0.8, 0.1]))
    np.testing.assert_allclose(frame["confidence"], [0.8, 0.9])


def test_scores_match_labels_by_id():
    predictions = predictions_frame([1, 2, 3, 4], np.array([0.9, 0.1, 0.8, 0.3]))
    truth = pd.Series([1, 1, 0, 1], index=[4, 3, 2, 1])  # label by id, as read_labels gives them
    scores = score_predictions(predictions, truth)
    assert scores["n_images"] == 4
    assert scores["accuracy"] == pytest.approx(0.75)
    expected = -np.mean(np.log([0.9, 0.9, 0.8, 0.3]))
    assert scores["log_loss"] == pytest.approx(expected)


def test_missing_labels_are_reported():
    predictions = predictions_frame([1, 2], np.array([0.9, 0.1]))
    with pytest.raises(ValueError, match="no label for 1 predicted images \\(for example id 2\\)"):
        score_predictions(predictions, pd.Series([1], index=[1]))


def test_failed_write_keeps_the_previous_file(tmp_path):
    target = tmp_path / "metrics.json"
    write_json({"accuracy": 0.5}, target)

    def interrupted(tmp):
        tmp.write_text('{"accuracy": 0.')
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, interrupted)
    assert json.loads(target.read_text()) == {"accuracy": 0.5}
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_written_files_get_the_usual_permissions(tmp_path):
    old_mask = os.umask(0o022)
    try:
        fresh = write_json({"a": 1}, tmp_path / "fresh.json")
        assert fresh.stat().st_mode & 0o777 == 0o644
        kept = tmp_path / "kept.json"
        kept.write_text("{}")
        kept.chmod(0o600)
        write_json({"a": 2}, kept)
        assert kept.stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(old_mask)


def test_flip_averaging_is_the_mean_of_an_image_and_its_mirror():
    import keras

    from helpers.modeling.inference import flip_averaged

    # A network that looks only at the left half: its mirror image shows it the right half.
    inputs = keras.Input((4, 4, 3))
    left = keras.layers.Cropping2D(((0, 0), (0, 2)))(inputs)
    outputs = keras.layers.Dense(2, activation="softmax")(keras.layers.Flatten()(left))
    model = keras.Model(inputs, outputs)
    images = np.random.default_rng(0).uniform(0, 255, (3, 4, 4, 3)).astype("float32")
    expected = (model.predict(images, verbose=0) + model.predict(images[:, :, ::-1], verbose=0)) / 2
    np.testing.assert_allclose(flip_averaged(model).predict(images, verbose=0), expected, rtol=1e-5)


def test_zoom_averages_each_image_with_its_centre_read_larger(tmp_path):
    import keras
    from image_files import write_image

    from helpers.modeling.inference import predict_dog_probability
    from helpers.pipeline import make_dataset

    paths = [str(write_image(tmp_path / f"{i}.jpg", size=(60, 45), seed=i)) for i in range(3)]
    inputs = keras.Input((16, 16, 3))
    flat = keras.layers.Flatten()(keras.layers.Rescaling(1 / 255)(inputs))
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(flat))

    def dog(images):
        return model.predict(images, verbose=0)[:, 1]

    whole = np.concatenate(list(make_dataset(paths, image_size=16, batch_size=8)))
    larger = np.concatenate(list(make_dataset(paths, image_size=20, batch_size=8)))
    centre = larger[:, 2:18, 2:18]  # zoom 1.25: read at 20 px, the middle 16 px
    expected = (dog(whole) + dog(centre)) / 2
    np.testing.assert_allclose(predict_dog_probability(model, paths), dog(whole), rtol=1e-5)
    np.testing.assert_allclose(
        predict_dog_probability(model, paths, zoom=1.25), expected, rtol=1e-5
    )
    assert not np.allclose(expected, dog(whole))  # the centre is a different view
