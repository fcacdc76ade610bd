"""Each file is judged by the decoder the training pipeline uses."""

from __future__ import annotations

import pytest
from image_files import encode

from helpers.image_check import inspect_file


@pytest.mark.parametrize(
    "data, problem",
    [
        (b"", "empty file (0 bytes)"),
        (encode()[:300], "truncated JPEG (no end-of-image marker)"),
        (encode(fmt="BMP"), "wrong format for its extension: BMP data in a .jpg file"),
        (b"hello", "not an image"),
        (encode(fmt="PNG"), ""),
        (encode("CMYK"), ""),
    ],
)
def test_each_file_is_judged_by_the_pipeline_decoder(tmp_path, data, problem):
    path = tmp_path / "image.jpg"
    path.write_bytes(data)
    assert inspect_file(path)["problem"] == problem
