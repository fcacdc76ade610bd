"""Grad-CAM: where in an image the network looks when it picks a class.

The heatmap is the last 4-D convolutional feature map, its channels weighted by the average
gradient of the class's logit with respect to them, kept where positive and scaled to [0, 1]
(Selvaraju et al., 2017). It works for any Functional or Sequential Keras model whose last 4-D
layer may sit inside a nested model (a transfer-learning backbone) and under `mixed_bfloat16`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import helpers.quiet_tensorflow  # noqa: F401

import keras
import numpy as np
import tensorflow as tf


def feature_layer_path(model: keras.Model) -> list[keras.Layer]:
    """The layers down to the last 4-D output: nested models from the outside in, then the layer."""
    for layer in reversed(model.layers):
        if isinstance(layer, keras.Model):
            try:
                return [layer, *feature_layer_path(layer)]
            except ValueError:
                continue  # a nested model without a 4-D map (a dense head): look further back
        if not isinstance(layer, keras.layers.InputLayer) and len(layer.output.shape) == 4:
            return [layer]
    raise ValueError(
        f"model {model.name!r} has no layer with a 4-D (batch, height, width, channels) output: "
        "Grad-CAM needs a convolutional feature map"
    )


def _is_softmax(activation: Callable | None) -> bool:
    return getattr(activation, "__name__", "") == "softmax"


def _without_softmax(layer: keras.Layer) -> Callable:
    """A callable computing `layer` without its final softmax: the logits Grad-CAM differentiates.

    The gradient of a probability near 1 vanishes (p * (1 - p)), which leaves the heatmap of a
    confident model empty; the logit's does not.
    """
    if isinstance(layer, keras.layers.Softmax) or (
        isinstance(layer, keras.layers.Activation) and _is_softmax(layer.activation)
    ):
        return lambda x, **kwargs: x
    if isinstance(layer, keras.layers.Dense) and _is_softmax(layer.activation):
        linear = keras.layers.Dense.from_config({**layer.get_config(), "activation": "linear"})
        linear.build((None, layer.kernel.shape[0]))
        linear.set_weights(layer.get_weights())
        return linear
    # An unknown head: log-probabilities differ from logits by a per-image constant only.
    return lambda *args, **kwargs: keras.ops.log(keras.ops.maximum(layer(*args, **kwargs), 1e-30))


def _output_layer(model: keras.Model) -> keras.Layer:
    """The layer that produces the model's (single) output."""
    if len(model.outputs) != 1:
        raise ValueError(
            f"model {model.name!r} has {len(model.outputs)} outputs; Grad-CAM needs one"
        )
    return model.outputs[0]._keras_history.operation


def _rebuild(model: keras.Model, path: list[keras.Layer], logits: bool) -> keras.Model:
    """`model` on its own weights, returning [feature map at the end of `path`, output or logits].

    A nested model on the path is itself rebuilt to expose its inner feature map, and called in
    its place, so the map and the output come from one graph that a gradient can flow through.
    """
    head = path[0] if path else None
    last = _output_layer(model)
    captured: dict[str, keras.KerasTensor] = {}

    def call(layer: keras.Layer, *args, **kwargs):
        strip = logits and layer is last
        if layer is head and len(path) > 1:
            captured["feature"], out = _rebuild(layer, path[1:], strip)(*args, **kwargs)
            return out
        if strip:
            out = (
                _rebuild(layer, [], True)
                if isinstance(layer, keras.Model)
                else _without_softmax(layer)
            )(*args, **kwargs)
        else:
            out = layer(*args, **kwargs)
        if layer is head:
            captured["feature"] = out
        return out

    if isinstance(model, keras.Sequential):
        inputs = keras.Input(batch_shape=model.inputs[0].shape, dtype=model.inputs[0].dtype)
        out = inputs
        for layer in model.layers:
            out = call(layer, out)
    else:
        clone = keras.models.clone_model(
            model, clone_function=lambda layer: layer, call_function=call
        )
        inputs, out = clone.inputs, clone.outputs[0]
    return keras.Model(inputs, [captured["feature"], out] if path else out)


@dataclass(frozen=True)
class GradCAM:
    """A model rebuilt to return its last feature map and logits; `explain` gives heatmaps."""

    model: keras.Model
    explainer: keras.Model
    feature_layer: str

    @classmethod
    def for_model(cls, model: keras.Model) -> GradCAM:
        """Grad-CAM for `model`, at its last 4-D feature map wherever that sits."""
        path = feature_layer_path(model)
        explainer = _rebuild(model, path, logits=True)
        return cls(model, explainer, "/".join(layer.name for layer in path))

    def explain(
        self, images: np.ndarray, class_index: Sequence[int] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Heatmaps (float32, [n, height, width] in [0, 1]) for `class_index` (default: predicted
        class) and the class probabilities (float32, [n, classes]) of a batch of 0-255 images."""
        images = tf.convert_to_tensor(np.asarray(images), dtype=tf.float32)
        with tf.GradientTape() as tape:
            feature, logits = self.explainer(images, training=False)
            logits = tf.cast(logits, tf.float32)
            chosen = (
                tf.argmax(logits, axis=-1)
                if class_index is None
                else tf.constant(class_index, tf.int64)
            )
            score = tf.gather(logits, chosen, axis=1, batch_dims=1)
        # Everything after the gradient is float32, whatever precision the network computes in.
        grads = tf.cast(tape.gradient(score, feature), tf.float32)
        feature = tf.cast(feature, tf.float32)
        weights = tf.reduce_mean(grads, axis=(1, 2), keepdims=True)
        cam = tf.nn.relu(tf.reduce_sum(feature * weights, axis=-1))
        peak = tf.reduce_max(cam, axis=(1, 2), keepdims=True)
        cam = tf.math.divide_no_nan(cam, peak)
        cam = tf.image.resize(cam[..., None], images.shape[1:3], method="bilinear")[..., 0]
        heatmaps = tf.clip_by_value(tf.where(tf.math.is_finite(cam), cam, 0.0), 0.0, 1.0)
        return heatmaps.numpy(), tf.nn.softmax(logits).numpy()


def explain_images(
    gradcam: GradCAM,
    images: np.ndarray,
    class_index: Sequence[int] | None = None,
    batch_size: int = 32,
) -> tuple[np.ndarray, np.ndarray]:
    """`gradcam.explain` over `images` in batches; heatmaps and probabilities for all of them."""
    parts = [
        gradcam.explain(
            images[start : start + batch_size],
            None if class_index is None else class_index[start : start + batch_size],
        )
        for start in range(0, len(images), batch_size)
    ]
    if not parts:
        return np.zeros((0, *images.shape[1:3]), np.float32), np.zeros((0, 2), np.float32)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
