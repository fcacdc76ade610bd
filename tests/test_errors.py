"""Errors a user can fix show as one paragraph in a notebook: what is wrong and how to fix it."""

from IPython.core.interactiveshell import InteractiveShell

from helpers.errors import UserError


def test_a_notebook_shows_the_message_and_the_notebook_fix_not_the_stack(capsys):
    shell = InteractiveShell.instance()
    shell.run_cell(
        "from helpers.config import load_config\nload_config(overrides={'epoch': 3}, environ={})"
    )
    shown = capsys.readouterr().out
    assert "ConfigError: overrides: unknown setting 'epoch'" in shown
    assert "first cell" in shown and "make run-all EPOCHS=5" in shown
    assert "Traceback" not in shown and "config.py" not in shown


def test_missing_data_and_untrained_models_are_user_errors(tmp_path):
    from helpers.dataset import DataNotFoundError, list_labelled_images
    from helpers.modeling.inference import ModelFileError, load_trained_model

    for call, kind in [
        (lambda: list_labelled_images(tmp_path / "nothing"), DataNotFoundError),
        (lambda: load_trained_model(tmp_path / "model.keras"), ModelFileError),
    ]:
        try:
            call()
        except UserError as error:
            assert isinstance(error, kind)
            text = "\n".join(error._render_traceback_())
            assert str(tmp_path) in text and "notebook" in text and "make" in text
        else:
            raise AssertionError(f"{kind.__name__} not raised")


def test_a_run_model_that_cannot_be_loaded_is_a_user_error_naming_it(tmp_path):
    from helpers.modeling.inference import ModelFileError, load_trained_model

    broken = tmp_path / "model.keras"
    broken.write_text("half a download")
    try:
        load_trained_model(broken)
    except ModelFileError as error:
        assert f"{broken} is not a Keras model file" in str(error)
    else:
        raise AssertionError("ModelFileError not raised")


def test_every_failure_a_user_can_fix_is_a_user_error():
    """The programs catch UserError alone: one of these kinds that is not would show a traceback."""
    from helpers.cli.program import UsageError
    from helpers.config import ConfigError
    from helpers.dataset import DataNotFoundError, LabelsFileError
    from helpers.errors import PathInTheWayError
    from helpers.make_data import DataSourceError, DownloadError, UnsafeArchiveError
    from helpers.modeling.inference import ModelFileError, PredictError
    from helpers.modeling.networks import WeightsUnavailableError

    kinds = [
        UsageError,
        ConfigError,
        DataNotFoundError,
        LabelsFileError,
        PathInTheWayError,
        DataSourceError,
        DownloadError,
        UnsafeArchiveError,
        ModelFileError,
        PredictError,
        WeightsUnavailableError,
    ]
    assert [kind.__name__ for kind in kinds if not issubclass(kind, UserError)] == []
