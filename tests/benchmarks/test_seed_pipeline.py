"""The seed's ImageDataGenerator pipeline (needs tf-keras, which make bench installs)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest


@pytest.mark.skipif(
    importlib.util.find_spec("tf_keras") is None,
    reason="tf-keras not installed (make bench installs it)",
)
def test_seed_pipeline_yields_augmented_batches_in_zero_one(tmp_path):
    from image_files import write_image

    from benchmarks.seed_pipeline import batches, seed_train_iterator

    names = [
        write_image(tmp_path / f"{c}.{i}.jpg", seed=i).name
        for c in ("cat", "dog")
        for i in range(3)
    ]
    iterator = seed_train_iterator(
        names, [n.split(".")[0] for n in names], tmp_path, image_size=16, batch_size=4
    )
    images, labels = next(batches(iterator, 1))
    assert images.shape == (4, 16, 16, 3) and labels.shape == (4, 2)
    assert 0.0 <= images.min() and images.max() <= 1.0 and np.allclose(labels.sum(axis=1), 1)
