"""`make data`: fetch the dataset, verify it, lay it out in the Kaggle layout, and clean it, safely
(the library: helpers.make_data)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import helpers.make_data
from helpers.cli.program import run_program
from helpers.errors import write_refused
from helpers.make_data import DATA_MB, HOLD_OUT_COUNT, prepare_data

PROGRAM = "make data"


def build_parser() -> argparse.ArgumentParser:
    """The command line of `make data`."""
    parser = argparse.ArgumentParser(
        prog="python -m helpers.cli.data",
        description=helpers.make_data.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--source", default="petimages", help="petimages (default), kaggle, or a path or URL"
    )
    parser.add_argument("--data-dir", default="data", help="where to lay out the dataset")
    parser.add_argument("--sha256", help="expected SHA-256 of a zip given by path or URL")
    parser.add_argument(
        "--force", action="store_true", help="rebuild even if data is there (old files set aside)"
    )
    parser.add_argument(
        "--test-count",
        type=int,
        default=HOLD_OUT_COUNT,
        help="images held out as the labelled test1/ when the source has no test set",
    )
    parser.add_argument("--seed", type=int, default=42)
    return parser


def run(args: argparse.Namespace) -> int:
    """Lay out the dataset as `args` say; raise a UserError when the data cannot be had."""
    try:
        summary = prepare_data(
            args.source,
            Path(args.data_dir),
            force=args.force,
            sha256=args.sha256,
            test_count=args.test_count,
            seed=args.seed,
        )
    except OSError as error:
        refused = write_refused(error, Path(args.data_dir), "make data", DATA_MB, "DATA_DIR")
        if refused is None:
            raise
        raise refused from None
    print(summary)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of `make data`; returns the exit status."""
    return run_program(PROGRAM, build_parser(), run, argv)


if __name__ == "__main__":
    sys.exit(main())
