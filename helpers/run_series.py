"""Run the numbered notebooks end to end with papermill into one run folder (`make run-all`)."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import default

from helpers.artifacts import RunPaths, open_run
from helpers.config import Config, ConfigError, load_config, project_root
from helpers.dataset import DataNotFoundError, list_labelled_images, list_test_images
from helpers.modeling.backbones import BACKBONES, WeightsUnavailableError, weights_file
from helpers.modeling.models import check_model_name
from helpers.synthetic import ensure_synthetic_dataset


class LocalKernelManager(AsyncKernelManager):
    """Starts kernels that talk over local IPC sockets, not TCP: private to this user, and ipykernel stays quiet."""

    @default("transport")
    def _default_transport(self) -> str:
        return "ipc"


def notebook_paths(root: Path | None = None) -> list[Path]:
    """The series' notebooks, in their numbered order."""
    notebooks = sorted((root or project_root()).joinpath("notebooks").glob("[0-9][0-9]_*.ipynb"))
    if not notebooks:
        raise FileNotFoundError(f"no numbered notebooks in {(root or project_root()) / 'notebooks'}")
    return notebooks


def check_inputs(cfg: Config) -> None:
    """Fail fast, before any notebook runs, on missing data or an unknown model."""
    check_model_name(cfg.model)
    if cfg.model in BACKBONES:
        weights_file(cfg)  # fetch the pretrained weights (or find cfg.weights) before any notebook
    if cfg.synthetic:
        ensure_synthetic_dataset(cfg)
    list_labelled_images(cfg.data_dir)
    list_test_images(cfg.test_dir)


def with_timestamped_run_dir(cfg: Config) -> Config:
    """cfg with a new runs/<date-time>-<profile> folder when no run folder was chosen."""
    if cfg.run_dir is not None:
        return cfg
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return dataclasses.replace(cfg, run_dir=project_root() / "runs" / f"{stamp}-{cfg.profile}")


def point_latest_at(run: RunPaths) -> None:
    """Make runs/latest a symbolic link to this run's folder."""
    latest = run.root.parent / "latest"
    if latest.exists() and not latest.is_symlink():
        return  # someone's own folder called "latest": leave it alone
    tmp = latest.with_name(f".latest.{os.getpid()}")
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(run.root.name)
    os.replace(tmp, latest)


def run_series(cfg: Config, notebooks: list[Path] | None = None) -> RunPaths:
    """Execute each notebook with the run's config into the run folder; return the run's paths."""
    import papermill

    check_inputs(cfg)
    run = open_run(cfg)
    settings = dataclasses.replace(cfg, run_dir=run.root).to_dict()
    for notebook in notebooks or notebook_paths():
        print(f"[run-all] {notebook.name}", flush=True)
        papermill.execute_notebook(
            str(notebook),
            str(run.root / notebook.name),
            # The whole resolved config as overrides: the kernel's own CATSDOGS_* environment cannot change it.
            parameters={"config_file": str(run.config), "overrides": settings},
            cwd=str(notebook.parent),
            progress_bar=False,
            kernel_manager_class=LocalKernelManager,
        )
    if run.root.parent.name == "runs":
        point_latest_at(run)
    return run


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


def main(argv: list[str] | None = None) -> int:
    """Command line of `make run-all`."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", help="named profile (default, smoke)")
    parser.add_argument("--config", help="YAML file of settings")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="override a setting")
    args = parser.parse_args(argv)
    try:
        cfg = load_config(
            profile=args.profile or None, config_file=args.config or None, overrides=parse_settings(args.set)
        )
        cfg = with_timestamped_run_dir(cfg)
        run = run_series(cfg)
    except (
        ConfigError, DataNotFoundError, FileExistsError, ValueError, WeightsUnavailableError
    ) as error:
        print(f"run-all: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # papermill's execution error names the notebook and cell
        print(f"run-all: a notebook failed: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    print(f"[run-all] done: every output of this run is in {run.root}")
    if run.test_metrics.is_file():
        print(f"[run-all] test metrics: {run.test_metrics.read_text().strip()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
