"""Finding the labelled and test images, checking them, and splitting train from validation."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

from helpers.artifacts import DamagedRunFileError, RunPaths, read_run_csv, write_csv
from helpers.config import Config
from helpers.errors import UserError
from helpers.layout import CLASS_FOLDERS, CLASS_NAMES, TRAIN_DIR, is_image_file, kaggle_category
from helpers.provenance import check_made_with, record_made_with

LAYOUT_HELP = (
    "Put the labelled photos either in the Kaggle layout, {train}/cat.<id>.jpg and "
    "{train}/dog.<id>.jpg, or in one folder per class, {train}/cat/ and {train}/dog/ (any case). "
    "`make data` fetches and lays out the Kaggle photos. "
    "Set DATA_DIR=... (or CATSDOGS_DATA_DIR) to use another folder, "
    "or run `make run-all PROFILE=smoke` to try the series on generated data."
)


class DataNotFoundError(UserError, FileNotFoundError):
    """The data folder is missing, empty, or in no layout this project reads."""

    notebook_hint = (
        'In a notebook, set overrides = {"data_dir": "/path/to/photos"} in the first cell, '
        'or profile = "smoke" for generated data, and run the notebook again.'
    )


def find_train_dir(data_dir: Path) -> Path:
    """The folder holding the labelled images: <data_dir>/train if it exists, else data_dir."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise DataNotFoundError(
            f"Data folder {data_dir} does not exist. "
            + LAYOUT_HELP.format(train=data_dir / TRAIN_DIR)
        )
    train = data_dir / TRAIN_DIR
    return train if train.is_dir() else data_dir


def list_labelled_images(data_dir: Path) -> pd.DataFrame:
    """DataFrame of the labelled images.

    Columns: `filename` (relative to the train folder), `category`, `label`.
    """
    train_dir = find_train_dir(data_dir)
    rows: list[tuple[str, str]] = []
    kaggle = [p for p in train_dir.iterdir() if is_image_file(p) and kaggle_category(p.name)]
    if kaggle:
        rows = [(p.name, kaggle_category(p.name)) for p in kaggle]
    else:
        for folder in sorted(p for p in train_dir.iterdir() if p.is_dir()):
            category = CLASS_FOLDERS.get(folder.name.lower())
            if category:
                rows += [
                    (p.relative_to(train_dir).as_posix(), category)
                    for p in folder.rglob("*")
                    if is_image_file(p)
                ]
    if not rows:
        raise DataNotFoundError(
            f"No labelled images found in {train_dir}. "
            + LAYOUT_HELP.format(train=data_dir / TRAIN_DIR)
        )
    frame = pd.DataFrame(rows, columns=["filename", "category"]).sort_values(
        "filename", ignore_index=True
    )
    missing = sorted(set(CLASS_NAMES) - set(frame["category"]))
    if missing:
        raise DataNotFoundError(
            f"{train_dir} holds no {' or '.join(missing)} images; both classes are needed. "
            + LAYOUT_HELP.format(train=data_dir / TRAIN_DIR)
        )
    frame["label"] = frame["category"].map(CLASS_NAMES.index).astype("int64")
    return frame


def build_dataset_index(cfg: Config) -> pd.DataFrame:
    """The labelled images with size, SHA-256, and why the pipeline's decoder cannot read them.

    The `error` column is empty where the decoder can read the file.
    """
    from helpers.image_check import inspect_files  # TensorFlow's decoder: imported when it works

    frame = list_labelled_images(cfg.data_dir)
    train_dir = find_train_dir(cfg.data_dir)
    details = pd.DataFrame(
        inspect_files([train_dir / name for name in frame["filename"]], progress=False)
    )
    return pd.concat([frame, details.rename(columns={"problem": "error"})], axis=1)


def load_dataset_index(cfg: Config, run: RunPaths) -> pd.DataFrame:
    """The run's dataset index: read from the run folder, or built and saved there.

    When it is built, its unreadable-files report is saved there too.
    """
    check_made_with(cfg, run, "dataset index")
    if run.dataset_index.is_file():
        return pd.read_csv(
            run.dataset_index, keep_default_na=False, na_values={"width": [""], "height": [""]}
        )
    frame = build_dataset_index(cfg)
    write_csv(frame, run.dataset_index)
    write_csv(frame.loc[frame["error"] != "", ["filename", "category", "error"]], run.unreadable)
    record_made_with(cfg, run, "dataset index")
    return frame


