"""Small image files for tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def write_image(path: Path, size: tuple[int, int] = (40, 30), mode: str = "RGB", fmt: str = "JPEG", seed: int = 0) -> Path:
    """A small random image file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    channels = {"RGB": 3, "RGBA": 4, "L": 1}[mode]
    pixels = rng.integers(0, 255, size=(size[1], size[0], channels), dtype=np.uint8)
    Image.fromarray(pixels.squeeze() if channels == 1 else pixels, mode=mode).save(path, format=fmt)
    return path
