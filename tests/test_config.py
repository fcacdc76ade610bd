import dataclasses
from pathlib import Path

import pytest
import yaml

from helpers.config import Config, ConfigError, config_to_yaml, load_config, resolved_precision


def test_defaults_and_derived_paths(tmp_path, monkeypatch):
    monkeypatch.setenv("CATSDOGS_ROOT", str(tmp_path))
    cfg = load_config(environ={})
    assert cfg.profile == "default"
    assert cfg.data_dir == tmp_path / "data"
    assert cfg.test_dir == tmp_path / "data" / "test1"
    assert cfg.test_labels == tmp_path / "data" / "test1_labels.csv"
    assert cfg.run_dir is None


def test_precedence_profile_file_env_overrides(tmp_path):
    settings = tmp_path / "run.yaml"
    settings.write_text("epochs: 3\nimage_size: 96\nbatch_size: 16\n")
    env = {"CATSDOGS_IMAGE_SIZE": "80", "CATSDOGS_BATCH_SIZE": "8"}
    cfg = load_config("smoke", settings, {"batch_size": 4}, environ=env)
    assert cfg.synthetic is True  # from the profile
    assert cfg.epochs == 3  # file beats profile
    assert cfg.image_size == 80  # environment beats file
    assert cfg.batch_size == 4  # overrides beat everything


def test_profile_can_come_from_environment():
    assert load_config(environ={"CATSDOGS_PROFILE": "smoke"}).profile == "smoke"


def test_string_values_are_coerced_to_setting_types():
    cfg = load_config(
        overrides={
            "EPOCHS": "5",
            "learning-rate": "0.01",
            "augment": "no",
            "max_train_images": "none",
        },
        environ={},
    )
    assert (cfg.epochs, cfg.learning_rate, cfg.augment, cfg.max_train_images) == (
        5,
        0.01,
        False,
        None,
    )


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"epochs": "five"}, "epochs='five' is not a whole number"),
        ({"epoch": 3}, "unknown setting 'epoch'"),
        ({"val_fraction": 1.5}, "val_fraction=1.5 must be between 0 and 1"),
        ({"augment": "maybe"}, "augment='maybe' is not true or false"),
        ({"image_size": 8}, "image_size=8 must be at least 16"),
    ],
)
def test_bad_values_are_refused_with_the_setting_named(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_config(overrides=overrides, environ={})


def test_unknown_profile_lists_choices():
    with pytest.raises(
        ConfigError, match="unknown profile .fast.; choose one of: default, cpu, long, smoke"
    ):
        load_config("fast", environ={})


def test_config_file_errors_are_specific(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(config_file=tmp_path / "missing.yaml", environ={})
    bad = tmp_path / "bad.yaml"
    bad.write_text("- a\n- list\n")
    with pytest.raises(ConfigError, match="must hold a mapping"):
        load_config(config_file=bad, environ={})


def test_yaml_round_trip(tmp_path):
    cfg = load_config(
        "smoke", overrides={"epochs": 2, "run_dir": str(tmp_path / "run")}, environ={}
    )
    saved = tmp_path / "config.yaml"
    saved.write_text(config_to_yaml(cfg))
    assert load_config(config_file=saved, environ={}) == cfg


def test_config_is_immutable():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Config().epochs = 3  # type: ignore[misc]
    assert Config().data_dir == Path("data")


@pytest.mark.parametrize(
    ("fast_bfloat16", "expected"), [(True, "mixed_bfloat16"), (False, "float32")]
)
def test_auto_precision_is_bfloat16_only_where_the_cpu_computes_it(
    monkeypatch, fast_bfloat16, expected
):
    monkeypatch.setattr("helpers.config.cpu_has_fast_bfloat16", lambda: fast_bfloat16)
    assert resolved_precision("auto") == expected
    assert load_config("cpu", environ={}).precision == expected
    assert load_config(overrides={"precision": "float32"}, environ={}).precision == "float32"


def test_named_recipes_load_and_differ_where_they_should():
    # The dataclass defaults are the default recipe; the default and cpu profiles add nothing.
    # Paths are made absolute and "auto" precision is resolved for this machine as they load.
    paths = {"data_dir", "test_dir", "test_labels", "run_dir", "precision"}
    for name in ("default", "cpu"):
        loaded = load_config(name, environ={}).to_dict()
        assert {k: v for k, v in loaded.items() if k not in paths | {"profile"}} == {
            k: v for k, v in Config().to_dict().items() if k not in paths | {"profile"}
        }
    cpu = load_config("cpu", environ={})
    assert (cpu.lr_schedule, cpu.train_minutes) == ("cosine", 24)
    assert cpu.precision in ("float32", "mixed_bfloat16")  # "auto" resolved: see the next test
    long = load_config("long", environ={})
    assert (long.image_size, long.model, long.train_minutes) == (96, "compact_cnn", 100)
    assert load_config("cpu", overrides={"epochs": 3}, environ={}).epochs == 3


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"lr_schedule": "step"}, "lr_schedule='step' must be plateau or cosine"),
        ({"precision": "float16"}, "precision='float16' must be auto or float32 or mixed_bfloat16"),
        ({"warmup_epochs": -1}, "warmup_epochs=-1 must be at least 0"),
        ({"train_minutes": 0}, "train_minutes=0.0 must be empty or positive"),
        ({"weight_decay": -1}, "weight_decay=-1.0 must be at least 0"),
        ({"test_time_zoom": 0.9}, "test_time_zoom=0.9 must be between 1 \\(off\\) and 2"),
    ],
)
def test_recipe_settings_are_checked(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_config(overrides=overrides, environ={})


def test_the_run_folder_records_every_setting_as_it_trained(tmp_path):
    from helpers.artifacts import open_run

    cfg = load_config("smoke", overrides={"run_dir": str(tmp_path / "run")}, environ={})
    recorded = yaml.safe_load(open_run(cfg).config.read_text())
    assert (recorded["learning_rate"], recorded["weight_decay"]) == (3e-4, 1e-4)
