"""One "latest": the run folder that last saved a model, which make predict and make export use."""

from __future__ import annotations

import pytest

from helpers.artifacts import RunPaths, point_latest_at
from helpers.modeling.inference import ModelFileError, find_model_file


def test_latest_follows_each_run_that_saves_a_model(tmp_path):
    for name in ("20261201-a", "default"):
        (tmp_path / "runs" / name).mkdir(parents=True)
        point_latest_at(RunPaths(tmp_path / "runs" / name))
        assert (tmp_path / "runs" / "latest").resolve() == tmp_path / "runs" / name
    assert [p.name for p in (tmp_path / "runs").iterdir() if p.name.startswith(".")] == []


def test_latest_is_left_alone_outside_runs_and_when_it_is_the_users_own_folder(tmp_path):
    (tmp_path / "elsewhere" / "run").mkdir(parents=True)
    point_latest_at(RunPaths(tmp_path / "elsewhere" / "run"))
    assert not (tmp_path / "elsewhere" / "latest").exists()
    (tmp_path / "runs" / "latest").mkdir(parents=True)
    (tmp_path / "runs" / "a").mkdir()
    point_latest_at(RunPaths(tmp_path / "runs" / "a"))
    assert (tmp_path / "runs" / "latest").is_dir() and not (
        tmp_path / "runs" / "latest"
    ).is_symlink()


def test_without_latest_the_error_names_the_runs_that_hold_a_model(tmp_path, monkeypatch):
    monkeypatch.setenv("CATSDOGS_ROOT", str(tmp_path))
    with pytest.raises(ModelFileError, match=r"no trained model yet.*make run-all"):
        find_model_file(None)
    for name in ("old", "new"):
        (tmp_path / "runs" / name).mkdir(parents=True)
        (tmp_path / "runs" / name / "model.keras").write_bytes(b"zip")
    with pytest.raises(ModelFileError, match=r"2 run folder\(s\) hold a model") as error:
        find_model_file(None)
    assert "runs/new/model.keras" in str(error.value) and "MODEL_FILE=runs/" in str(error.value)
    point_latest_at(RunPaths(tmp_path / "runs" / "old"))
    assert find_model_file(None) == tmp_path / "runs" / "latest" / "model.keras"
    assert find_model_file(tmp_path / "mine.keras") == tmp_path / "mine.keras"
