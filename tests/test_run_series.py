import pytest

from helpers.config import ConfigError
from helpers.run_series import main, notebook_paths, parse_settings


def test_notebooks_are_found_in_numbered_order():
    names = [path.name for path in notebook_paths()]
    assert names == [
        "01_data_exploration.ipynb",
        "02_augmentation_preview.ipynb",
        "03_train_cnn.ipynb",
        "04_training_curves.ipynb",
        "05_predict_submission.ipynb",
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
    assert "unknown model 'vgg'" in capsys.readouterr().err
