"""Backbone weights for machines without the ImageNet files (tests, the transfer-smoke profile):
`python -m helpers.cli.backbones write-test-weights PATH [--model mobilenet_v3_small]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from helpers.modeling.networks import BACKBONES, write_test_weights

PROGRAM = "write-test-weights"


def main(argv: list[str] | None = None) -> int:
    """Command line: write-test-weights PATH [--model NAME] [--seed N]."""
    parser = argparse.ArgumentParser(
        description="Backbone weights for machines without the ImageNet files."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    write = commands.add_parser(
        "write-test-weights", help="write seeded (not ImageNet) weights of a backbone"
    )
    write.add_argument("path", type=Path, help="the .h5 file to write")
    write.add_argument("--model", default="mobilenet_v3_small", choices=sorted(BACKBONES))
    write.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        path = write_test_weights(args.path, args.model, args.seed)
    except (ValueError, FileExistsError) as error:
        print(f"{PROGRAM}: {error}", file=sys.stderr)
        return 2
    print(
        f"wrote seeded test weights of {args.model} (not ImageNet weights) to {path}: "
        f"use them with WEIGHTS={path} MODEL={args.model}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
