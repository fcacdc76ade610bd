"""Export a saved model for serving (TensorFlow SavedModel) and for phones and small boards
(LiteRT), and check each export against the Keras model. The command is helpers.cli.export
(`make export`).

Every export computes in float32: a model trained under mixed_bfloat16 keeps float32 weights, and
LiteRT has no bfloat16 kernels, so the exports are built from a float32 copy of the network.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import helpers.quiet_tensorflow  # noqa: F401

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from helpers.config import read_yaml_settings
from helpers.dataset import read_labels, true_label
from helpers.layout import DOG_LABEL, DOG_THRESHOLD
from helpers.modeling.inference.files import expand_inputs, readable_images
from helpers.pipeline import load_images
from helpers.runtime import captured_stderr

LITERT_DELEGATE_NOTICE = "INFO: Created TensorFlow Lite XNNPACK delegate"


@dataclass(frozen=True)
class ExportPaths:
    """Where the exports of one model file go: beside it, in its run folder."""

    model: Path

    @property
    def saved_model(self) -> Path:
        return self.model.with_name(f"{self.model.stem}_savedmodel")

    @property
    def tflite_float32(self) -> Path:
        return self.model.with_name(f"{self.model.stem}_float32.tflite")

    @property
    def tflite_dynamic_range(self) -> Path:
        return self.model.with_name(f"{self.model.stem}_dynamic_range.tflite")

    @property
    def check(self) -> Path:
        return self.model.with_name(f"{self.model.stem}_export_check.csv")


def _is_mixed(policy: Any) -> bool:
    """Whether a serialized dtype policy (a name or a DTypePolicy config) is a mixed one."""
    if isinstance(policy, dict) and policy.get("class_name") == "DTypePolicy":
        policy = policy.get("config", {}).get("name")
    return isinstance(policy, str) and policy.startswith("mixed_")


def _float32_config(config: Any) -> Any:
    """A model config with every mixed dtype policy, nested models' included, made float32."""
    if isinstance(config, list):
        return [_float32_config(item) for item in config]
    if not isinstance(config, dict):
        return config
    return {
        key: "float32" if key == "dtype" and _is_mixed(value) else _float32_config(value)
        for key, value in config.items()
    }


def float32_copy(model: keras.Model) -> keras.Model:
    """The same network with the same weights, computing in float32 throughout."""
    if not any(_is_mixed(layer.dtype_policy.name) for layer in model._flatten_layers()):
        return model  # float32 already (any model, subclassed ones too, needs no rebuilding)
    copy = model.__class__.from_config(_float32_config(model.get_config()))
    copy.set_weights(model.get_weights())
    return copy


def tflite_bytes(saved_model: Path, dynamic_range: bool) -> bytes:
    """A LiteRT (TFLite) flatbuffer of a SavedModel: float32, or int8 weights (dynamic range)."""
    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model))
    if dynamic_range:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]  # no representative data: weights only
    return converter.convert()


def _move_into_place(built: Path, target: Path, trash: Path) -> None:
    """Rename `built` to `target`; an earlier export there is moved into `trash` first."""
    if target.exists():
        target.rename(trash / target.name)
    built.rename(target)


def export_model(model: keras.Model, paths: ExportPaths) -> ExportPaths:
    """Write the SavedModel and both LiteRT models beside the model file, each moved in whole."""
    network = float32_copy(model)
    build = Path(tempfile.mkdtemp(prefix=".export-", dir=paths.model.parent))
    try:
        saved = build / paths.saved_model.name
        network.export(str(saved), format="tf_saved_model", verbose=False)
        (build / paths.tflite_float32.name).write_bytes(tflite_bytes(saved, dynamic_range=False))
        (build / paths.tflite_dynamic_range.name).write_bytes(
            tflite_bytes(saved, dynamic_range=True)
        )
        trash = build / "replaced"
        trash.mkdir()
        for target in (paths.saved_model, paths.tflite_float32, paths.tflite_dynamic_range):
            _move_into_place(build / target.name, target, trash)
    finally:
        shutil.rmtree(build, ignore_errors=True)
    return paths


def _litert_runner(path: Path) -> Callable[[np.ndarray], np.ndarray]:
    """A function giving P(dog) for one image [1, size, size, 3] with the LiteRT interpreter."""
    from ai_edge_litert.interpreter import Interpreter

    with captured_stderr() as captured:
        interpreter = Interpreter(model_path=str(path))
        interpreter.allocate_tensors()
    # LiteRT announces its default CPU delegate on every run ("INFO: Created TensorFlow Lite
    # XNNPACK delegate for CPU."): not news to the reader. Anything else it said is passed on.
    sys.stderr.write(
        "".join(
            line
            for line in captured.getvalue().splitlines(keepends=True)
            if not line.startswith(LITERT_DELEGATE_NOTICE)
        )
    )
    (image,), (output,) = interpreter.get_input_details(), interpreter.get_output_details()

    def run(batch: np.ndarray) -> np.ndarray:
        interpreter.set_tensor(image["index"], batch.astype(np.float32))
        interpreter.invoke()
        return interpreter.get_tensor(output["index"])[:, DOG_LABEL]

    return run


