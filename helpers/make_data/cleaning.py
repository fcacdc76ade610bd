"""Cleaning a laid-out dataset.

Quarantine of files the pipeline cannot decode, the manifest, and the duplicate report.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from helpers.artifacts import write_csv
from helpers.dataset import read_labels
from helpers.layout import (
    CLASS_NAMES,
    TEST_DIR,
    TEST_LABELS,
    TRAIN_DIR,
    is_image_file,
    kaggle_category,
)

QUARANTINE = "quarantine"
QUARANTINE_REPORT = "quarantine_report.csv"
MANIFEST = "manifest.csv"
DUPLICATES = "duplicates.csv"


def list_image_files(data_dir: Path) -> list[Path]:
    """Every file under train/ and test1/ with an image extension."""
    return sorted(
        path
        for folder in (TRAIN_DIR, TEST_DIR)
        for path in (Path(data_dir) / folder).rglob("*")
        if is_image_file(path)
    )


def _label(relative: Path, test_labels: dict[int, int]) -> object:
    if relative.parts[0] == TEST_DIR:
        return test_labels.get(int(relative.stem)) if relative.stem.isdigit() else None
    category = kaggle_category(relative.name)
    return CLASS_NAMES.index(category) if category else None


def clean_dataset(data_dir: Path, progress: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Move images the pipeline cannot decode to quarantine/.

    Writes and returns the manifest and the quarantine report.
    """
    data_dir = Path(data_dir)
    labels_csv = data_dir / TEST_LABELS
    test_labels = read_labels(labels_csv).to_dict() if labels_csv.is_file() else {}
    from helpers.image_check import inspect_files  # TensorFlow's decoder: imported when it works

    paths = list_image_files(data_dir)
    rows = []
    for path, info in zip(paths, inspect_files(paths, progress=progress), strict=True):
        relative = path.relative_to(data_dir)
        rows.append(
            {
                "file": relative.as_posix(),
                "split": "test" if relative.parts[0] == TEST_DIR else "train",
                "label": _label(relative, test_labels),
                **info,
            }
        )
    table = pd.DataFrame(
        rows, columns=["file", "split", "label", "width", "height", "bytes", "sha256", "problem"]
    )
    bad = table[table["problem"] != ""]
    for relative in bad["file"]:
        destination = data_dir / QUARANTINE / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        os.replace(data_dir / relative, destination)
    report = bad[["file", "problem"]].reset_index(drop=True)
    previous = data_dir / QUARANTINE / QUARANTINE_REPORT
    if previous.is_file():
        report = pd.concat([pd.read_csv(previous), report], ignore_index=True).drop_duplicates(
            "file", keep="last"
        )
    write_csv(report, previous)
    manifest = table[table["problem"] == ""].drop(columns="problem").reset_index(drop=True)
    manifest = manifest.astype({"width": "int64", "height": "int64", "label": "Int64"})
    write_csv(manifest, data_dir / MANIFEST)
    write_csv(find_duplicates(manifest), data_dir / DUPLICATES)
    return manifest, report


def find_duplicates(manifest: pd.DataFrame) -> pd.DataFrame:
    """Groups of byte-identical files: sha256, count, files and `leakage`.

    `leakage` is True where a group spans train and test.
    """
    repeated = manifest[manifest.duplicated("sha256", keep=False)]
    groups = repeated.groupby("sha256", sort=True).agg(
        count=("file", "size"), files=("file", " ".join), splits=("split", lambda s: set(s))
    )
    groups["leakage"] = groups["splits"].map(lambda splits: {"train", "test"} <= splits)
    return groups.drop(columns="splits").reset_index()


def read_cleaning_reports(data_dir: Path) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """The quarantine and duplicate reports `make data` left in `data_dir` (None where absent)."""
    data_dir = Path(data_dir)
    quarantine = data_dir / QUARANTINE / QUARANTINE_REPORT
    duplicates = data_dir / DUPLICATES
    return (
        pd.read_csv(quarantine) if quarantine.is_file() else None,
        pd.read_csv(duplicates) if duplicates.is_file() else None,
    )
