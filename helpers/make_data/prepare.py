"""`make data` end to end: fetch, unpack safely, lay out and clean; verify data already in place."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd

from helpers.layout import TEST_DIR, TEST_LABELS, TRAIN_DIR, is_image_file
from helpers.locks import folder_lock
from helpers.make_data.archive import safe_extract
from helpers.make_data.arrange import lay_out
from helpers.make_data.cleaning import DUPLICATES, MANIFEST, QUARANTINE, clean_dataset
from helpers.make_data.sources import DataSourceError, fetch_source

# What make data lays out, in the order it is moved into place: train/ last, since its presence
# says the data is there (a kill between two moves leaves no train/, and the next run redoes it).
LAID_OUT = (TEST_DIR, TEST_LABELS, MANIFEST, DUPLICATES, QUARANTINE, TRAIN_DIR)
HOLD_OUT_COUNT = 2500  # labelled test photos held out from a source that has no test set
# The space make data needs: the Kaggle photos' archive (786 MB) and the photos laid out beside it,
# with room to spare; said when the disk fills.
DATA_MB = 1800


def _unpack(source: Path, work: Path) -> Path:
    """A folder of the source's content: archives (and zips in them) extracted under `work`."""
    if source.is_dir():
        return source
    root = safe_extract(source, work / "unpacked")
    for inner in sorted(root.rglob("*.zip")):
        safe_extract(inner, inner.with_name(inner.stem + ".unzipped"))
    return root


def verify_existing(data_dir: Path) -> str:
    """A one-line account of data already in place, checked against its manifest if it has one."""
    manifest_path = data_dir / MANIFEST
    if not manifest_path.is_file():
        count = sum(1 for path in (data_dir / TRAIN_DIR).rglob("*") if is_image_file(path))
        return (
            f"{data_dir} already holds {count} training images "
            "(not laid out by make data, left as they are)"
        )
    manifest = pd.read_csv(manifest_path)
    changed = [
        f
        for f, size in zip(manifest["file"], manifest["bytes"], strict=True)
        if not (data_dir / f).is_file() or (data_dir / f).stat().st_size != size
    ]
    if changed:
        raise DataSourceError(
            f"{len(changed)} files in {data_dir} differ from {manifest_path} "
            f"(for example {changed[0]}); nothing was changed. Restore them, or rebuild with "
            "`make data FORCE=1` (the old files are kept aside)."
        )
    counts = manifest["split"].value_counts()
    return (
        f"{data_dir} already holds the dataset: {counts.get('train', 0)} training and "
        f"{counts.get('test', 0)} test images, all as the manifest lists them; nothing to do"
    )


def _set_aside(data_dir: Path) -> Path | None:
    present = [name for name in LAID_OUT if (data_dir / name).exists()]
    if not present:
        return None
    aside = data_dir / f"replaced-{time.strftime('%Y%m%d-%H%M%S')}"
    aside.mkdir()
    for name in present:
        os.replace(data_dir / name, aside / name)
    return aside


def prepare_data(
    source: str,
    data_dir: Path,
    *,
    force: bool = False,
    sha256: str | None = None,
    test_count: int = HOLD_OUT_COUNT,
    seed: int = 42,
    progress: bool = True,
) -> str:
    """Fetch, lay out and clean the dataset in `data_dir`; return a summary line.

    One make data at a time fills a folder: a second one waits for the first, then finds the
    data in place and verifies it.
    """
    data_dir = Path(data_dir)
    if (data_dir / TRAIN_DIR).is_dir() and not force:
        return verify_existing(data_dir)
    downloads = data_dir / "downloads"
    created = [folder for folder in (data_dir, downloads) if not folder.exists()]

    def waiting(holder: str) -> None:
        print(
            f"[make data] {data_dir} is being filled by another make data ({holder}): "
            "waiting for it to finish",
            flush=True,
        )

    with folder_lock(data_dir, waiting=waiting):
        if (data_dir / TRAIN_DIR).is_dir() and not force:  # the other one filled it meanwhile
            return verify_existing(data_dir)
        for leftover in data_dir.glob(".make-data-*"):  # an interrupted earlier run of ours
            shutil.rmtree(leftover, ignore_errors=True)
        try:
            fetched = fetch_source(source, downloads, sha256, progress)
        except BaseException:
            # A failed fetch leaves no empty folder behind (a partial download stays, to resume).
            for folder in reversed(created):
                if folder.is_dir() and not any(folder.iterdir()):
                    folder.rmdir()
            raise
        return _lay_out_and_clean(fetched, data_dir, test_count, seed, progress)


def _lay_out_and_clean(
    fetched: Path, data_dir: Path, test_count: int, seed: int, progress: bool
) -> str:
    """Unpack the fetched source beside `data_dir`, lay it out, clean it, move it into place."""
    work = Path(tempfile.mkdtemp(prefix=".make-data-", dir=data_dir))
    try:
        root = _unpack(fetched, work)
        out = work / "out"
        layout = lay_out(root, out, move=root != fetched, test_count=test_count, seed=seed)
        manifest, quarantined = clean_dataset(out, progress=progress)
        # Whatever stands in the way (the old data with FORCE=1, the part of a dataset an
        # interrupted make data moved in, files of the user's) is kept aside, never overwritten.
        aside = _set_aside(data_dir)
        for name in LAID_OUT:
            if (out / name).exists():
                os.replace(out / name, data_dir / name)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    counts = manifest["split"].value_counts()
    summary = (
        f"{data_dir}: {counts.get('train', 0)} training and {counts.get('test', 0)} test images "
        f"({layout} layout); {len(quarantined)} files quarantined in {data_dir / QUARANTINE}"
    )
    return summary + (f"; the previous files are in {aside}" if aside else "")
