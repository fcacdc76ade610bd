import numpy as np
import pytest

from image_files import write_image
from helpers.pipeline import make_dataset


@pytest.mark.parametrize("mode, fmt, suffix", [("RGB", "JPEG", "jpg"), ("L", "JPEG", "jpg"), ("RGBA", "PNG", "png"), ("RGB", "PNG", "jpg")])
def test_every_kind_of_image_becomes_rgb_uint8_at_the_asked_size(tmp_path, mode, fmt, suffix):
    path = write_image(tmp_path / f"image.{suffix}", size=(50, 31), mode=mode, fmt=fmt)
    batch = next(iter(make_dataset([str(path)], image_size=24, batch_size=1)))
    assert batch.shape == (1, 24, 24, 3)
    assert batch.dtype.name == "uint8"


def test_labels_become_one_hot_in_cat_dog_order(tmp_path):
    paths = [str(write_image(tmp_path / f"{i}.jpg", seed=i)) for i in range(4)]
    images, labels = next(iter(make_dataset(paths, [0, 1, 1, 0], image_size=16, batch_size=4)))
    np.testing.assert_array_equal(labels.numpy(), [[1, 0], [0, 1], [0, 1], [1, 0]])
    assert images.shape == (4, 16, 16, 3)


def test_order_is_kept_without_shuffle_and_seeded_with_it(tmp_path):
    paths = [str(write_image(tmp_path / f"{i}.jpg", seed=i)) for i in range(8)]
    labels = list(range(8))

    def order(**kwargs):
        dataset = make_dataset(paths, [i % 2 for i in labels], image_size=8, batch_size=8, **kwargs)
        images, _ = next(iter(dataset))
        return [int(np.argmax([np.array_equal(img, ref) for ref in first_images])) for img in images.numpy()]

    first_images = next(iter(make_dataset(paths, image_size=8, batch_size=8))).numpy()
    assert order() == labels
    shuffled = order(shuffle_buffer=8, seed=3, cache=True)
    assert sorted(shuffled) == labels and shuffled != labels
    assert order(shuffle_buffer=8, seed=3) == shuffled
