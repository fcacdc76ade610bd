"""Progressive resizing: each epoch trains on batches of the size its progress gives it."""

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from keras import layers
from training_run import train_once

from helpers.config import ConfigError, load_config
from helpers.modeling.training import build_model
from helpers.modeling.training.model import inference_network
from helpers.modeling.training.resizing import (
    ProgressiveResizing,
    TrainingSize,
    shrink,
    size_at,
    training_sizes,
)


def test_sizes_grow_by_steps_and_the_last_quarter_of_the_run_is_at_full_size():
    cfg = load_config(overrides={"image_size": 72, "start_image_size": 48}, environ={})
    sizes = training_sizes(cfg)
    assert sizes == (48, 56, 64, 72)
    progresses = [0.0, 0.24, 0.25, 0.49, 0.5, 0.74, 0.75, 1.0]
    assert [size_at(sizes, p) for p in progresses] == [48, 48, 56, 56, 64, 64, 72, 72]
    # A start that does not fall on a step still ends at image_size.
    odd = load_config(overrides={"image_size": 72, "start_image_size": 50}, environ={})
    assert training_sizes(odd) == (50, 58, 66, 72)


@pytest.mark.parametrize(
    "overrides",
    [
        {"start_image_size": 72},  # not below image_size
        {"start_image_size": None},
        {"start_image_size": 48, "lr_schedule": "plateau"},  # may stop early, at a small size
        {"start_image_size": 48, "model": "mobilenet_v3_small"},  # trains in phases of its own
    ],
)
def test_other_settings_train_every_epoch_at_full_size(overrides):
    cfg = load_config(overrides={"image_size": 72, **overrides}, environ={})
    assert training_sizes(cfg) == (72,)


def test_a_start_size_below_16_is_refused():
    with pytest.raises(ConfigError, match="start_image_size=8 must be empty or at least 16"):
        load_config(overrides={"start_image_size": 8}, environ={})


class SeenSize(layers.Layer):
    """Records the height of the last batch the model trained on."""

    def build(self, input_shape):
        self.seen = self.add_weight(shape=(), dtype="int32", initializer="zeros", trainable=False)

    def call(self, images):
        self.seen.assign(keras.ops.shape(images)[1])
        return images


def test_training_batches_shrink_and_every_other_batch_passes_as_it_is():
    images = np.random.default_rng(0).integers(0, 256, (2, 32, 32, 3)).astype("float32")
    layer = TrainingSize(16)
    small = keras.ops.convert_to_numpy(layer(images, training=True))
    assert small.shape == (2, 16, 16, 3)
    np.testing.assert_array_equal(small, keras.ops.convert_to_numpy(shrink(images, 16)))
    assert small.min() >= 0 and small.max() <= 255 and (small == np.round(small)).all()
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(images)), images)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(TrainingSize(32)(images, training=True)), images
    )


def test_every_batch_of_an_epoch_has_that_epochs_size():
    seen = SeenSize()
    model = keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            TrainingSize(),
            seen,
            layers.Conv2D(4, 3),
            layers.GlobalAveragePooling2D(),
            layers.Dense(2, activation="softmax"),
        ]
    )
    model.compile("sgd", "categorical_crossentropy")
    images = np.random.default_rng(0).integers(0, 256, (40, 32, 32, 3), dtype="uint8")
    labels = np.eye(2, dtype="float32")[np.arange(40) % 2]
    batches = tf.data.Dataset.from_tensor_slices((images, labels)).batch(4).prefetch(8)
    resizing = ProgressiveResizing((16, 24, 32), progress=lambda epoch: epoch / 4)
    sizes_seen = []

    class EverySize(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            sizes_seen.append(int(seen.seen.numpy()))

    history = model.fit(batches, epochs=4, callbacks=[resizing, EverySize()], verbose=0)
    # Epoch progress 0, 0.25, 0.5, 0.75: 16 and 16, then 24, then full size. Every one of an
    # epoch's 10 batches at its size.
    assert sizes_seen == [16] * 20 + [24] * 10 + [32] * 10
    assert history.history["image_size"] == [16, 16, 24, 32]


def test_the_saved_network_leaves_the_resizing_behind_augmentation_or_not():
    for augment in (True, False):
        cfg = load_config(
            overrides={"image_size": 32, "start_image_size": 16, "augment": augment}, environ={}
        )
        model = build_model(cfg, steps_per_epoch=10)
        assert "training_size" in [layer.name for layer in model.layers]
        network = inference_network(model)
        assert network.name == cfg.model
        assert not [layer for layer in network.layers if isinstance(layer, TrainingSize)]


def test_a_progressive_run_trains_and_saves_a_network_of_the_full_size(kaggle_dir, tmp_path, capfd):
    cfg = load_config(
        overrides={
            "data_dir": str(kaggle_dir),
            "run_dir": str(tmp_path / "run"),
            "image_size": 32,
            "start_image_size": 16,
            "batch_size": 4,
            "epochs": 4,
            "train_minutes": None,
            "precision": "float32",
        },
        environ={},
    )
    run, history = train_once(cfg)
    # Under op determinism (train_once seeds), a stateful op in the input pipeline makes TensorFlow
    # run all of it on one thread with no prefetching; the rewrite announces itself with this line.
    assert "use_unbounded_threadpool" not in capfd.readouterr().err
    assert history["image_size"].tolist() == [16, 16, 24, 32]
    assert pd.read_csv(run.history)["image_size"].tolist() == [16, 16, 24, 32]
    saved = keras.saving.load_model(run.model)
    assert saved.input_shape == (None, 32, 32, 3) and np.isfinite(history["loss"]).all()
