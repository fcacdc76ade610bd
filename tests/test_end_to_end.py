"""Train for real: the notebook series on the synthetic set, the default recipe on real photos."""

import json
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import h5py
import pandas as pd
import pytest
import yaml
from disks import small_disk_at
from kills import (
    KillReport,
    Moment,
    after_line,
    environment_without,
    kill_then_complete,
    record_kills,
    seeded_delays,
    smoke_run_all,
    while_exists,
)
from PIL import Image

from helpers.artifacts import RunPaths
from helpers.config import Config, load_config
from helpers.dataset import read_labels

pytestmark = pytest.mark.slow


class SmokeRun(NamedTuple):
    """The smoke series' completed run, run-all's output, its first try on a full disk, and the
    kills it went through before it completed."""

    cfg: Config
    run: RunPaths
    output: str
    full_disk: subprocess.CompletedProcess | None
    kills: KillReport
    resumed: tuple[list[bytes], list[bytes]]  # history.csv's lines when killed mid-training, at end


def _half_written(run_dir: Path) -> list[str]:
    """Files under their final names in a run folder that do not read whole.

    Hidden files are a write under way (`.<name>.tmp…`, Keras's staging copies). Not checked: the
    executed notebooks (papermill rewrites them as cells run; run-all runs an unfinished one
    again), TensorBoard's event logs, and the backup Keras writes in place (its damage is caught
    when the training resumes: helpers.modeling.training.backup).
    """
    damaged = []
    for path in run_dir.rglob("*"):
        if path.name.startswith(".") or run_dir / "checkpoints" / "backup" in path.parents:
            continue
        try:
            if path.suffix == ".png":
                Image.open(path).verify()
            elif path.suffix == ".csv":
                pd.read_csv(path)
                if not path.read_bytes().endswith(b"\n"):
                    raise ValueError("its last line is cut short")
            elif path.suffix in {".json", ".yaml"}:
                yaml.safe_load(path.read_text())
            elif path.suffix == ".keras":
                with zipfile.ZipFile(path) as archive:
                    assert archive.testzip() is None, "a damaged member"
            elif path.suffix == ".h5":
                h5py.File(path, "r").close()
            elif path.suffix == ".html":
                assert path.read_text().rstrip().endswith("</html>"), "cut short"
        except Exception as error:  # noqa: BLE001 - any failure to read is the finding
            damaged.append(f"{path.relative_to(run_dir)}: {error}")
    return damaged


class FilesKept:
    """What a check after each kill finds: half-written files, and files present before, gone."""

    def __init__(self, run_dir: Path, users: list[Path]) -> None:
        self.run_dir, self.users = run_dir, users
        self.seen: set[Path] = set()

    def check(self) -> list[str]:
        findings = _half_written(self.run_dir)
        final = {
            path
            for path in self.run_dir.rglob("*")
            if path.is_file()
            and not path.name.startswith(".")
            and self.run_dir / "checkpoints" / "backup" not in path.parents
            and "tensorboard" not in path.parts
        } - {RunPaths(self.run_dir).fit_finished}  # a mark while the network is saved

        findings += [f"{path.name} is gone" for path in self.seen - final]
        self.seen |= final
        findings += [f"the user's {path} is gone" for path in self.users if not path.is_file()]
        latest = self.run_dir.parent / "latest"
        if latest.is_symlink() and not (latest / "model.keras").is_file():
            findings.append("runs/latest points at a folder without a model")
        return findings


def _run_all_moments(run_dir: Path) -> list[Moment]:
    """Where the smoke series is killed: in notebooks 01 (the index) and 05 (the predictions) at a
    seeded delay, mid-epoch, and mid-write of the larger files (the best weights, the model, the
    report).

    A write of a few kilobytes (the submission, a table) takes less time than a look for it: the
    renames that make those atomic are tested directly (tests/test_predict.py for every file the
    series writes, tests/test_interrupted_writes.py, tests/make_data/test_prepare.py).
    """
    delays = iter(seeded_delays(seed=29, count=3, longest=3.0))
    history = run_dir / "history.csv"
    return [
        after_line("notebook 01", "[run-all] 01_", next(delays)),
        while_exists("a write of the best weights", run_dir, "checkpoints/.best.writing.*"),
        Moment(
            "the training, mid-epoch",
            lambda _: history.is_file() and len(history.read_bytes().splitlines()) >= 3,
            next(delays),
        ),
        while_exists("the write of model.keras", run_dir, ".model.*.tmp.keras"),
        after_line("notebook 05", "[run-all] 05_", next(delays)),
        while_exists("the write of report.html", run_dir, ".report.*.tmp.html"),
    ]


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory) -> Iterator[SmokeRun]:
    """`make run-all PROFILE=smoke`'s program, run for this module: on a disk that fills up first,
    then killed (SIGKILL) at seeded moments, each time run again, until it completes.

    Where a small tmpfs can be mounted (root), the run folder's disk holds 1 MB: the run stops on
    the full disk, the disk grows (space freed), and the same command goes on. Without root the
    full-disk try is left out. The completed run is the one the tests check.
    """
    root = tmp_path_factory.mktemp("smoke")
    data_dir, disk = root / "synthetic", root / "disk"
    run_dir = disk / "runs" / "smoke"  # in a runs/ folder: run-all points runs/latest at it
    command = smoke_run_all(data_dir, run_dir)
    env = environment_without()

    def run_all() -> subprocess.CompletedProcess:
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)

    with small_disk_at(disk, "1m") as resize:
        full_disk = None
        if resize is not None:
            full_disk = run_all()
            full_disk.half_written = _half_written(run_dir)
            resize("256m")  # space freed
        users = disk / "runs" / "notes.txt"
        users.write_text("a file of the user's beside the runs\n")
        files = FilesKept(run_dir, [users])
        moments = _run_all_moments(run_dir)
        history_when_killed: list[bytes] = []

        def check() -> list[str]:
            if not history_when_killed and run_dir.joinpath("history.csv").is_file():
                lines = run_dir.joinpath("history.csv").read_bytes().splitlines()
                if len(lines) >= 3:  # killed mid-training, epochs done: they must be kept
                    history_when_killed.extend(lines)
            return files.check()

        kills = kill_then_complete("make run-all PROFILE=smoke", command, env, moments, check)
        done = kills.attempts[-1]
        final_history = run_dir.joinpath("history.csv").read_bytes().splitlines()
        cfg = load_config("smoke", overrides={"data_dir": str(data_dir)}, environ={})
        yield SmokeRun(
            cfg,
            RunPaths(run_dir),
            done.output,
            full_disk,
            kills,
            (history_when_killed, final_history),
        )


