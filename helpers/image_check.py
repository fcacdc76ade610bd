"""Whether an image file can be read by the training pipeline's decoder, and why not."""

from __future__ import annotations

import hashlib
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import helpers.quiet_tensorflow  # noqa: F401

import tensorflow as tf
from tqdm import tqdm

from helpers.runtime import captured_stderr

ACCEPTED_FORMATS = ("jpeg", "png")  # decoded by the pipeline whatever the extension says

# Why a file cannot be read, as both this check and the pipeline's in-graph check say it.
EMPTY_FILE = "empty file (0 bytes)"
NOT_AN_IMAGE = "not an image"
TRUNCATED_JPEG = "truncated JPEG (no end-of-image marker)"

# Leading bytes of the formats TensorFlow's decode_image reads
# (WebP, with no fixed prefix, is sniffed apart).
IMAGE_SIGNATURES: list[tuple[bytes, str]] = [
    (b"\xff\xd8\xff", "jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"BM", "bmp"),
]


def sniff_format(data: bytes) -> str:
    """The image format named by a file's first bytes, or 'unknown'."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return next((name for magic, name in IMAGE_SIGNATURES if data.startswith(magic)), "unknown")


def inspect_file(path: Path) -> dict[str, object]:
    """Size, SHA-256, width and height of one image as the pipeline decodes it.

    When the pipeline cannot decode it, `problem` says why (and width and height stay None).
    """
    data = Path(path).read_bytes()
    info: dict[str, object] = {
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "width": None,
        "height": None,
        "problem": "",
    }
    kind = sniff_format(data)
    if not data:
        info["problem"] = EMPTY_FILE
    elif kind == "unknown":
        info["problem"] = NOT_AN_IMAGE
    elif kind not in ACCEPTED_FORMATS:
        info["problem"] = (
            f"wrong format for its extension: {kind.upper()} data in a {Path(path).suffix} file"
        )
    elif kind == "jpeg" and not data.rstrip(b"\x00").endswith(b"\xff\xd9"):
        info["problem"] = TRUNCATED_JPEG
    elif kind == "png" and b"IEND" not in data[-12:]:
        info["problem"] = "truncated PNG (no IEND chunk)"
    else:
        try:
            shape = tf.io.decode_image(data, channels=3, expand_animations=False).shape
            info["height"], info["width"] = int(shape[0]), int(shape[1])
        except tf.errors.OpError as error:
            info["problem"] = f"cannot be decoded: {error.message.splitlines()[-1].strip()}"
    return info


def inspect_files(
    paths: list[Path], workers: int = 4, progress: bool = True
) -> list[dict[str, object]]:
    """`inspect_file` over many files in threads, with a progress bar.

    libjpeg's warnings are kept out of the output.
    """
    with captured_stderr(), ThreadPoolExecutor(max_workers=workers) as pool:
        results = pool.map(inspect_file, paths)
        bar = tqdm(
            results,
            total=len(paths),
            desc="checking images",
            unit="img",
            disable=not progress,
            file=sys.stdout,
        )
        return list(bar)
