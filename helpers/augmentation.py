"""The training augmentation: one random affine transform per image, active only while training."""

from __future__ import annotations

import math

import helpers.quiet_tensorflow  # noqa: F401

import keras
from keras import ops

from helpers.config import Config


class RandomAffine(keras.layers.Layer):
    """Random rotation, shear, zoom, shift and horizontal flip, as one transform per image.

    Keras's RandomRotation, RandomShear, RandomZoom, RandomTranslation and RandomFlip resample the
    batch once each; composing their matrices and resampling once was about 4.5x faster on a 2-core
    CPU in a side-by-side probe (docs/history.md). Borders are filled with the nearest pixel, as the
    seed's ImageDataGenerator fills them. Written in keras.ops, so it runs on every backend Keras
    has (on TensorFlow, keras.ops.image.affine_transform is the same projective-transform kernel).
    """

    def __init__(
        self,
        rotation_degrees: float = 0.0,
        shear: float = 0.0,
        zoom: float = 0.0,
        shift: float = 0.0,
        horizontal_flip: bool = False,
        seed: int | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.rotation_degrees = rotation_degrees
        self.shear = shear
        self.zoom = zoom
        self.shift = shift
        self.horizontal_flip = horizontal_flip
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def strengths(self) -> str:
        """The transformation strengths, as settings: "rotation_degrees=15.0, shear=0.1, ..."."""
        names = ("rotation_degrees", "shear", "zoom", "shift", "horizontal_flip")
        return ", ".join(f"{name}={getattr(self, name)}" for name in names)

    def _uniform(self, n: int, limit: float):
        """n draws from U(-limit, limit)."""
        return keras.random.uniform((n,), -limit, limit, seed=self.seed_generator)

    def transforms(self, n: int, height: int, width: int):
        """[n, 8] projective transforms from output to input pixels, about the image centre."""
        angle = self._uniform(n, self.rotation_degrees * math.pi / 180.0)
        shear_x, shear_y = self._uniform(n, self.shear), self._uniform(n, self.shear)
        scale = 1.0 + self._uniform(n, self.zoom)  # above 1 samples a wider area: zooms out
        flip = ops.ones((n,))
        if self.horizontal_flip:
            flip = ops.where(keras.random.uniform((n,), seed=self.seed_generator) < 0.5, -1.0, 1.0)
        cos, sin = ops.cos(angle), ops.sin(angle)
        # A = rotation @ shear @ (scale * flip_x), written out entry by entry.
        a00 = (cos - sin * shear_y) * scale * flip
        a01 = (cos * shear_x - sin) * scale
        a10 = (sin + cos * shear_y) * scale * flip
        a11 = (sin * shear_x + cos) * scale
        width, height = ops.cast(width, "float32"), ops.cast(height, "float32")
        cx, cy = (width - 1.0) / 2.0, (height - 1.0) / 2.0
        tx, ty = self._uniform(n, self.shift) * width, self._uniform(n, self.shift) * height
        zeros = ops.zeros((n,))
        return ops.stack(
            [
                a00,
                a01,
                cx - a00 * cx - a01 * cy + tx,
                a10,
                a11,
                cy - a10 * cx - a11 * cy + ty,
                zeros,
                zeros,
            ],
            axis=1,
        )

    def call(self, images, training: bool | None = None):
        if not training:
            return images
        images = ops.convert_to_tensor(images)
        dtype = keras.backend.standardize_dtype(images.dtype)
        n, height, width = ops.shape(images)[:3]
        moved = ops.image.affine_transform(
            ops.cast(images, self.compute_dtype),
            self.transforms(n, height, width),
            interpolation="bilinear",
            fill_mode="nearest",
            data_format="channels_last",
        )
        return ops.cast(moved, dtype) if "float" in dtype else moved

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "rotation_degrees": self.rotation_degrees,
            "shear": self.shear,
            "zoom": self.zoom,
            "shift": self.shift,
            "horizontal_flip": self.horizontal_flip,
            "seed": self.seed,
        }


def build_augmentation(cfg: Config) -> keras.layers.Layer:
    """The training augmentation with the strengths in `cfg` (the seed article's by default)."""
    return RandomAffine(
        rotation_degrees=cfg.rotation_degrees,
        shear=cfg.shear,
        zoom=cfg.zoom,
        shift=cfg.shift,
        horizontal_flip=cfg.horizontal_flip,
        seed=cfg.seed,
        name="augmentation",
    )
