"""The training augmentation, as Keras preprocessing layers (active only while training)."""

from __future__ import annotations

import keras
from keras import layers

from helpers.config import Config


def build_augmentation(cfg: Config) -> keras.Sequential:
    """Random rotation, shear, zoom, shift and horizontal flip with the strengths in `cfg`."""
    fill = {"fill_mode": "nearest"}  # as the seed's ImageDataGenerator fills borders
    steps = [
        layers.RandomRotation(cfg.rotation_degrees / 360.0, seed=cfg.seed, name="rotate", **fill),
        layers.RandomShear(x_factor=cfg.shear, y_factor=cfg.shear, seed=cfg.seed + 1, name="shear", **fill),
        layers.RandomZoom(cfg.zoom, seed=cfg.seed + 2, name="zoom", **fill),
        layers.RandomTranslation(cfg.shift, cfg.shift, seed=cfg.seed + 3, name="shift", **fill),
    ]
    if cfg.horizontal_flip:
        steps.append(layers.RandomFlip("horizontal", seed=cfg.seed + 4, name="flip"))
    return keras.Sequential(steps, name="augmentation")
