"""A small, deterministic, learnable two-class image set in the Kaggle layout.

Synthetic stripes, not real cats and dogs: "cat" images carry horizontal stripes and "dog"
images vertical ones, in random colours, frequencies and phases over noise, at random sizes:
enough to exercise every step of the series and to check the label mapping end to end, in
seconds.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from helpers.config import Config
from helpers.errors import PathInTheWayError
from helpers.layout import (
    CLASS_NAMES,
    TEST_DIR,
    TEST_LABELS,
    TRAIN_DIR,
    kaggle_name,
    kaggle_test_name,
)

GENERATOR_VERSION = 1
MARKER = "SYNTHETIC.json"


def make_stripes_image(label: int, rng: np.random.Generator) -> Image.Image:
    """One RGB image: horizontal stripes for label 0 (cat), vertical for label 1 (dog)."""
    width, height = (int(v) for v in rng.integers(40, 97, size=2))
    period = rng.uniform(6.0, 14.0)
    phase = rng.uniform(0.0, 2 * np.pi)
    axis = np.arange(height if label == 0 else width)
    wave = 0.5 + 0.5 * np.sin(2 * np.pi * axis / period + phase)
    stripes = wave[:, None] if label == 0 else wave[None, :]
    stripes = np.broadcast_to(stripes, (height, width))[..., None]
    dark, light = rng.uniform(0, 110, size=3), rng.uniform(145, 255, size=3)
    pixels = dark + (light - dark) * stripes + rng.normal(0, 12, size=(height, width, 3))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), mode="RGB")


def _write_set(folder: Path, train_per_class: int, test_count: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    (folder / TRAIN_DIR).mkdir(parents=True)
    (folder / TEST_DIR).mkdir()
    for index in range(1, train_per_class + 1):
        for label, name in enumerate(CLASS_NAMES):
            make_stripes_image(label, rng).save(
                folder / TRAIN_DIR / kaggle_name(name, index), quality=92
            )
    test_labels = rng.permutation(np.arange(test_count) % 2)
    for image_id, label in enumerate(test_labels, start=1):
        make_stripes_image(int(label), rng).save(
            folder / TEST_DIR / kaggle_test_name(image_id), quality=92
        )
    pd.DataFrame({"id": np.arange(1, test_count + 1), "label": test_labels}).to_csv(
        folder / TEST_LABELS, index=False
    )


def ensure_synthetic_dataset(cfg: Config) -> Path:
    """Generate the synthetic set into cfg.data_dir unless that exact set is already there."""
    target = Path(cfg.data_dir)
    spec = {
        "generator_version": GENERATOR_VERSION,
        "train_per_class": cfg.synthetic_train_per_class,
        "test_count": cfg.synthetic_test_count,
        "seed": cfg.seed,
        "what": "synthetic stripes, not real cats and dogs",
    }
    marker = target / MARKER
    if marker.is_file() and json.loads(marker.read_text()) == spec:
        return target
    if target.exists() and any(target.iterdir()) and not marker.is_file():
        raise PathInTheWayError(
            f"{target} already holds files that are not a synthetic set; "
            "refusing to write into it. "
            "Point DATA_DIR at an empty or new folder for the synthetic set."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        _write_set(staging, cfg.synthetic_train_per_class, cfg.synthetic_test_count, cfg.seed)
        (staging / MARKER).write_text(json.dumps(spec, indent=2, sort_keys=True) + "\n")
        if target.exists():  # an older synthetic set of ours (it has our marker): replace it
            retired = target.with_name(f".{target.name}.old")
            shutil.rmtree(retired, ignore_errors=True)
            os.replace(target, retired)
            os.replace(staging, target)
            shutil.rmtree(retired)
        else:
            os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