def test_series_on_synthetic_data_leaves_a_complete_run_folder(smoke_run):
    cfg, run = smoke_run.cfg, smoke_run.run
    names = {path.name for path in run.root.iterdir()}
    assert {f"0{i}_" for i in range(1, 7)} <= {
        name[:3] for name in names if name.endswith(".ipynb")
    }
    assert {
        "config.yaml",
        "model.keras",
        "history.csv",
        "split.csv",
        "submission.csv",
        "test_metrics.json",
        "machine.json",
        "report.html",
    } <= names
    figures = {path.name for path in run.figures.iterdir()}
    assert {
        "class_counts.png",
        "samples.png",
        "augmentation_one_image.png",
        "training_curves.png",
        "confusion_matrix.png",
        "test_predictions.png",
        "gradcam_confident.png",
        "gradcam_test.png",
        "gradcam_own_photos.png",
        "reliability_diagram.png",
    } <= figures
    assert "calibration.json" in names

    # A label mapped the wrong way anywhere (files, one-hot order, output index, submission)
    # fails these.
    history = pd.read_csv(run.history)
    assert history["val_accuracy"].max() >= 0.95
    assert json.loads(run.test_metrics.read_text())["accuracy"] >= 0.95
    submission = pd.read_csv(run.submission)
    truth = read_labels(cfg.test_labels)
    assert list(submission.columns) == ["id", "label"] and submission["id"].is_monotonic_increasing
    assert (submission["label"] == submission["id"].map(truth)).mean() >= 0.95


def test_a_full_disk_stops_run_all_saying_where_and_how_much_then_it_completes(smoke_run):
    full_disk, run = smoke_run.full_disk, smoke_run.run
    if full_disk is None:
        pytest.skip("cannot mount a small tmpfs here: needs root (CAP_SYS_ADMIN)")
    assert full_disk.returncode == 2
    message = full_disk.stderr.strip().splitlines()[-1]
    assert message.startswith(f"run-all: no space left on the disk of {run.root} (")
    assert "a run needs about 20 MB there" in message and "RUN_DIR=" in message
    assert "Traceback" not in full_disk.stderr
    # Nothing under a final name is half-written (each file is written beside, then renamed);
    # the same command then completed: the run the other tests check.
    assert full_disk.half_written == []


def test_run_all_killed_anywhere_leaves_no_file_half_written_and_goes_on(smoke_run):
    kills = smoke_run.kills
    record_kills(kills)
    assert kills.kills == 6, [(a.moment, a.killed, a.seconds) for a in kills.attempts]
    assert kills.findings == [], [(a.moment, a.killed, a.seconds) for a in kills.attempts]
    killed, final = smoke_run.resumed
    assert killed, "no kill landed mid-training"
    # The training resumed rather than restarted: the epochs done before the kill are kept byte
    # for byte, their times included. The last may be trained again (it ended after the backup).
    assert final[: len(killed) - 1] == killed[:-1]


def test_run_all_ends_with_a_report_that_opens_in_a_browser(smoke_run, page, tmp_path):
    run, output = smoke_run.run, smoke_run.output
    assert output.strip().splitlines()[-1] == f"[run-all] the run on one page: {run.report}"
    page.goto(run.report.as_uri())
    images = page.locator("img")
    # Every figure of the series' notebooks is on the page, and each decodes to a real bitmap.
    figures = sum(
        "image/png" in output.get("data", {})
        for notebook in run.root.glob("0*.ipynb")
        for cell in json.loads(notebook.read_text())["cells"]
        for output in cell.get("outputs", [])
    )
    assert figures >= 10 and images.count() == figures
    widths = images.evaluate_all(
        "async all => Promise.all(all.map(async i => { await i.decode(); return i.naturalWidth; }))"
    )
    assert all(width > 0 for width in widths), widths
    # The headline figures are the run's own, as its metrics file holds them.
    metrics = json.loads(run.test_metrics.read_text())
    for figure, name in (("test_accuracy", "accuracy"), ("test_log_loss", "log_loss")):
        shown = page.locator(f'[data-figure="{figure}"]').inner_text()
        assert float(shown) == round(metrics[name], 4), (figure, shown, metrics)
    assert "from helpers." not in page.content()  # the code is left out
    page.screenshot(path=tmp_path / "report.png", full_page=False)
