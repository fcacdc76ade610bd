import dataclasses
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from helpers.cli.run_all import main, parse_settings
from helpers.config import ConfigError, load_config
from helpers.dataset import DataNotFoundError
from helpers.notebooks import kernel_backend, needs_test_images, notebook_paths
from helpers.series import LocalKernelManager, _kernel_environment, check_inputs


def test_notebooks_are_found_in_numbered_order():
    names = [path.name for path in notebook_paths()]
    assert names == [
        "01_data_exploration.ipynb",
        "02_augmentation_preview.ipynb",
        "03_train_cnn.ipynb",
        "04_training_curves.ipynb",
        "05_predict_submission.ipynb",
        "06_explain_model.ipynb",
    ]


def test_settings_from_make_variables():
    assert parse_settings(["EPOCHS=5", "MODEL=seed_cnn", "DATA_DIR="]) == {
        "EPOCHS": "5",
        "MODEL": "seed_cnn",
    }
    with pytest.raises(ConfigError, match="name=value"):
        parse_settings(["EPOCHS"])


def test_missing_data_stops_at_once_with_instructions(tmp_path, capsys):
    run_dir = tmp_path / "run"
    code = main(["--set", f"DATA_DIR={tmp_path / 'nothing-here'}", "--set", f"RUN_DIR={run_dir}"])
    message = capsys.readouterr().err
    assert code == 2
    assert "nothing-here does not exist" in message and "cat.<id>.jpg" in message
    assert not run_dir.exists()


def test_empty_data_folder_stops_at_once(tmp_path, capsys):
    (tmp_path / "data").mkdir()
    code = main(["--set", f"DATA_DIR={tmp_path / 'data'}", "--set", f"RUN_DIR={tmp_path / 'run'}"])
    assert code == 2
    assert "No labelled images found" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_bad_settings_stop_at_once(tmp_path, capsys):
    assert main(["--set", "EPOCHS=many", "--set", f"RUN_DIR={tmp_path / 'run'}"]) == 2
    assert "epochs='many' is not a whole number" in capsys.readouterr().err
    assert (
        main(["--profile", "smoke", "--set", "MODEL=vgg", "--set", f"RUN_DIR={tmp_path / 'run'}"])
        == 2
    )
    assert "model='vgg' must be one of: seed_cnn" in capsys.readouterr().err


def test_settings_are_checked_before_any_data_is_fetched(tmp_path, capsys):
    # No server listens on this port: a fetch attempted before the check would fail differently.
    source = "http://127.0.0.1:9/kagglecatsanddogs.zip"
    data_dir = tmp_path / "data"
    for bad, message in [
        ("EPOCHS=abc", "epochs='abc' is not a whole number"),
        ("MODEL=resnet", "model='resnet' must be one of: seed_cnn"),
        ("IMAGE_SIZE=8", "image_size=8 must be at least 16"),
    ]:
        code = main(["--fetch-data", source, "--set", f"DATA_DIR={data_dir}", "--set", bad])
        assert code == 2 and message in capsys.readouterr().err
    assert not data_dir.exists()


def test_a_failed_download_says_what_else_to_do_and_leaves_no_empty_folder(tmp_path, capsys):
    data_dir = tmp_path / "data"
    code = main(
        [
            "--fetch-data",
            "http://127.0.0.1:9/kagglecatsanddogs.zip",
            "--set",
            f"DATA_DIR={data_dir}",
        ]
    )
    message = capsys.readouterr().err
    assert code == 2 and "cannot reach http://127.0.0.1:9/kagglecatsanddogs.zip" in message
    assert "PROFILE=smoke" in message and "DATA_DIR=" in message and "SOURCE=" in message
    assert not data_dir.exists()


def test_without_a_test_folder_training_still_runs_and_prediction_is_left_out(kaggle_dir):
    shutil.rmtree(kaggle_dir / "test1")
    cfg = load_config(overrides={"data_dir": str(kaggle_dir)}, environ={})
    assert check_inputs(cfg) is False
    needing = [path.name for path in notebook_paths() if needs_test_images(path)]
    assert needing == ["05_predict_submission.ipynb", "06_explain_model.ipynb"]
    (kaggle_dir / "test1").mkdir()  # a test folder that is there must hold test images
    with pytest.raises(DataNotFoundError, match="holds no .jpg"):
        check_inputs(cfg)


