"""`make data`: fetch the dataset, verify it, lay it out in the Kaggle layout, and clean it, safely.

Sources: `petimages` (Microsoft's "Kaggle Cats and Dogs" archive, the default), `kaggle` (the
competition files through the Kaggle CLI), or a local path or URL of a zip or folder.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pandas as pd

from helpers.archive import UnsafeArchiveError, safe_extract
from helpers.cleaning import DUPLICATES, MANIFEST, QUARANTINE, clean_dataset
from helpers.dataset import CLASS_FOLDERS, CLASS_NAMES, is_image_file, kaggle_category
from helpers.download import DownloadError, download, sha256_of


@dataclass(frozen=True)
class RemoteArchive:
    """A known archive: where it is, its file name and its SHA-256."""

    url: str
    filename: str
    sha256: str


PETIMAGES = RemoteArchive(
    url="https://download.microsoft.com/download/3/E/1/3E1C3F21-ECDB-4869-8368-6DEBA77B919F/kagglecatsanddogs_5340.zip",
    filename="kagglecatsanddogs_5340.zip",
    sha256="b7974bd00a84a99921f36ee4403f089853777b5ae8d151c76a86e64900334af9",
)
KAGGLE_COMPETITION = "dogs-vs-cats"
KAGGLE_HELP = (
    "The kaggle source needs Kaggle API credentials: create a token on kaggle.com (Settings > API > "
    "Create New Token), save it as ~/.kaggle/kaggle.json (chmod 600) or set KAGGLE_USERNAME and KAGGLE_KEY, "
    f"accept the rules of the '{KAGGLE_COMPETITION}' competition on its page, and `pip install kaggle`. "
    "Or use the default source, which needs no account: make data SOURCE=petimages"
)
LAID_OUT = ("train", "test1", "test1_labels.csv", MANIFEST, DUPLICATES, QUARANTINE)


class DataSourceError(RuntimeError):
    """A source that cannot be used, with what to do about it."""


def kaggle_credentials_present(environ: dict[str, str] | None = None) -> bool:
    """Whether the Kaggle API would find credentials (environment or kaggle.json)."""
    environ = dict(os.environ if environ is None else environ)
    if environ.get("KAGGLE_USERNAME") and environ.get("KAGGLE_KEY"):
        return True
    folder = Path(environ.get("KAGGLE_CONFIG_DIR") or Path(environ.get("HOME", "~")).expanduser() / ".kaggle")
    return (folder / "kaggle.json").is_file()


def fetch_kaggle(downloads: Path) -> Path:
    """The competition's zip, downloaded with the official Kaggle CLI."""
    if not kaggle_credentials_present():
        raise DataSourceError(KAGGLE_HELP)
    cli = shutil.which("kaggle")
    if cli is None:
        raise DataSourceError("the Kaggle CLI is not installed: `pip install kaggle`, then run again")
    target = downloads / f"{KAGGLE_COMPETITION}.zip"
    if not target.is_file():
        downloads.mkdir(parents=True, exist_ok=True)
        subprocess.run([cli, "competitions", "download", "-c", KAGGLE_COMPETITION, "-p", str(downloads)], check=True)
    return target


def fetch_source(source: str, downloads: Path, sha256: str | None = None, progress: bool = True) -> Path:
    """A local zip or folder holding the dataset, downloaded into `downloads` when the source is remote."""
    if source == "petimages":
        return download(PETIMAGES.url, downloads / PETIMAGES.filename, PETIMAGES.sha256, progress=progress)
    if source == "kaggle":
        return fetch_kaggle(downloads)
    if re.match(r"^(https?|file)://", source):
        name = Path(urlparse(source).path).name or "dataset.zip"
        return download(source, downloads / name, sha256, progress=progress)
    path = Path(source).expanduser()
    if not path.exists():
        raise DataSourceError(
            f"source {source!r} is neither petimages, kaggle, a URL, nor an existing zip or folder"
        )
    if sha256 and path.is_file() and sha256_of(path) != sha256.lower():
        raise DataSourceError(f"{path} does not have the SHA-256 {sha256}")
    return path


def _unpack(source: Path, work: Path) -> Path:
    """A folder with the source's content: archives (and the zips inside them) extracted safely under `work`."""
    if source.is_dir():
        return source
    root = safe_extract(source, work / "unpacked")
    for inner in sorted(root.rglob("*.zip")):
        safe_extract(inner, inner.with_name(inner.stem + ".unzipped"))
    return root


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if is_image_file(p))


def _place(source: Path, destination: Path, move: bool) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    if move:
        os.replace(source, destination)
    else:
        shutil.copy2(source, destination)  # a user's own folder: never move or change their files


