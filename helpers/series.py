"""Run the numbered notebooks end to end with papermill into one run folder.

The command is helpers.cli.run_all (`make run-all`, `catsdogs-run-all`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import default

from helpers.artifacts import RUNS, RunPaths, open_run, run_paths
from helpers.config import (
    BACKBONE_MODELS,
    BACKEND_ENV,
    Config,
    ConfigError,
    keras_backend,
    project_root,
)
from helpers.dataset import list_labelled_images, list_test_images
from helpers.launch import launch_problem, process_index, worker_config
from helpers.layout import TRAIN_DIR
from helpers.locks import folder_lock
from helpers.make_data import prepare_data
from helpers.notebooks import (
    already_executed,
    kernel_backend,
    needs_test_images,
    notebook_paths,
    trains_the_model,
)
from helpers.report import write_report
from helpers.summary import record_machine
from helpers.synthetic import ensure_synthetic_dataset

# About the space a run folder takes at its end (notebooks, figures, model, checkpoints, report),
# measured (29 and 11 MB), with room to spare: said when the disk fills.
RUN_FOLDER_MB = {"photos": 50, "synthetic": 20}


class LocalKernelManager(AsyncKernelManager):
    """Starts kernels that talk over local IPC sockets, not TCP.

    The sockets are private to this user, and ipykernel stays quiet.
    """

    @default("transport")
    def _default_transport(self) -> str:
        return "ipc"

    @default("ip")
    def _default_ip(self) -> str:
        # The sockets' path prefix. jupyter_client's own, "kernel-ipc" in the working folder, is
        # the same for every kernel started there: two make run-all at once (the processes of one
        # training) crossed their kernels' messages, and killed kernels left sockets behind.
        return str(Path(tempfile.gettempdir()) / f"catsdogs-kernel-{uuid.uuid4().hex}")


def check_inputs(cfg: Config) -> bool:
    """Fail fast, before any notebook runs, on missing data; return whether test images exist.

    Training and validation need no test folder: without one, the notebooks that predict the
    test images are left out. A test folder that is there must be readable.
    """
    problem = launch_problem(cfg, keras_backend())
    if problem:
        raise ConfigError(problem)
    if cfg.model in BACKBONE_MODELS:
        from helpers.modeling.networks import weights_file  # TensorFlow: only for a backbone

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
    base = project_root() / RUNS / f"{time.strftime('%Y%m%d-%H%M%S')}-{cfg.profile}"
    base.parent.mkdir(parents=True, exist_ok=True)
    # Claimed by creating it: two runs started in the same second get a folder each.
    for n in range(1, 1000):
        folder = base if n == 1 else base.with_name(f"{base.name}-{n}")
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        return dataclasses.replace(cfg, run_dir=folder)
    raise FileExistsError(f"{base}: a thousand runs started in this second")


def run_series(cfg: Config, notebooks: list[Path] | None = None) -> RunPaths:
    """Execute each notebook with the run's config into the run folder, then write its report.

    Without a run folder in `cfg`, the run gets a new runs/<date-time>-<profile>/.
    Returns the run's paths. One make run-all at a time writes a run folder: a second one given
    the same folder stops at once (a FolderBusyError), before it changes anything.
    """
    has_test_images = check_inputs(cfg)
    cfg = with_timestamped_run_dir(cfg)
    notebooks = notebooks or notebook_paths()
    if process_index() > 0:
        # Another process of a multi-process training: it trains in step with process 0, in a
        # folder of its own; the run folder and the other notebooks are process 0's.
        cfg = worker_config(cfg)
        notebooks = [notebook for notebook in notebooks if trains_the_model(notebook)]
        print(f"[run-all] process {process_index()}: trains alongside process 0, in {cfg.run_dir}")
    run = run_paths(cfg)
    with folder_lock(run.root, busy=lambda holder: _busy(run, holder)):
        return _run_notebooks(cfg, notebooks, has_test_images)


def _busy(run: RunPaths, holder: str) -> str:
    return (
        f"the run folder {run.root} is in use by another make run-all ({holder}): wait for it "
        "to finish, or give this run a folder of its own (RUN_DIR=runs/another)"
    )


def _run_notebooks(cfg: Config, notebooks: list[Path], has_test_images: bool) -> RunPaths:
    """Execute the notebooks into the run folder (held by this process), then write the report."""
    import papermill

    run = open_run(cfg)
    record_machine(run)
    # The whole resolved config as overrides: the kernel's own CATSDOGS_* environment cannot
    # change it.
    parameters = {
        "config_file": str(run.config),
        "overrides": dataclasses.replace(cfg, run_dir=run.root).to_dict(),
    }
    going_on = True  # from where an interrupted run of the same command in this folder stopped
    for notebook in notebooks:
        if not has_test_images and needs_test_images(notebook):
            print(
                f"[run-all] {notebook.name}: skipped, there is no test folder {cfg.test_dir} "
                "(set TEST_DIR=... to predict test images)",
                flush=True,
            )
            continue
        executed = run.root / notebook.name
        if going_on and already_executed(executed, notebook, parameters):
            print(
                f"[run-all] {notebook.name}: already run to its end in this run folder with "
                f"these settings, kept (delete {executed} to run it again)",
                flush=True,
            )
            continue
        going_on = False  # a notebook runs again: every later one reads what it writes
        print(f"[run-all] {notebook.name}", flush=True)
        with _kernel_environment({BACKEND_ENV: kernel_backend(notebook, keras_backend())}):
            papermill.execute_notebook(
                str(notebook),
                str(executed),
                parameters=parameters,
                cwd=str(notebook.parent),
                progress_bar=False,
                kernel_manager_class=LocalKernelManager,
            )
    return write_report(run) if process_index() == 0 else run


@contextlib.contextmanager
def _kernel_environment(variables: dict[str, str]) -> Iterator[None]:
    """`variables` in this process's environment, which a kernel started meanwhile inherits.

    This process runs no Keras itself, so the change reaches only the kernels.
    """
    before = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
