"""Safe extraction never writes into an existing folder."""

from __future__ import annotations

import pytest
from archives import make_zip

from helpers.make_data.archive import safe_extract


def test_safe_extract_never_writes_into_an_existing_folder(tmp_path):
    archive = tmp_path / "a.zip"
    archive.write_bytes(make_zip({"x.txt": b"new"}))
    (tmp_path / "target").mkdir()
    (tmp_path / "target" / "x.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        safe_extract(archive, tmp_path / "target")
    assert (tmp_path / "target" / "x.txt").read_text() == "mine"
