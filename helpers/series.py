"""Run the numbered notebooks end to end with papermill into one run folder.

The command is helpers.cli.run_all (`make run-all`, `catsdogs-run-all`).
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import default

from helpers.artifacts import RUNS, RunPaths, open_run
from helpers.config import Config, project_root
from helpers.dataset import list_labelled_images, list_test_images
from helpers.layout import TRAIN_DIR
from helpers.make_data import prepare_data
from helpers.modeling.networks import BACKBONES, weights_file
from helpers.notebooks import needs_test_images, notebook_paths
from helpers.synthetic import ensure_synthetic_dataset


class LocalKernelManager(AsyncKernelManager):
    """Starts kernels that talk over local IPC sockets, not TCP.

    The sockets are private to this user, and ipykernel stays quiet.
    """

    @default("transport")
    def _default_transport(self) -> str:
        return "ipc"


def check_inputs(cfg: Config) -> bool:
    """Fail fast, before any notebook runs, on missing data; return whether test images exist.

    Training and validation need no test folder: without one, the notebooks that predict the
    test images are left out. A test folder that is there must be readable.
    """
    if cfg.model in BACKBONES:
        weights_file(cfg)  # fetch the pretrained weights (or find cfg.weights) before any notebook
    if cfg.synthetic:
        ensure_synthetic_dataset(cfg)
    list_labelled_images(cfg.data_dir)
    if not cfg.test_dir.exists():
        return False
    list_test_images(cfg.test_dir)
    return True


def fetch_missing_data(cfg: Config, source: str) -> None:
    """Run make data's steps into cfg.data_dir when it holds no training images yet."""
    if cfg.synthetic or (cfg.data_dir / TRAIN_DIR).is_dir():
        return
    print(f"[run-all] no photos in {cfg.data_dir} yet: make data SOURCE={source}", flush=True)
    print(prepare_data(source, cfg.data_dir), flush=True)


def with_timestamped_run_dir(cfg: Config) -> Config:
    """cfg with a new runs/<date-time>-<profile> folder when no run folder was chosen."""
    if cfg.run_dir is not None:
        return cfg
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return dataclasses.replace(cfg, run_dir=project_root() / RUNS / f"{stamp}-{cfg.profile}")


def run_series(cfg: Config, notebooks: list[Path] | None = None) -> RunPaths:
    """Execute each notebook with the run's config into the run folder; return the run's paths."""
    import papermill

    has_test_images = check_inputs(cfg)
    run = open_run(cfg)
    settings = dataclasses.replace(cfg, run_dir=run.root).to_dict()
    for notebook in notebooks or notebook_paths():
        if not has_test_images and needs_test_images(notebook):
            print(
                f"[run-all] {notebook.name}: skipped, there is no test folder {cfg.test_dir} "
                "(set TEST_DIR=... to predict test images)",
                flush=True,
            )
            continue
        print(f"[run-all] {notebook.name}", flush=True)
        papermill.execute_notebook(
            str(notebook),
            str(run.root / notebook.name),
            # The whole resolved config as overrides: the kernel's own CATSDOGS_* environment
            # cannot change it.
            parameters={"config_file": str(run.config), "overrides": settings},
            cwd=str(notebook.parent),
            progress_bar=False,
            kernel_manager_class=LocalKernelManager,
        )
    return run
