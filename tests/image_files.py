"""Small image files for tests."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image


def write_image(
    path: Path,
    size: tuple[int, int] = (40, 30),
    mode: str = "RGB",
    fmt: str = "JPEG",
    seed: int = 0,
) -> Path:
    """A small random image file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    channels = {"RGB": 3, "RGBA": 4, "L": 1}[mode]
    pixels = rng.integers(0, 255, size=(size[1], size[0], channels), dtype=np.uint8)
    Image.fromarray(pixels.squeeze() if channels == 1 else pixels, mode=mode).save(path, format=fmt)
    return path


def encode(
    mode: str = "RGB", fmt: str = "JPEG", seed: int = 0, size: tuple[int, int] = (48, 36)
) -> bytes:
    """The bytes of a small random image in `mode` and format `fmt`."""
    channels = {"RGB": 3, "L": 1}[mode if mode in ("RGB", "L") else "RGB"]
    pixels = np.random.default_rng(seed).integers(
        0, 255, (size[1], size[0], channels), dtype=np.uint8
    )
    image = Image.fromarray(
        pixels.squeeze() if channels == 1 else pixels, mode="L" if channels == 1 else "RGB"
    )
    if mode in ("CMYK", "RGBA"):
        image = image.convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()
