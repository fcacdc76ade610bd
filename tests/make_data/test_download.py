"""Resumable, verified downloads from a local HTTP server."""

from __future__ import annotations

import numpy as np
import pytest
from archives import PETIMAGES_FILES, make_zip, sha256

from helpers.cli.data import main
from helpers.make_data.download import DownloadError, download


def test_checksum_mismatch_fails_clearly_and_leaves_nothing(server, tmp_path):
    server.files["/pets.zip"] = make_zip(PETIMAGES_FILES)
    with pytest.raises(DownloadError, match="has SHA-256 [0-9a-f]{64}, not the expected 0{64}"):
        download(f"{server.url}/pets.zip", tmp_path / "pets.zip", "0" * 64, progress=False)
    assert list(tmp_path.iterdir()) == []
    assert (
        main(
            [
                "--source",
                f"{server.url}/pets.zip",
                "--sha256",
                "0" * 64,
                "--data-dir",
                str(tmp_path / "d"),
            ]
        )
        == 2
    )
    assert not (tmp_path / "d" / "train").exists()


def test_interrupted_download_resumes(server, tmp_path):
    payload = np.random.default_rng(0).bytes(3_000_000)
    server.files["/big.zip"] = payload
    server.drop_after["/big.zip"] = 1_000_000
    target = tmp_path / "big.zip"

    with pytest.raises(
        DownloadError, match="broke off|stopped at.*run the same command again to resume"
    ):
        download(f"{server.url}/big.zip", target, sha256(payload), progress=False)
    assert not target.exists()
    assert (tmp_path / "big.zip.part").stat().st_size == 1_000_000

    download(f"{server.url}/big.zip", target, sha256(payload), progress=False)
    assert target.read_bytes() == payload
    assert server.ranges[-1] == "bytes=1000000-"
    assert not (tmp_path / "big.zip.part").exists()