def test_a_fault_in_the_code_shows_its_traceback_not_a_one_line_failure(tmp_path, monkeypatch):
    def faulty(cfg):
        raise KeyError("a bug in the series code")

    monkeypatch.setattr("helpers.series.run_series", faulty)
    with pytest.raises(KeyError, match="a bug in the series code"):
        main(["--profile", "smoke", "--set", f"RUN_DIR={tmp_path / 'run'}"])


def test_a_failed_notebook_is_reported_in_one_line_naming_it(tmp_path, monkeypatch, capsys):
    from papermill.exceptions import PapermillExecutionError

    def failing(cfg):
        raise PapermillExecutionError(3, 2, "ValueError: bad cell", "ValueError", "bad cell", [])

    monkeypatch.setattr("helpers.series.run_series", failing)
    assert main(["--profile", "smoke", "--set", f"RUN_DIR={tmp_path / 'run'}"]) == 1
    assert "run-all: a notebook failed: PapermillExecutionError" in capsys.readouterr().err


def test_a_second_run_all_on_a_folder_in_use_stops_at_once_naming_it(kaggle_dir, tmp_path, capsys):
    from helpers.artifacts import RunPaths
    from helpers.locks import folder_lock

    run = RunPaths(tmp_path / "run")
    args = ["--set", f"DATA_DIR={kaggle_dir}", "--set", f"RUN_DIR={run.root}"]
    with folder_lock(run.root):  # as the first make run-all holds it while its notebooks run
        assert main(args) == 2
    message = capsys.readouterr().err
    assert message.startswith(
        f"run-all: the run folder {run.root} is in use by another make run-all"
    )
    assert "RUN_DIR=" in message
    assert not any(run.root.iterdir())  # nothing written


def test_the_lock_is_the_holders_until_its_process_ends_even_killed(tmp_path):
    import subprocess
    import sys

    from helpers.locks import FolderBusyError, folder_lock

    folder = tmp_path / "run"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; "
            "from helpers.locks import folder_lock\n"
            f"with folder_lock(Path({str(folder)!r})):\n print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(FolderBusyError, match=f"busy: process {holder.pid}"):
            with folder_lock(folder, busy=lambda who: f"busy: {who}"):
                pass
    finally:
        holder.kill()
        holder.wait()
    with folder_lock(folder, busy=lambda who: f"busy: {who}"):  # SIGKILL released it
        pass


def test_runs_started_in_the_same_second_get_a_folder_each(tmp_path, monkeypatch):
    from helpers.series import with_timestamped_run_dir

    monkeypatch.setenv("CATSDOGS_ROOT", str(tmp_path))
    monkeypatch.setattr("helpers.series.time.strftime", lambda _: "20261201-120000")
    cfg = load_config(environ={})
    first, second = with_timestamped_run_dir(cfg), with_timestamped_run_dir(cfg)
    assert first.run_dir == tmp_path / "runs" / "20261201-120000-default"
    assert second.run_dir == tmp_path / "runs" / "20261201-120000-default-2"
    assert first.run_dir.is_dir() and second.run_dir.is_dir()


