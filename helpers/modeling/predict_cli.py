"""Predict cat or dog for image files, folders and globs with a saved model (`make predict`).

Every image goes through the training pipeline's decode and resize (helpers.pipeline), so a
prediction here equals the notebooks' for the same file. Files that are not readable images are
named with the reason and skipped.
"""

from __future__ import annotations

import argparse
import glob
import re
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from helpers.artifacts import write_csv
from helpers.config import TEST_TIME_ZOOM_RANGE, Config, valid_test_time_zoom
from helpers.dataset import read_test_labels
from helpers.errors import UserError
from helpers.image_check import inspect_file
from helpers.layout import CLASS_NAMES, is_image_file, kaggle_category
from helpers.modeling.model_file import (
    add_model_argument,
    default_model_file,
    load_model_file,
)
from helpers.modeling.predict import predict_dog_probability
from helpers.runtime import captured_stderr

PROGRAM = "catsdogs-predict"
GLOB_CHARACTERS = frozenset("*?[")


class PredictError(ValueError):
    """Bad input to the prediction command: no images, a file in the way, unusable labels."""


def _natural_key(path: Path) -> list[object]:
    """Sort key that puts 2.jpg before 10.jpg."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", str(path))]


def expand_inputs(items: Sequence[str]) -> tuple[list[Path], list[tuple[str, str]]]:
    """The files that `items` name (files; folders: their image files, recursively; globs), in
    order, without repeats; and the items that name none, each with the reason."""
    found: list[Path] = []
    problems: list[tuple[str, str]] = []
    for item in items:
        path = Path(item).expanduser()
        if path.is_dir():
            images = sorted((p for p in path.rglob("*") if is_image_file(p)), key=_natural_key)
            found += images
            if not images:
                problems.append((item, "a folder with no .jpg, .jpeg or .png file in it"))
        elif path.exists():
            found.append(path)
        elif GLOB_CHARACTERS & set(item):
            matches = [Path(p) for p in glob.glob(str(path), recursive=True) if Path(p).is_file()]
            found += sorted(matches, key=_natural_key)
            if not matches:
                problems.append((item, "a pattern that matches no file"))
        else:
            problems.append((item, "no such file or folder"))
    return list(dict.fromkeys(found)), problems


def _problem(path: Path) -> str:
    """Why the training pipeline could not read `path` as an image, or "" when it can."""
    try:
        return str(inspect_file(path)["problem"])
    except OSError as error:
        return f"cannot be read: {error.strerror or error}"


def readable_images(
    paths: Sequence[Path], workers: int = 4
) -> tuple[list[Path], list[tuple[str, str]]]:
    """The paths that are readable images, and the others with the reason (helpers.image_check)."""
    with captured_stderr(), ThreadPoolExecutor(max_workers=workers) as pool:
        problems = list(pool.map(_problem, paths))  # libjpeg's warnings stay out of the output
    good = [path for path, problem in zip(paths, problems, strict=True) if not problem]
    bad = [(str(path), problem) for path, problem in zip(paths, problems, strict=True) if problem]
    return good, bad


def predict_files(
    model: keras.Model,
    paths: Sequence[Path],
    batch_size: int = 64,
    flip: bool = Config.test_time_flip,
    zoom: float = Config.test_time_zoom,
) -> pd.DataFrame:
    """Per image: `file`, `label` (cat or dog), `dog_probability`, as the notebooks predict.

    `flip` and `zoom` are the test-time views of the default recipe (test_time_flip and
    test_time_zoom), as in predict_dog_probability.
    """
    try:
        dog = predict_dog_probability(
            model, [str(path) for path in paths], batch_size=batch_size, flip=flip, zoom=zoom
        )
    except tf.errors.OpError as error:  # a file that passed the checks and still failed to decode
        raise PredictError(f"prediction failed: {error.message.strip().splitlines()[0]}") from None
    labels = [CLASS_NAMES[int(p >= 0.5)] for p in dog]  # 0.5 and above is a dog, as in 04, 05
    return pd.DataFrame(
        {"file": [str(path) for path in paths], "label": labels, "dog_probability": dog}
    )


def format_table(predictions: pd.DataFrame) -> str:
    """The predictions as an aligned text table: file, label, P(dog)."""
    table = predictions.rename(columns={"dog_probability": "P(dog)"})
    return table.to_string(index=False, formatters={"P(dog)": "{:.4f}".format}, justify="left")


def read_labels(path: Path) -> dict[int, int]:
    """True labels by image id from a CSV with columns id,label (1 = dog, 0 = cat)."""
    return dict(read_test_labels(path).itertuples(index=False))


def true_label(path: Path, labels: dict[int, int]) -> int | None:
    """An image's true label: from `labels` by its id (<id>.jpg), else a cat.<id>/dog.<id> name."""
    if path.stem.isdigit() and int(path.stem) in labels:
        return labels[int(path.stem)]
    category = kaggle_category(path.name)
    return CLASS_NAMES.index(category) if category else None


