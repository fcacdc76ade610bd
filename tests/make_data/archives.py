"""Archives and images for the make_data tests, built in memory."""

from __future__ import annotations

import hashlib
import io
import stat
import zipfile

from image_files import encode

GOOD_DOG = encode(seed=100)
PETIMAGES_FILES = {
    "PetImages/Cat/1.jpg": encode(seed=1),
    "PetImages/Cat/2.jpg": encode("L", seed=2),  # grayscale JPEG: kept, read as RGB
    "PetImages/Cat/3.jpg": encode("CMYK", seed=3),  # CMYK JPEG: kept, read as RGB
    "PetImages/Cat/4.jpg": encode(fmt="PNG", seed=4),  # PNG named .jpg: kept
    "PetImages/Cat/5.jpg": b"",  # empty: quarantined
    "PetImages/Cat/6.jpg": encode(seed=6)[:400],  # truncated: quarantined
    "PetImages/Cat/7.jpg": b"<html>not found</html>",  # not an image: quarantined
    "PetImages/Cat/8.jpg": encode(seed=8),
    "PetImages/Cat/Thumbs.db": b"\x00" * 64,  # not an image file at all: ignored
    "PetImages/Dog/1.jpg": GOOD_DOG,
    "PetImages/Dog/2.jpg": encode(
        "RGBA", fmt="PNG", seed=12
    ),  # RGBA PNG named .jpg: kept, read as RGB
    "PetImages/Dog/3.jpg": GOOD_DOG,  # byte-identical duplicate of Dog/1.jpg
    "PetImages/Dog/4.jpg": encode(fmt="GIF", seed=14),  # GIF named .jpg: quarantined
    "PetImages/Dog/5.jpg": encode(seed=15),
    "PetImages/Dog/6.jpg": encode(seed=16),
}


def make_zip(files: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return buffer.getvalue()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