def test_run_all_again_goes_on_from_the_notebook_that_did_not_finish(
    kaggle_dir, tmp_path, monkeypatch, capsys
):
    import json

    from helpers import series

    executed, fail_at = [], {"03_train_cnn.ipynb"}

    def papermill_like(input_path, output_path, parameters, **kwargs):
        """Writes the executed copy as papermill does: its record, end_time once it finished."""
        name = input_path.rsplit("/", 1)[-1]
        executed.append(name)
        notebook = json.loads(open(input_path).read())
        notebook["metadata"]["papermill"] = {
            "parameters": parameters,
            "end_time": None if name in fail_at else "2026-12-02T00:00:00+00:00",
            "exception": name in fail_at or None,
        }
        open(output_path, "w").write(json.dumps(notebook))
        if name in fail_at:
            raise RuntimeError("killed")

    monkeypatch.setattr("papermill.execute_notebook", papermill_like)
    monkeypatch.setattr(series, "write_report", lambda run: run)
    cfg = load_config(overrides={"data_dir": str(kaggle_dir), "run_dir": str(tmp_path / "run")})
    with pytest.raises(RuntimeError):
        series.run_series(cfg)
    assert executed == ["01_data_exploration.ipynb", "02_augmentation_preview.ipynb"] + [
        "03_train_cnn.ipynb"
    ]

    executed.clear()
    fail_at.clear()
    series.run_series(cfg)
    assert executed == [path.name for path in notebook_paths()][2:]
    assert "01_data_exploration.ipynb: already run to its end in this run folder" in (
        capsys.readouterr().out
    )

    # Other settings run every notebook again; so does a notebook whose code has changed.
    executed.clear()
    series.run_series(dataclasses.replace(cfg, epochs=cfg.epochs + 1))
    assert len(executed) == 6


def test_a_notebook_copy_counts_as_run_only_when_whole_finished_and_of_the_same_code(tmp_path):
    import json

    from helpers.notebooks import already_executed

    source = notebook_paths()[0]
    parameters = {"config_file": "c.yaml", "overrides": {"epochs": 3}}
    copy = tmp_path / source.name

    def write(end_time="2026-12-02T00:00:00+00:00", exception=None, code=None, params=parameters):
        notebook = json.loads(source.read_text())
        notebook["metadata"]["papermill"] = {
            "parameters": params,
            "end_time": end_time,
            "exception": exception,
        }
        if code is not None:
            next(c for c in notebook["cells"] if c["cell_type"] == "code")["source"] = code
        copy.write_text(json.dumps(notebook))

    write()
    assert already_executed(copy, source, parameters)
    for damage in (
        {"end_time": None},  # still running, or killed
        {"exception": True},  # a cell failed
        {"params": {"config_file": "c.yaml", "overrides": {"epochs": 4}}},
        {"code": "print('edited')"},
    ):
        write(**damage)
        assert not already_executed(copy, source, parameters), damage
    write()
    copy.write_text(copy.read_text()[:500])  # cut short mid-write
    assert not already_executed(copy, source, parameters)
    copy.unlink()
    assert not already_executed(copy, source, parameters)


def test_only_the_training_notebook_runs_on_the_backend_asked_for(monkeypatch):
    # The others read the saved model on TensorFlow (notebook 04 failed on JAX: tf tensors given
    # to a jitted predict step), whichever engine trained it.
    backends = {path.name: kernel_backend(path, "jax") for path in notebook_paths()}
    assert backends.pop("03_train_cnn.ipynb") == "jax"
    assert set(backends.values()) == {"tensorflow"}
    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")
    with _kernel_environment({"KERAS_BACKEND": "jax"}):
        assert os.environ["KERAS_BACKEND"] == "jax"
    assert os.environ["KERAS_BACKEND"] == "tensorflow"


def test_a_distribution_on_the_wrong_backend_stops_before_any_notebook(
    monkeypatch, tmp_path, capsys
):
    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")
    settings = [f"DATA_DIR={tmp_path / 'data'}", f"RUN_DIR={tmp_path / 'run'}"]
    settings.append("DISTRIBUTE=data_parallel")
    code = main(["--profile", "smoke", *(f"--set={pair}" for pair in settings)])
    assert code == 2
    assert 'distribute="data_parallel" runs on Keras\'s jax backend' in capsys.readouterr().err
    assert not (tmp_path / "run").exists() and not (tmp_path / "data").exists()


def test_each_kernel_has_its_own_sockets_outside_the_working_folder():
    # jupyter_client's own prefix, kernel-ipc in the working folder, is every kernel's: two
    # make run-all at once in one checkout crossed their kernels' messages ("Invalid Signature").
    first, second = LocalKernelManager(), LocalKernelManager()
    assert first.transport == "ipc" and first.ip != second.ip
    assert Path(first.ip).parent == Path(tempfile.gettempdir())
