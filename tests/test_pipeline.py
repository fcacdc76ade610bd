import numpy as np
import pytest
from image_files import write_image

from helpers.pipeline import make_dataset


@pytest.mark.parametrize(
    "mode, fmt, suffix",
    [("RGB", "JPEG", "jpg"), ("L", "JPEG", "jpg"), ("RGBA", "PNG", "png"), ("RGB", "PNG", "jpg")],
)
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
        return [
            int(np.argmax([np.array_equal(img, ref) for ref in first_images]))
            for img in images.numpy()
        ]

    first_images = next(iter(make_dataset(paths, image_size=8, batch_size=8))).numpy()
    assert order() == labels
    shuffled = order(shuffle_buffer=8, seed=3, cache=True)
    assert sorted(shuffled) == labels and shuffled != labels
    assert order(shuffle_buffer=8, seed=3) == shuffled


@pytest.fixture
def mixed_files(tmp_path):
    good = [str(write_image(tmp_path / f"good{i}.jpg", seed=i)) for i in range(3)]
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "text.jpg").write_text("<html>")
    whole = (tmp_path / "good0.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(whole[: len(whole) - 40])
    # Zero padding after the end marker is fine.
    (tmp_path / "padded.jpg").write_bytes(whole + b"\x00" * 10)
    bad = [str(tmp_path / name) for name in ("empty.jpg", "text.jpg", "cut.jpg")]
    return good + [str(tmp_path / "padded.jpg")], bad


def test_skip_leaves_bad_files_out_and_names_them(mixed_files, capfd):
    good, bad = mixed_files
    paths = [good[0], bad[0], good[1], bad[1], good[2], bad[2], good[3]]
    images, labels = next(
        iter(make_dataset(paths, [0] * 7, image_size=8, batch_size=16, bad_images="skip"))
    )
    assert images.shape[0] == 4
    err = capfd.readouterr().err
    assert f"bad image {bad[0]}: empty file (0 bytes) (skipped)" in err
    assert f"bad image {bad[1]}: not an image (skipped)" in err
    assert f"bad image {bad[2]}: truncated JPEG (no end-of-image marker) (skipped)" in err


@pytest.mark.parametrize("labelled", [True, False])
def test_stop_raises_naming_the_file(mixed_files, labelled):
    good, bad = mixed_files
    labels = [0, 1] if labelled else None
    dataset = make_dataset([good[0], bad[2]], labels, image_size=8, batch_size=2, bad_images="stop")
    with pytest.raises(Exception, match=r"bad image .*cut\.jpg: truncated JPEG"):
        next(iter(dataset))


def test_unlabelled_images_always_stop_so_ids_stay_aligned(mixed_files):
    good, bad = mixed_files
    with pytest.raises(Exception, match="bad image .*empty.jpg"):
        next(iter(make_dataset([good[0], bad[0]], image_size=8, batch_size=2, bad_images="skip")))


def test_pipelines_share_one_traced_reader_per_setting(mixed_files):
    from helpers.pipeline import _decoder, _file_reader, _image_reader

    good, _ = mixed_files
    pipelines = [make_dataset(good, image_size=12, batch_size=2) for _ in range(3)]
    for dataset in pipelines:
        assert next(iter(dataset)).shape == (2, 12, 12, 3)
    assert _image_reader(12).experimental_get_tracing_count() == 1

    labels = [0] * len(good)
    for _ in range(3):
        dataset = make_dataset(good, labels, image_size=13, batch_size=2, bad_images="skip")
        assert next(iter(dataset))[0].shape == (2, 13, 13, 3)
    assert _file_reader("skip").experimental_get_tracing_count() == 1
    assert _decoder(13).experimental_get_tracing_count() == 1


def _jpeg_bytes(tmp_path):
    return write_image(tmp_path / "whole.jpg", seed=5).read_bytes()


@pytest.mark.parametrize(
    "make",
    [
        lambda whole: b"",
        lambda whole: b"<html>not found</html>",
        lambda whole: whole[:-40],
        lambda whole: whole,
        lambda whole: whole + b"\x00" * 20,
    ],
    ids=["empty", "text", "truncated", "whole", "zero-padded"],
)
def test_pipeline_check_agrees_with_the_cleaning_check(tmp_path, make):
    """The in-graph check (pipeline) and the file check (make data, dataset index) agree.

    They are two codings of one rule.
    """
    import tensorflow as tf

    from helpers.image_check import inspect_file
    from helpers.pipeline import image_problem

    data = make(_jpeg_bytes(tmp_path))
    path = tmp_path / "case.jpg"
    path.write_bytes(data)
    assert image_problem(tf.constant(data)).numpy().decode() == inspect_file(path)["problem"]


def test_large_jpegs_are_decoded_at_a_reduced_scale_close_to_a_full_decode(tmp_path):
    from PIL import Image

    gradient = np.linspace(0, 255, 512, dtype=np.float32)
    pixels = np.stack([np.add.outer(gradient[:384] * 0.5, gradient * 0.5)] * 3, axis=-1).astype(
        np.uint8
    )
    path = tmp_path / "large.jpg"
    Image.fromarray(pixels).save(path, quality=95)
    expected = np.asarray(
        Image.fromarray(pixels).resize((48, 48), Image.Resampling.BOX), dtype=np.float32
    )
    batch = next(iter(make_dataset([str(path)], image_size=48, batch_size=1))).numpy()[0]
    assert batch.shape == (48, 48, 3)
    assert np.abs(batch.astype(np.float32) - expected).mean() < 4.0


@pytest.mark.parametrize(
    ("size", "fmt", "image_size"),
    [((32, 32), "JPEG", 16), ((16, 16), "JPEG", 16), ((16, 16), "PNG", 16)],
)
def test_an_image_decoded_at_the_size_keeps_its_pixels(tmp_path, size, fmt, image_size):
    """A photo that decodes (at a DCT scale) to exactly the input size is not resampled."""
    import tensorflow as tf

    path = write_image(tmp_path / f"square.{fmt.lower()}", size=size, fmt=fmt, seed=3)
    data = path.read_bytes()
    if fmt == "JPEG":
        decoded = tf.io.decode_jpeg(data, channels=3, ratio=size[0] // image_size)
    else:
        decoded = tf.io.decode_png(data, channels=3)
    batch = next(iter(make_dataset([str(path)], image_size=image_size, batch_size=1)))
    np.testing.assert_array_equal(batch.numpy()[0], decoded.numpy())


def test_pipelines_run_without_the_autotuner(mixed_files):
    """Every pipeline starts at full parallelism: on 2 cores the autotuner slowed short ones."""
    good, _ = mixed_files
    for labels in (None, [0] * len(good)):
        dataset = make_dataset(good, labels, image_size=8, batch_size=2)
        assert dataset.options().autotune.enabled is False


@pytest.mark.parametrize(
    ("size", "antialias"),
    [((12, 16), False), ((40, 16), True), ((40, 36), True)],
    ids=["enlarged", "one-side-shrunk", "shrunk"],
)
def test_only_an_image_that_shrinks_takes_the_antialiased_filter(tmp_path, size, antialias):
    """Enlarging, the two filters agree but for float rounding, and plain bilinear is the faster."""
    import tensorflow as tf

    path = write_image(tmp_path / "photo.png", size=size, fmt="PNG", seed=5)
    decoded = tf.io.decode_png(path.read_bytes(), channels=3)
    expected = tf.image.resize(decoded, (24, 24), antialias=antialias)
    batch = next(iter(make_dataset([str(path)], image_size=24, batch_size=1)))
    np.testing.assert_array_equal(batch.numpy()[0], np.clip(np.round(expected.numpy()), 0, 255))


def test_the_cache_is_refused_when_the_decoded_images_would_not_fit_in_memory(
    kaggle_dir, tmp_path, monkeypatch, capsys
):
    from helpers.config import load_config
    from helpers.dataset import list_labelled_images
    from helpers.modeling.training import make_split_datasets
    from helpers.pipeline import CACHE_SHARE, cache_bytes, cache_fits

    assert cache_bytes(100_000, 72) == 100_000 * (72 * 72 * 3 + 8)  # 1.45 GiB
    monkeypatch.setattr("helpers.pipeline.available_memory", lambda: 2 * cache_bytes(1000, 72))
    assert cache_fits(1000, 72) and not cache_fits(1001, 72)
    assert CACHE_SHARE == 0.5

    split = list_labelled_images(kaggle_dir)
    split = split.assign(subset=["train", "val"] * (len(split) // 2))
    cfg = load_config(overrides={"data_dir": str(kaggle_dir), "image_size": 32})

    def stages(dataset) -> list[str]:
        names = []
        while dataset is not None:
            names.append(type(dataset).__name__)
            dataset = getattr(dataset, "_input_dataset", None)
        return names

    monkeypatch.setattr("helpers.pipeline.available_memory", lambda: 2 * cache_bytes(20, 32))
    train, _ = make_split_datasets(cfg, split)
    assert "CacheDataset" in stages(train) and capsys.readouterr().out == ""
    monkeypatch.setattr("helpers.pipeline.available_memory", lambda: 2 * cache_bytes(19, 32))
    train, _ = make_split_datasets(cfg, split)
    assert "CacheDataset" not in stages(train)
    assert "not cached, each epoch reads the files again" in capsys.readouterr().out