def _saved_model_runner(path: Path) -> Callable[[np.ndarray], np.ndarray]:
    """A function giving P(dog) for a batch of images with the SavedModel's `serve` signature."""
    loaded = tf.saved_model.load(str(path))  # kept referenced: `serve` needs its variables alive
    return lambda batch: loaded.serve(tf.constant(batch, tf.float32)).numpy()[:, DOG_LABEL]


def _keras_runner(model: keras.Model) -> Callable[[np.ndarray], np.ndarray]:
    """A function giving P(dog) for a batch of images with the Keras model as loaded."""
    return lambda batch: np.asarray(model.predict_on_batch(batch.astype(np.float32)))[:, DOG_LABEL]


def median_latency_ms(
    run: Callable[[np.ndarray], np.ndarray], image: np.ndarray, runs: int
) -> float:
    """Median wall time of one single-image prediction, in milliseconds, after 3 warm-up runs."""
    for _ in range(3):
        run(image)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run(image)
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def _size_mb(path: Path) -> float:
    """Size of a file, or of every file in a folder, in MB (10^6 bytes)."""
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 1e6


def check_exports(
    model: keras.Model,
    model_file: Path,
    images: np.ndarray,
    labels: np.ndarray | None,
    runs: int = 50,
) -> pd.DataFrame:
    """Per format: file size, largest |P(dog) - Keras's P(dog)|, accuracy (with labels) and latency.

    Each runs on this CPU, one image at a time for LiteRT (as on a device), in batches of 64 for
    Keras and the SavedModel; latency is the median of `runs` single-image predictions.
    """
    paths = ExportPaths(Path(model_file))
    reference = _keras_runner(model)
    formats = {
        "keras": (paths.model, reference, 64),
        "savedmodel": (paths.saved_model, _saved_model_runner(paths.saved_model), 64),
        "litert_float32": (paths.tflite_float32, _litert_runner(paths.tflite_float32), 1),
        "litert_dynamic_range": (
            paths.tflite_dynamic_range,
            _litert_runner(paths.tflite_dynamic_range),
            1,
        ),
    }
    keras_dog = None
    rows = []
    for name, (path, run, batch) in formats.items():
        dog = np.concatenate([run(images[i : i + batch]) for i in range(0, len(images), batch)])
        keras_dog = dog if keras_dog is None else keras_dog
        rows.append(
            {
                "format": name,
                "file": path.name,
                "size_mb": round(_size_mb(path), 3),
                "max_abs_diff_p_dog": float(np.abs(dog - keras_dog).max()),
                "accuracy": float(((dog >= DOG_THRESHOLD) == labels).mean())
                if labels is not None
                else np.nan,
                "latency_ms": round(median_latency_ms(run, images[:1], runs), 3),
            }
        )
    return pd.DataFrame(rows)


def check_images(
    model_file: Path, images: Sequence[str], labels_file: Path | None, max_images: int
) -> tuple[list[Path], Path | None, list[tuple[str, str]]]:
    """The image files to check on, their labels file, and the files skipped with the reason.

    The images given, else the run's test set (from the config.yaml beside the model file).
    """
    if not images:
        config = Path(model_file).with_name("config.yaml")
        settings = read_yaml_settings(config) if config.is_file() else {}
        test_dir = settings.get("test_dir")
        if not test_dir or not Path(test_dir).is_dir():
            return [], None, []
        images = [test_dir]
        labels = Path(settings.get("test_labels") or "")
        labels_file = labels_file or (labels if labels.is_file() else None)
    files, skipped = expand_inputs(images)
    good, bad = readable_images(files)
    return good[:max_images], labels_file, skipped + bad


def check_set(
    files: Sequence[Path], labels_file: Path | None, size: int
) -> tuple[np.ndarray, np.ndarray | None, str]:
    """Decoded check images, their labels (True = dog) when all are known, and a description."""
    if not files:
        images = np.random.default_rng(0).integers(0, 256, (32, size, size, 3), dtype=np.uint8)
        return images, None, "32 random-pixel images (no check images: agreement only)"
    images = load_images(files, size)
    table = read_labels(labels_file) if labels_file else None
    truth = [true_label(path, table) for path in files] if table is not None else []
    known = sum(label is not None for label in truth)
    if truth and known == len(files):
        return images, np.array(truth) == 1, f"{len(files)} images with labels"
    note = f" (labels for {known} of them only: no accuracy)" if labels_file else ""
    return images, None, f"{len(files)} images{note}"