def split_train_val(index: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    """Seeded, stratified train/validation split of the readable images.

    Byte-identical copies stay on one side of the split.
    """
    pool = index.loc[index["error"] == "", ["filename", "category", "label", "sha256"]].reset_index(
        drop=True
    )
    if cfg.max_train_images is not None and cfg.max_train_images < len(pool):
        pool, _ = train_test_split(
            pool, train_size=cfg.max_train_images, stratify=pool["label"], random_state=cfg.seed
        )
    groups = pool.drop_duplicates("sha256")[["sha256", "label"]]
    train_groups, val_groups = train_test_split(
        groups, test_size=cfg.val_fraction, stratify=groups["label"], random_state=cfg.seed
    )
    subset = dict.fromkeys(train_groups["sha256"], "train") | dict.fromkeys(
        val_groups["sha256"], "val"
    )
    split = pool.assign(subset=pool["sha256"].map(subset))
    # A random, seeded order: the input pipeline reads files in this order.
    split = split.sample(frac=1.0, random_state=cfg.seed).reset_index(drop=True)
    return split[list(SPLIT_COLUMNS)]


SPLIT_COLUMNS = ("filename", "category", "label", "subset")
SPLIT_REMEDY = (
    "Delete it to make the split anew (a training in this run folder then starts again), or use "
    "a new run folder (RUN_DIR=...)."
)


def load_split(cfg: Config, run: RunPaths, index: pd.DataFrame) -> pd.DataFrame:
    """The run's train/validation split: read from the run folder, or made and saved there."""
    check_made_with(cfg, run, "split")
    if run.split.is_file():
        split = read_run_csv(run.split, SPLIT_COLUMNS, SPLIT_REMEDY)
        if not (split["subset"].isin(["train", "val"]).all() and split["label"].isin([0, 1]).all()):
            raise DamagedRunFileError(
                f"{run.split} holds subsets other than train and val, or labels other than 0 and "
                f"1: it is not the split the series wrote. {SPLIT_REMEDY}"
            )
        unknown = set(split["filename"]) - set(index["filename"])
        if unknown:
            raise DataNotFoundError(
                f"{run.split} names {len(unknown)} files that are not in "
                f"{find_train_dir(cfg.data_dir)} (for example {sorted(unknown)[0]}): it belongs to "
                "other data. Use a new run folder (RUN_DIR=...)."
            )
        return split
    split = split_train_val(index, cfg)
    write_csv(split, run.split)
    record_made_with(cfg, run, "split")
    return split


def image_paths(cfg: Config, filenames: pd.Series) -> list[str]:
    """Absolute paths of labelled images named relative to the train folder."""
    train_dir = find_train_dir(cfg.data_dir)
    return [str(train_dir / name) for name in filenames]


def list_test_images(test_dir: Path) -> pd.DataFrame:
    """DataFrame of the test images, `id` (from `<id>.jpg`) and `path`, sorted by numeric id."""
    test_dir = Path(test_dir)
    if not test_dir.is_dir():
        raise DataNotFoundError(
            f"Test folder {test_dir} does not exist. Put the unlabelled test photos there as "
            "<id>.jpg (Kaggle's test1/), or point TEST_DIR=... (CATSDOGS_TEST_DIR) at them."
        )
    files = sorted(p for p in test_dir.iterdir() if is_image_file(p))
    if not files:
        raise DataNotFoundError(f"Test folder {test_dir} holds no .jpg, .jpeg or .png images.")
    bad = [p.name for p in files if not p.stem.isdigit()]
    if bad:
        raise DataNotFoundError(
            f"Test images must be named <numeric id>.jpg, as in Kaggle's test1/; "
            f"{len(bad)} in {test_dir} are not (for example {bad[0]})."
        )
    frame = pd.DataFrame({"id": [int(p.stem) for p in files], "path": [str(p) for p in files]})
    duplicated = frame["id"][frame["id"].duplicated()]
    if len(duplicated):
        raise DataNotFoundError(
            f"Test folder {test_dir} has two images with id {duplicated.iloc[0]}."
        )
    return frame.sort_values("id", ignore_index=True)


class LabelsFileError(UserError, ValueError):
    """A labels CSV that cannot be read, or without integer ids and 0/1 labels."""


def read_labels(path: Path) -> pd.Series:
    """True labels by image id (1 = dog, 0 = cat) from a CSV with columns `id,label`."""
    try:
        labels = pd.read_csv(path)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise LabelsFileError(f"labels file {path} cannot be read: {error}") from None
    if not {"id", "label"} <= set(labels.columns):
        raise LabelsFileError(
            f"labels file {path} must have the columns id,label; "
            f"it has {','.join(map(str, labels.columns))}"
        )
    if len(labels) and not pd.api.types.is_integer_dtype(labels["id"]):
        raise LabelsFileError(f"labels file {path}: every id must be a whole number (1 for 1.jpg)")
    if not labels["label"].isin([0, 1]).all():
        raise LabelsFileError(f"labels file {path}: every label must be 0 (cat) or 1 (dog)")
    return labels.astype({"id": "int64", "label": "int64"}).set_index("id")["label"]


def known_test_labels(cfg: Config, ids: Sequence[int]) -> list[int] | None:
    """The true labels of the test images `ids`, or None without a labels file that has them all."""
    if not cfg.test_labels_available:
        return None
    labels = read_labels(cfg.test_labels).reindex(list(ids))
    return None if labels.isna().any() else labels.astype("int64").tolist()


def true_label(path: Path, labels: pd.Series | None) -> int | None:
    """An image's true label: from `labels` by its id (<id>.jpg), else a cat.<id>/dog.<id> name."""
    if labels is not None and path.stem.isdigit() and int(path.stem) in labels.index:
        return int(labels[int(path.stem)])
    category = kaggle_category(path.name)
    return CLASS_NAMES.index(category) if category else None
