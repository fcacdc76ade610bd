"""`make export`: SavedModel and LiteRT files beside the model, agreeing with Keras; errors."""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
import yaml
from ai_edge_litert.interpreter import Interpreter
from image_files import write_image
from saved_models import save_network

from helpers.cli.export import main
from helpers.modeling.export import (
    ExportPaths,
    check_exports,
    check_set,
    export_model,
    float32_copy,
)
from helpers.modeling.inference import load_trained_model
from helpers.modeling.networks import BACKBONES, MODELS

# Every trainable model (the smallest size its pooling allows) as the default recipe trains it,
# under bfloat16, and one network nested inside another; the nested one runs by default, the rest
# (about 10 s each on 2 cores) with the slow tests.
# Of the pretrained backbones, the smallest stands for all: a keras.applications network nested in
# the project's, at the 32 px its stem needs.
SIZES = {
    "seed_cnn": 16,
    "slim_cnn": 16,
    "compact_cnn": 16,
    "large_cnn": 32,
    "mobilenet_v3_small": 32,
}
CASES = [pytest.param("slim_cnn", 16, True, id="slim_cnn-nested")]
CASES += [
    pytest.param(name, size, False, id=name, marks=pytest.mark.slow) for name, size in SIZES.items()
]


def _images(size: int, count: int = 8) -> np.ndarray:
    return np.random.default_rng(1).integers(0, 256, (count, size, size, 3), dtype=np.uint8)


@pytest.mark.parametrize(("name", "size", "nested"), CASES)
def test_exports_are_written_and_agree_with_keras(tmp_path, name, size, nested):
    model_file = save_network(tmp_path / "model.keras", name, size, "mixed_bfloat16", nested, 4.0)
    model = load_trained_model(model_file)
    paths = export_model(model, ExportPaths(model_file))
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "model.keras",
        "model_dynamic_range.tflite",
        "model_float32.tflite",
        "model_savedmodel",
    ]

    images = _images(size)
    keras_dog = model.predict(images.astype("float32"), verbose=0)[:, 1]
    # Far from 0.5 (the head's bias), so that an export with the classes swapped would show.
    assert np.abs(keras_dog - 0.5).min() > 0.3, keras_dog
    loaded = tf.saved_model.load(str(paths.saved_model))
    served = loaded.serve(tf.constant(images, tf.float32))
    # bfloat16 inside the Keras model, float32 in the exports: equal to about bfloat16's precision.
    np.testing.assert_allclose(served.numpy()[:, 1], keras_dog, atol=2e-2)
    for tflite, tolerance in ((paths.tflite_float32, 2e-2), (paths.tflite_dynamic_range, 5e-2)):
        interpreter = Interpreter(model_path=str(tflite))
        interpreter.allocate_tensors()
        (image,), (output,) = interpreter.get_input_details(), interpreter.get_output_details()
        for one, expected in zip(images, keras_dog, strict=True):  # every image, one at a time
            interpreter.set_tensor(image["index"], one[None].astype(np.float32))
            interpreter.invoke()
            got = interpreter.get_tensor(output["index"])[0, 1]
            np.testing.assert_allclose(got, expected, atol=tolerance)


def test_float32_copy_has_no_mixed_precision_left_and_the_same_outputs(tmp_path):
    model = load_trained_model(
        save_network(tmp_path / "m.keras", "compact_cnn", 16, "mixed_bfloat16", True)
    )
    copy = float32_copy(model)
    assert {layer.dtype_policy.name for layer in copy._flatten_layers()} == {"float32"}
    assert "mixed_bfloat16" in {layer.dtype_policy.name for layer in model._flatten_layers()}
    images = _images(16).astype("float32")
    reference = float32_copy(model)  # a float32 copy twice is the same float32 network
    np.testing.assert_array_equal(
        copy.predict(images, verbose=0), reference.predict(images, verbose=0)
    )
    np.testing.assert_allclose(
        copy.predict(images, verbose=0), model.predict(images, verbose=0), atol=2e-2
    )


