"""Full-size JPEGs like the Kaggle originals, made once by upscaling the 128 px photos."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

KAGGLE_SIZE = (500, 375)  # the typical width and height of an original Kaggle photo


def make_full_size_copies(
    sources: list[Path], folder: Path, size: tuple[int, int] = KAGGLE_SIZE
) -> list[Path]:
    """Paths of JPEG copies of `sources` upscaled to `size` in `folder`, made only where missing."""
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for source in sources:
        target = folder / source.name
        if not target.is_file():
            partial = target.with_name(f".{target.name}.partial")
            with Image.open(source) as image:
                image.convert("RGB").resize(size, Image.Resampling.BICUBIC).save(
                    partial, "JPEG", quality=90
                )
            partial.replace(target)
        made.append(target)
    return made
