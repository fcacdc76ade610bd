"""Predict cat or dog for image files, folders and globs with a saved model (`make predict`).

Every image goes through the training pipeline's decode and resize (helpers.modeling.inference), so
a prediction here equals the notebooks' for the same file. Files that are not readable images are
named with the reason and skipped.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.artifacts import check_model_file, find_model_file, write_csv
from helpers.cli.program import UsageError, add_model_argument, run_program
from helpers.config import TEST_TIME_ZOOM_RANGE, Config, valid_test_time_zoom
from helpers.dataset import read_labels, true_label
from helpers.layout import CLASS_NAMES

PROGRAM = "catsdogs-predict"


def format_table(predictions: pd.DataFrame) -> str:
    """The predictions as an aligned text table: file, label, P(dog)."""
    table = predictions.rename(columns={"dog_probability": "P(dog)"})
    return table.to_string(index=False, formatters={"P(dog)": "{:.4f}".format}, justify="left")


def accuracy_line(predictions: pd.DataFrame, labels: pd.Series) -> str:
    """How many predictions have a known label, and the accuracy on those."""
    truth = [true_label(Path(name), labels) for name in predictions["file"]]
    known = np.array([t is not None for t in truth])
    if not known.any():
        return "accuracy: none of the predicted files has a label in the labels file"
    predicted = predictions["label"].map(CLASS_NAMES.index).to_numpy()[known]
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


def check_arguments(args: argparse.Namespace) -> None:
    """A UsageError for arguments that cannot work, before anything is loaded."""
    if not args.images:
        raise UsageError(
            'name at least one image file, folder or pattern, e.g. IMAGES="photo.jpg photos/"'
        )
    if args.batch_size < 1:
        raise UsageError(f"--batch-size={args.batch_size} must be at least 1")
    if not valid_test_time_zoom(args.zoom):
        raise UsageError(f"--zoom={args.zoom:g} must be {TEST_TIME_ZOOM_RANGE}")
    if args.output is not None and args.output.is_dir():
        raise UsageError(f"--output {args.output} is a folder: give the path of a CSV file")
    if args.output is not None and args.output.exists() and not args.force:
        raise UsageError(
            f"{args.output} already exists: choose another --output (OUTPUT=) or add "
            "--force (FORCE=1) to replace it"
        )


def run(args: argparse.Namespace) -> int:
    """Predict as `args` say; raise a UserError (arguments, model, labels, images) on bad input."""
    check_arguments(args)
    labels = read_labels(args.labels) if args.labels else None
    model_file = check_model_file(find_model_file(args.model))
    from helpers.modeling.inference import (  # TensorFlow: only once the arguments are good
        PredictError,
        expand_inputs,
        load_trained_model,
        predict_files,
        readable_images,
    )

    model = load_trained_model(model_file)
    files, skipped = expand_inputs(args.images)
    images, unreadable = readable_images(files)
    for name, reason in skipped + unreadable:
        print(f"skipped {name}: {reason}", file=sys.stderr)
    if not images:
        raise PredictError(
            f"nothing to predict: none of the {len(args.images)} given argument(s) "
            "leads to a readable .jpg or .png image (see the lines above)"
        )
    predictions = predict_files(
        model, images, batch_size=args.batch_size, flip=args.flip, zoom=args.zoom
    )
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
            raise UsageError(f"{args.output} appeared while predicting: not replaced (add --force)")
        write_csv(predictions, args.output)
        print(f"wrote {args.output}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `catsdogs-predict` and `make predict`; returns the exit status."""
    return run_program(PROGRAM, build_parser(), run, argv)


if __name__ == "__main__":
    sys.exit(main())
