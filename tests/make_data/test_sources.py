"""Sources that cannot be used stop at once and say what to do."""

from __future__ import annotations

from helpers.cli.data import main
from helpers.make_data import kaggle_credentials_present


def test_kaggle_without_credentials_fails_fast_with_instructions(tmp_path, monkeypatch, capsys):
    for name in ("KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_CONFIG_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert not kaggle_credentials_present()
    assert main(["--source", "kaggle", "--data-dir", str(tmp_path / "data")]) == 2
    message = capsys.readouterr().err
    assert (
        "kaggle.json" in message and "KAGGLE_USERNAME" in message and "SOURCE=petimages" in message
    )


def test_unknown_source_is_explained(tmp_path, capsys):
    assert main(["--source", str(tmp_path / "nope.zip"), "--data-dir", str(tmp_path / "data")]) == 2
    assert (
        "neither petimages, kaggle, a URL, nor an existing zip or folder" in capsys.readouterr().err
    )
