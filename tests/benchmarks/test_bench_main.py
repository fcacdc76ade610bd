"""The command line of make bench."""

from __future__ import annotations

import pytest


def test_bench_refuses_a_folder_without_the_kaggle_layout_and_says_what_to_set(tmp_path, capsys):
    from benchmarks.__main__ import main

    (tmp_path / "train").mkdir()
    with pytest.raises(SystemExit) as stopped:
        main(["--data-dir", str(tmp_path), "--out", str(tmp_path / "out")])
    assert stopped.value.code == 2
    message = capsys.readouterr().err
    assert f"{tmp_path} has no test1/ folder" in message and "BENCH_DATA=" in message
    assert not (tmp_path / "out").exists()
