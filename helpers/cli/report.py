"""`make report`: write (again) the one-page report of a run folder that `make run-all` made.

`make run-all` writes report.html itself; this is for a run folder whose notebooks were run or
re-run another way (in JupyterLab, one by one), or made before reports existed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from helpers.artifacts import LATEST, RUNS, RunPaths
from helpers.cli.program import UsageError, run_program
from helpers.config import project_root

PROGRAM = "report"


def build_parser() -> argparse.ArgumentParser:
    """The command line of `make report`."""
    parser = argparse.ArgumentParser(prog=PROGRAM, description=__doc__)
    parser.add_argument(
        "--run-dir", type=Path, default=None, help="the run folder (default: runs/latest)"
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Write the report of the run folder `args` name; raise a UserError if it holds no run."""
    root = args.run_dir or project_root() / RUNS / LATEST
    run = RunPaths(root)
    if not run.config.is_file() or not run.executed_notebooks():
        raise UsageError(
            f"{root} holds no executed notebooks and config.yaml: give the folder of a run "
            "(RUN_DIR=runs/<folder>), one that make run-all or the notebooks wrote."
        )
    from helpers.report import write_report

    print(f"[report] the run on one page: {write_report(run).report}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of `make report`; returns the exit status."""
    return run_program(PROGRAM, build_parser(), run, argv)


if __name__ == "__main__":
    sys.exit(main())
