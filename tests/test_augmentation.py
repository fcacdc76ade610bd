import numpy as np
import pytest

from helpers.augmentation import RandomAffine, build_augmentation
from helpers.config import load_config


@pytest.fixture
def images():
    return np.random.default_rng(0).integers(0, 255, (8, 20, 24, 3)).astype("float32")


def test_zero_strengths_leave_images_as_they_are(images):
    augmented = np.asarray(RandomAffine(seed=1)(images, training=True))
    np.testing.assert_allclose(augmented, images, atol=1e-3)


def test_flip_alone_mirrors_some_images_and_leaves_the_others(images):
    augmented = np.asarray(RandomAffine(horizontal_flip=True, seed=3)(images, training=True))
    mirrored = [
        np.allclose(a, i[:, ::-1], atol=1e-3) for a, i in zip(augmented, images, strict=True)
    ]
    unchanged = [np.allclose(a, i, atol=1e-3) for a, i in zip(augmented, images, strict=True)]
    assert all(m or u for m, u in zip(mirrored, unchanged, strict=True))
    assert any(mirrored) and any(unchanged)


def test_shift_moves_content_by_at_most_the_asked_fraction():
    image = np.zeros((1, 40, 40, 1), "float32")
    image[0, 18:22, 18:22] = 255.0  # a bright square in the middle
    for seed in range(5):
        moved = np.asarray(RandomAffine(shift=0.1, seed=seed)(image, training=True))[0, ..., 0]
        rows, cols = np.nonzero(moved > 127)
        assert abs(rows.mean() - 19.5) <= 4.5 and abs(cols.mean() - 19.5) <= 4.5


def test_rotation_keeps_the_centre_and_turns_the_rest():
    # A smooth ramp: the centre's pixels, moved a fraction of a pixel, keep nearly their values.
    rows, cols = np.mgrid[0:20, 0:24].astype("float32")
    images = np.repeat((5 * rows + 4 * cols)[None, ..., None], 8, axis=0)
    augmented = np.asarray(RandomAffine(rotation_degrees=15, seed=2)(images, training=True))
    assert augmented.shape == images.shape
    assert not np.allclose(augmented, images, atol=1.0)
    np.testing.assert_allclose(augmented[:, 9:11, 11:13], images[:, 9:11, 11:13], atol=3.0)


def test_inactive_outside_training_and_draws_differ_between_calls(images):
    layer = build_augmentation(load_config(environ={}))
    np.testing.assert_array_equal(np.asarray(layer(images, training=False)), images)
    first, second = (
        np.asarray(layer(images, training=True)),
        np.asarray(layer(images, training=True)),
    )
    assert not np.allclose(first, second)


def test_uint8_batches_come_back_as_float_images():
    batch = np.full((2, 16, 16, 3), 200, "uint8")
    augmented = np.asarray(RandomAffine(zoom=0.2, seed=0)(batch, training=True))
    assert augmented.dtype == np.float32
    np.testing.assert_allclose(augmented, 200.0, atol=1e-3)  # nearest fill: a flat image stays flat