def accuracy_line(predictions: pd.DataFrame, labels: dict[int, int]) -> str:
    """How many predictions have a known label, and the accuracy on those."""
    truth = [true_label(Path(name), labels) for name in predictions["file"]]
    known = np.array([t is not None for t in truth])
    if not known.any():
        return "accuracy: none of the predicted files has a label in the labels file"
    predicted = (predictions["dog_probability"].to_numpy() >= 0.5).astype(int)[known]
    correct = predicted == np.array([t for t in truth if t is not None])
    return (
        f"accuracy: {correct.mean():.4f} on {known.sum()} labelled images "
        f"of {len(predictions)} predicted"
    )


def build_parser() -> argparse.ArgumentParser:
    """The command line of catsdogs-predict."""
    parser = argparse.ArgumentParser(
        prog=PROGRAM,
        description="Predict cat or dog for image files, folders (every .jpg/.jpeg/.png in them, "
        "recursively) and glob patterns with a saved Keras model, and print file, label and "
        "P(dog). "
        "Files that are not readable images are named with the reason and skipped.",
    )
    parser.add_argument(
        "images", nargs="*", help="image files, folders or glob patterns (quote them)"
    )
    add_model_argument(parser)
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="also write the predictions to this CSV (file,label,dog_probability), "
        "atomically; an existing file is left alone and the command stops, unless --force",
    )
    parser.add_argument("--force", action="store_true", help="replace an existing --output file")
    parser.add_argument(
        "--labels",
        type=Path,
        default=None,
        help="CSV of true labels (id,label; 1 = dog) to print the accuracy against; "
        "cat.<id>.jpg / dog.<id>.jpg names count as labelled too",
    )
    parser.add_argument(
        "--batch-size", type=int, default=64, help="images per prediction batch (64)"
    )
    parser.add_argument(
        "--flip",
        action=argparse.BooleanOptionalAction,
        default=Config.test_time_flip,
        help="average each image's P(dog) with its mirror image's, as notebook 05 predicts "
        "(the recipe's test_time_flip); --no-flip predicts each image alone",
    )
    parser.add_argument(
        "--zoom",
        type=float,
        default=Config.test_time_zoom,
        help="also average with each image's centre, read this many times larger and cropped "
        f"back (the recipe's test_time_zoom, {Config.test_time_zoom:g}); 1 turns it off",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Predict as `args` say; raise PredictError or a UserError (model, labels) on bad input."""
    if not args.images:
        raise PredictError(
            'name at least one image file, folder or pattern, e.g. IMAGES="photo.jpg photos/"'
        )
    if args.batch_size < 1:
        raise PredictError(f"--batch-size={args.batch_size} must be at least 1")
    if not valid_test_time_zoom(args.zoom):
        raise PredictError(f"--zoom={args.zoom:g} must be {TEST_TIME_ZOOM_RANGE}")
    if args.output is not None and args.output.is_dir():
        raise PredictError(f"--output {args.output} is a folder: give the path of a CSV file")
    if args.output is not None and args.output.exists() and not args.force:
        raise PredictError(
            f"{args.output} already exists: choose another --output (OUTPUT=) or add "
            "--force (FORCE=1) to replace it"
        )
    labels = read_labels(args.labels) if args.labels else None
    model = load_model_file(args.model or default_model_file())
    files, skipped = expand_inputs(args.images)
    images, unreadable = readable_images(files)
    for name, reason in skipped + unreadable:
        print(f"skipped {name}: {reason}", file=sys.stderr)
    if not images:
        raise PredictError(
            f"nothing to predict: none of the {len(args.images)} given argument(s) "
            "leads to a readable .jpg or .png image (see the lines above)"
        )
    predictions = predict_files(model, images, args.batch_size, flip=args.flip, zoom=args.zoom)
    print(format_table(predictions))
    counts = predictions["label"].value_counts()
    print(
        f"\n{len(predictions)} images: {counts.get('cat', 0)} cat, {counts.get('dog', 0)} dog; "
        f"{len(unreadable)} unreadable file(s) skipped"
    )
    if labels is not None:
        print(accuracy_line(predictions, labels))
    if args.output is not None:
        if args.output.exists() and not args.force:  # appeared while predicting: still not ours
            raise PredictError(
                f"{args.output} appeared while predicting: not replaced (add --force)"
            )
        write_csv(predictions, args.output)
        print(f"wrote {args.output}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `catsdogs-predict` and `make predict`; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except (PredictError, UserError) as error:
        print(f"{PROGRAM}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