def lay_out(root: Path, out: Path, *, move: bool, test_count: int, seed: int) -> str:
    """Arrange the images under `root` in the Kaggle layout in `out`; return the layout that was found."""
    kaggle_train = [d for d in [root, *root.rglob("*")] if d.is_dir() and d.name == "train"
                    and any(kaggle_category(p.name) for p in _images(d))]
    if kaggle_train:
        for image in _images(kaggle_train[0]):
            if kaggle_category(image.name):
                _place(image, out / "train" / image.name.lower(), move)
        tests = [d for d in root.rglob("test1") if d.is_dir() and _images(d)]
        for image in _images(tests[0]) if tests else []:
            _place(image, out / "test1" / image.name, move)
        return "kaggle"
    class_dirs = {CLASS_FOLDERS[d.name.lower()]: d
                  for d in root.rglob("*") if d.is_dir() and d.name.lower() in CLASS_FOLDERS}
    if set(class_dirs) != set(CLASS_NAMES):
        raise DataSourceError(
            f"no cat and dog images found in {root}: expected train/cat.<id>.jpg and train/dog.<id>.jpg "
            "(Kaggle), PetImages/Cat and PetImages/Dog (Microsoft), or cat/ and dog/ folders"
        )
    rows = [(image, name) for name, folder in sorted(class_dirs.items()) for image in _images(folder)]
    held_out = _hold_out(rows, min(test_count, len(rows) // 5), seed)
    test_rows = []
    for test_id, index in enumerate(sorted(held_out, key=held_out.get), start=1):
        image, name = rows[index]
        _place(image, out / "test1" / f"{test_id}.jpg", move)
        test_rows.append((test_id, CLASS_NAMES.index(name)))
    for index in range(len(rows)):
        if index not in held_out:
            image, name = rows[index]
            _place(image, out / "train" / f"{name}.{image.stem}.jpg", move)
    if test_rows:
        pd.DataFrame(test_rows, columns=["id", "label"]).to_csv(out / "test1_labels.csv", index=False)
    return "class folders"


def _hold_out(rows: list[tuple[Path, str]], test_count: int, seed: int) -> dict[int, int]:
    """A seeded, stratified choice of `test_count` rows (row index: draw order); identical files stay together."""
    digests = [hashlib.sha256(image.read_bytes()).hexdigest() for image, _ in rows]
    groups: dict[str, list[int]] = {}
    for index, digest in enumerate(digests):
        groups.setdefault(digest, []).append(index)
    quota = {"cat": test_count - test_count // 2, "dog": test_count // 2}
    held_out: dict[int, int] = {}
    for index in np.random.default_rng(seed).permutation(len(rows)):
        members, label = groups[digests[index]], rows[index][1]
        if index not in held_out and len(members) <= quota[label]:
            quota[label] -= len(members)
            held_out.update((member, len(held_out)) for member in members)
    return held_out


def verify_existing(data_dir: Path) -> str:
    """A one-line account of data already in place, checked against its manifest when there is one."""
    manifest_path = data_dir / MANIFEST
    if not manifest_path.is_file():
        count = sum(1 for path in (data_dir / "train").rglob("*") if is_image_file(path))
        return f"{data_dir} already holds {count} training images (not laid out by make data, left as they are)"
    manifest = pd.read_csv(manifest_path)
    changed = [f for f, size in zip(manifest["file"], manifest["bytes"], strict=True)
               if not (data_dir / f).is_file() or (data_dir / f).stat().st_size != size]
    if changed:
        raise DataSourceError(
            f"{len(changed)} files in {data_dir} differ from {manifest_path} (for example {changed[0]}); "
            "nothing was changed. Restore them, or rebuild with `make data FORCE=1` (the old files are kept aside)."
        )
    counts = manifest["split"].value_counts()
    return (f"{data_dir} already holds the dataset: {counts.get('train', 0)} training and "
            f"{counts.get('test', 0)} test images, all as the manifest lists them; nothing to do")


def _set_aside(data_dir: Path) -> Path | None:
    present = [name for name in LAID_OUT if (data_dir / name).exists()]
    if not present:
        return None
    aside = data_dir / f"replaced-{time.strftime('%Y%m%d-%H%M%S')}"
    aside.mkdir()
    for name in present:
        os.replace(data_dir / name, aside / name)
    return aside


def prepare_data(source: str, data_dir: Path, *, force: bool = False, sha256: str | None = None,
                 test_count: int = 2500, seed: int = 42, progress: bool = True) -> str:
    """Fetch, lay out and clean the dataset in `data_dir`; return a summary line."""
    data_dir = Path(data_dir)
    if (data_dir / "train").is_dir() and not force:
        return verify_existing(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    for leftover in data_dir.glob(".make-data-*"):  # an interrupted earlier run of ours
        shutil.rmtree(leftover, ignore_errors=True)
    fetched = fetch_source(source, data_dir / "downloads", sha256, progress)
    work = Path(tempfile.mkdtemp(prefix=".make-data-", dir=data_dir))
    try:
        root = _unpack(fetched, work)
        out = work / "out"
        layout = lay_out(root, out, move=root != fetched, test_count=test_count, seed=seed)
        manifest, quarantined = clean_dataset(out, progress=progress)
        aside = _set_aside(data_dir) if force else None
        for name in LAID_OUT:
            if (out / name).exists():
                os.replace(out / name, data_dir / name)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    counts = manifest["split"].value_counts()
    summary = (f"{data_dir}: {counts.get('train', 0)} training and {counts.get('test', 0)} test images "
               f"({layout} layout); {len(quarantined)} files quarantined in {data_dir / QUARANTINE}")
    return summary + (f"; the previous files are in {aside}" if aside else "")


def main(argv: list[str] | None = None) -> int:
    """Command line of `make data`."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", default="petimages", help="petimages (default), kaggle, or a path or URL")
    parser.add_argument("--data-dir", default="data", help="where to lay out the dataset (default: data)")
    parser.add_argument("--sha256", help="expected SHA-256 of a zip given by path or URL")
    parser.add_argument("--force", action="store_true", help="rebuild even if data is there (old files set aside)")
    parser.add_argument("--test-count", type=int, default=2500,
                        help="images held out as the labelled test1/ when the source has no test set")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    try:
        print(prepare_data(args.source, Path(args.data_dir), force=args.force, sha256=args.sha256,
                           test_count=args.test_count, seed=args.seed))
    except (DataSourceError, DownloadError, UnsafeArchiveError, FileExistsError,
            subprocess.CalledProcessError) as error:
        print(f"make data: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