def test_check_reports_every_format_with_its_difference_accuracy_and_latency(tmp_path):
    model_file = save_network(tmp_path / "model.keras", "seed_cnn", 16)
    model = load_trained_model(model_file)
    export_model(model, ExportPaths(model_file))
    images = _images(16)
    labels = np.array([True, False] * 4)
    report = check_exports(model, model_file, images, labels, runs=3)
    assert report["format"].tolist() == [
        "keras",
        "savedmodel",
        "litert_float32",
        "litert_dynamic_range",
    ]
    assert report["max_abs_diff_p_dog"].iloc[0] == 0
    assert (report["max_abs_diff_p_dog"].iloc[1:3] < 1e-4).all()  # float32 everywhere: tight
    assert report["max_abs_diff_p_dog"].iloc[3] < 5e-2
    assert report["accuracy"].between(0, 1).all() and (report["latency_ms"] > 0).all()
    assert report["size_mb"].iloc[3] < report["size_mb"].iloc[2] / 2  # int8 weights


def test_make_export_command_checks_on_the_runs_test_set_and_replaces_an_old_export(
    tmp_path, capsys
):
    model_file = save_network(tmp_path / "run" / "model.keras", "seed_cnn", 16)
    for i in range(3):
        write_image(tmp_path / "photos" / f"{i}.jpg", seed=i)
    (tmp_path / "labels.csv").write_text("id,label\n0,0\n1,1\n2,1\n")
    config = {"test_dir": str(tmp_path / "photos"), "test_labels": str(tmp_path / "labels.csv")}
    (tmp_path / "run" / "config.yaml").write_text(yaml.safe_dump(config))
    assert main(["--model", str(model_file), "--no-check"]) == 0
    first = (tmp_path / "run" / "model_float32.tflite").stat().st_ino
    assert main(["--model", str(model_file), "--runs", "2"]) == 0
    out = capsys.readouterr().out
    assert "checked on 3 images with labels" in out and "litert_dynamic_range" in out
    report = pd.read_csv(tmp_path / "run" / "model_export_check.csv")
    assert len(report) == 4 and report["accuracy"].notna().all()
    assert (tmp_path / "run" / "model_float32.tflite").stat().st_ino != first  # a new file moved in
    leftovers = [p for p in (tmp_path / "run").iterdir() if p.name.startswith(".")]
    assert leftovers == []  # no temporary folder


def test_check_set_leaves_accuracy_out_when_labels_are_missing_and_falls_back_to_noise(tmp_path):
    files = [write_image(tmp_path / f"{i}.jpg", seed=i) for i in range(2)]
    (tmp_path / "labels.csv").write_text("id,label\n0,1\n")
    images, labels, source = check_set(files, tmp_path / "labels.csv", 16)
    assert images.shape == (2, 16, 16, 3) and images.dtype == np.uint8
    assert labels is None and "labels for 1 of them only" in source
    images, labels, source = check_set(files, None, 16)
    assert labels is None and source == "2 images"
    images, labels, source = check_set([], None, 16)
    assert images.shape == (32, 16, 16, 3) and labels is None and "random-pixel" in source


def test_missing_or_bad_model_file_is_a_clear_error(tmp_path, capsys):
    assert main(["--model", str(tmp_path / "model.keras")]) == 2
    err = capsys.readouterr().err
    assert "no model file at" in err and "make run-all" in err and "Traceback" not in err
    (tmp_path / "model.keras").write_text("oops")
    assert main(["--model", str(tmp_path / "model.keras")]) == 2
    assert "is not a Keras model file" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.keras"]


def test_nothing_is_left_behind_when_an_export_fails(tmp_path, monkeypatch):
    model_file = save_network(tmp_path / "model.keras", "seed_cnn", 16)

    def broken(saved_model, dynamic_range):
        raise RuntimeError("converter broke")

    monkeypatch.setattr("helpers.modeling.export.tflite_bytes", broken)
    with pytest.raises(RuntimeError):
        export_model(keras.models.load_model(model_file), ExportPaths(model_file))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.keras"]


def test_every_network_trained_from_scratch_is_among_the_exported_cases():
    assert set(MODELS) - set(BACKBONES) <= set(SIZES)
