"""What the programs share: the --model option, argument errors, and how a user's error ends one."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from helpers.errors import UserError


class UsageError(UserError, ValueError):
    """An argument out of its range, or a file given that is in the way."""


def add_model_argument(parser: argparse.ArgumentParser) -> None:
    """The --model option: a .keras file, by default the newest run's."""
    parser.add_argument(
        "--model",
        type=Path,
        default=None,
        help="the .keras model file (default: runs/latest/model.keras)",
    )


def run_program(
    program: str,
    parser: argparse.ArgumentParser,
    run: Callable[[argparse.Namespace], int],
    argv: Sequence[str] | None,
) -> int:
    """Parse `argv` and `run` the program; a user's error ends it as one line on stderr, status 2.

    Any other error is a fault in the code: its traceback shows.
    """
    args = parser.parse_args(argv)
    try:
        return run(args)
    except UserError as error:
        print(f"{program}: {error}", file=sys.stderr)
        return 2
