"""`make export`: a saved model as a TensorFlow SavedModel and LiteRT models beside it, each
checked against the Keras model (the library: helpers.modeling.export)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from helpers.artifacts import check_model_file, find_model_file, write_csv
from helpers.cli.program import UsageError, add_model_argument, run_program
from helpers.errors import first_line

PROGRAM = "export"


def build_parser() -> argparse.ArgumentParser:
    """The command line of `python -m helpers.cli.export`."""
    parser = argparse.ArgumentParser(
        prog="python -m helpers.cli.export",
        description="Export a saved Keras model, beside it, as a TensorFlow SavedModel "
        "(<stem>_savedmodel/) and as LiteRT models (<stem>_float32.tflite, "
        "<stem>_dynamic_range.tflite with int8 weights); an earlier export of the same model is "
        "replaced, each file whole. Then check each against the "
        "Keras model and print (and write to <stem>_export_check.csv) its size, largest P(dog) "
        "difference, accuracy and single-image latency.",
    )
    add_model_argument(parser)
    parser.add_argument(
        "--images",
        nargs="*",
        default=[],
        help="image files, folders or globs to check on (default: the run's test folder "
        "from its config.yaml; without one, random-pixel images for agreement only)",
    )
    parser.add_argument(
        "--labels",
        type=Path,
        default=None,
        help="CSV id,label of the check images (default: the run's test labels, if any)",
    )
    parser.add_argument(
        "--max-images", type=int, default=1000, help="check on at most this many (1000)"
    )
    parser.add_argument(
        "--runs", type=int, default=50, help="single-image predictions timed per format (50)"
    )
    parser.add_argument("--no-check", action="store_true", help="only export")
    return parser


def run(args: argparse.Namespace) -> int:
    """Export and check as `args` say; raise a UserError (arguments, model, images) on bad input."""
    if args.max_images < 1 or args.runs < 1:
        raise UsageError("--max-images and --runs must be at least 1")
    model_file = check_model_file(find_model_file(args.model))
    from helpers.modeling.export import (  # TensorFlow: only once the arguments are good
        ExportPaths,
        check_exports,
        check_images,
        check_set,
        export_model,
    )
    from helpers.modeling.inference import input_size, load_trained_model

    model = load_trained_model(model_file)
    try:
        paths = export_model(model, ExportPaths(model_file))
    except Exception as error:  # conversion errors come from deep inside TensorFlow
        print(
            f"{PROGRAM}: exporting {model_file} failed, nothing was replaced: "
            f"{type(error).__name__}: {first_line(error)}",
            file=sys.stderr,
        )
        return 1
    for path in (paths.saved_model, paths.tflite_float32, paths.tflite_dynamic_range):
        print(f"wrote {path}")
    if args.no_check:
        return 0
    files, labels_file, skipped = check_images(
        model_file, args.images, args.labels, args.max_images
    )
    for name, reason in skipped:
        print(f"skipped {name}: {reason}", file=sys.stderr)
    images, labels, source = check_set(files, labels_file, input_size(model))
    report = check_exports(model, model_file, images, labels, args.runs)
    print(f"\nchecked on {source}; latency: median of {args.runs} single-image runs on this CPU")
    print(
        report.to_string(
            index=False,
            na_rep="-",
            formatters={"max_abs_diff_p_dog": "{:.2e}".format, "accuracy": "{:.4f}".format},
        )
    )
    write_csv(report, paths.check)
    print(f"wrote {paths.check}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `make export`; returns the exit status."""
    return run_program(PROGRAM, build_parser(), run, argv)


if __name__ == "__main__":
    sys.exit(main())
