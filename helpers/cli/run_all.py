"""`make run-all` (`catsdogs-run-all`): check the settings, fetch the data if needed, and run the
notebooks with papermill into one run folder (the library: helpers.series)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from helpers.cli.program import run_program
from helpers.config import ConfigError, load_config, project_root
from helpers.errors import (
    UserError,
    disk_full,
    is_disk_full,
    is_not_writable,
    not_writable,
    write_refused,
)
from helpers.launch import process_index

PROGRAM = "run-all"
NO_DOWNLOAD_HELP = (
    "Without the download you can still: try the series on generated data "
    "(make run-all PROFILE=smoke), train on photos you have "
    "(make run-all DATA_DIR=/path/to/photos), "
    "or lay out a zip you already have (make data SOURCE=/path/to/archive.zip)."
)


def parse_settings(pairs: list[str]) -> dict[str, str]:
    """`name=value` strings as a mapping; empty values are dropped (unset make variables)."""
    settings: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise ConfigError(f"--set takes name=value, not {pair!r}")
        if value != "":
            settings[name.strip()] = value
    return settings


class DataUnavailableError(UserError, RuntimeError):
    """The photos could not be fetched; the message says what can be done without them."""


def build_parser() -> argparse.ArgumentParser:
    """The command line of `make run-all`."""
    parser = argparse.ArgumentParser(prog=PROGRAM, description=__doc__)
    parser.add_argument("--profile", help="named profile (default, smoke)")
    parser.add_argument("--config", help="YAML file of settings")
    parser.add_argument(
        "--set", action="append", default=[], metavar="NAME=VALUE", help="override a setting"
    )
    parser.add_argument(
        "--fetch-data",
        metavar="SOURCE",
        help="when the data folder has no photos yet, fetch them first (as make data SOURCE=...)",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Run the series as `args` say; raise a UserError on bad settings or data."""
    # Every setting is checked before anything is fetched, written or imported for training.
    cfg = load_config(
        profile=args.profile or None,
        config_file=args.config or None,
        overrides=parse_settings(args.set),
    )
    from papermill.exceptions import PapermillExecutionError

    from helpers.artifacts import RUNS
    from helpers.make_data import DATA_MB, DataSourceError, DownloadError
    from helpers.series import RUN_FOLDER_MB, fetch_missing_data, run_series

    try:
        if args.fetch_data:
            fetch_missing_data(cfg, args.fetch_data)
    except (DownloadError, DataSourceError) as error:
        raise DataUnavailableError(f"{error}\n{NO_DOWNLOAD_HELP}") from None
    except OSError as error:
        refused = write_refused(error, cfg.data_dir, "make data", DATA_MB, "DATA_DIR")
        if refused is None:
            raise
        raise refused from None
    try:
        run = run_series(cfg)
    except (PapermillExecutionError, OSError) as error:
        folder = cfg.run_dir or project_root() / RUNS
        if is_disk_full(error):  # in this process, or in a notebook's kernel
            need = RUN_FOLDER_MB["synthetic" if cfg.synthetic else "photos"]
            raise disk_full(folder, "a run", need, "RUN_DIR") from None
        if is_not_writable(error):
            # The photos are only read, but the smoke profile generates its own in DATA_DIR.
            written = Path(getattr(error, "filename", None) or folder).absolute()
            in_data = written.is_relative_to(cfg.data_dir.absolute())
            if in_data and not written.is_relative_to(Path(folder).absolute()):
                raise not_writable(cfg.data_dir, "a run", "DATA_DIR") from None
            raise not_writable(folder, "a run", "RUN_DIR") from None
        if not isinstance(error, PapermillExecutionError):
            raise
        # papermill's message names the notebook and the cell that failed, with its traceback.
        print(f"{PROGRAM}: a notebook failed: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    if process_index() > 0:
        print(f"[run-all] process {process_index()}: trained in step with process 0")
        return 0
    print(f"[run-all] done: every output of this run is in {run.root}")
    if run.test_metrics.is_file():
        print(f"[run-all] test metrics: {run.test_metrics.read_text().strip()}")
    print(f"[run-all] the run on one page: {run.report}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of `make run-all` and `catsdogs-run-all`; returns the exit status."""
    return run_program(PROGRAM, build_parser(), run, argv)


if __name__ == "__main__":
    sys.exit(main())
