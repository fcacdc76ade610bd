"""Before `make lab` starts JupyterLab: the working copies it serves (helpers.notebooks)."""

from __future__ import annotations

import argparse
import sys

from helpers.cli.program import run_program
from helpers.config import project_root
from helpers.notebooks import WORKING_COPIES, notebook_paths, prepare_working_copies

PROGRAM = "make lab"


def build_parser() -> argparse.ArgumentParser:
    """The command line of the working-copies step."""
    return argparse.ArgumentParser(
        prog="python -m helpers.cli.lab",
        description=f"Copy the numbered notebooks into {WORKING_COPIES}/, outputs cleared, for "
        "JupyterLab; a copy you have run or edited is kept as it is.",
    )


def run(args: argparse.Namespace) -> int:
    """Prepare the working copies and say what became of each."""
    folder = project_root() / WORKING_COPIES
    outcome = prepare_working_copies(notebook_paths(), folder)
    kept = [name for name, what in outcome.items() if what == "kept"]
    changed = sum(what in ("copied", "updated") for what in outcome.values())
    print(
        f"[lab] JupyterLab serves working copies in {WORKING_COPIES}/ ({changed} copied afresh): "
        "running and saving them leaves notebooks/ untouched."
    )
    if kept:
        print(
            f"[lab] kept as you left them: {', '.join(kept)}; delete one from {WORKING_COPIES}/ "
            "to get the current version of it."
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of `make lab`'s first step; returns the exit status."""
    return run_program(PROGRAM, build_parser(), run, argv)


if __name__ == "__main__":
    sys.exit(main())
