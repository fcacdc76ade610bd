"""`make data` killed (SIGKILL) at seeded moments: during the download, the extraction, the
cleaning and the moves into place; each time run again, until it completes."""

from __future__ import annotations

import sys

import pandas as pd
import pytest
from archives import make_zip, sha256
from image_files import encode
from kills import (
    Moment,
    environment_without,
    kill_then_complete,
    record_kills,
    seeded_delays,
    while_exists,
)

from helpers.layout import TRAIN_DIR
from helpers.make_data.prepare import verify_existing

pytestmark = pytest.mark.slow

CATS_AND_DOGS = 300  # of each: the cleaning (TensorFlow's decoder on each) takes a few seconds


def test_make_data_killed_anywhere_keeps_the_users_files_and_then_completes(server, tmp_path):
    files = {
        f"PetImages/{kind}/{i}.jpg": encode(seed=i + (0 if kind == "Cat" else 10_000))
        for kind in ("Cat", "Dog")
        for i in range(1, CATS_AND_DOGS + 1)
    }
    archive = make_zip(files)
    server.files["/kagglecatsanddogs.zip"] = archive
    server.bytes_per_second = len(archive) // 2  # a download of about two seconds
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    users = data_dir / "my-notes.txt"
    users.write_text("the user's own file in the data folder\n")
    command = [sys.executable, "-m", "helpers.cli.data", "--data-dir", str(data_dir)]
    command += ["--source", f"{server.url}/kagglecatsanddogs.zip", "--sha256", sha256(archive)]
    command += ["--test-count", "50"]

    def check() -> list[str]:
        findings = [] if users.is_file() else ["the user's my-notes.txt is gone"]
        downloaded = data_dir / "downloads" / "kagglecatsanddogs.zip"
        if downloaded.exists() and downloaded.read_bytes() != archive:
            findings.append("the archive is under its name but not whole")
        manifest = data_dir / "manifest.csv"
        if manifest.exists() and not manifest.read_bytes().endswith(b"\n"):
            findings.append("manifest.csv is half-written")
        if (data_dir / TRAIN_DIR).exists():
            try:  # train/ is moved in last: when it is there, the whole dataset is
                verify_existing(data_dir)
                if len(pd.read_csv(manifest)) != 2 * CATS_AND_DOGS:
                    findings.append("the manifest lists another number of photos")
            except Exception as error:  # noqa: BLE001 - any failure is the finding
                findings.append(f"train/ is there but the dataset is not whole: {error}")
        return findings

    delays = iter(seeded_delays(seed=41, count=3, longest=1.5))
    moments = [
        # Once the part holds its first chunk: the next run must resume from it.
        Moment(
            "the download",
            lambda _: any(p.stat().st_size for p in data_dir.glob("downloads/*.part")),
            next(delays) / 5,
        ),
        while_exists("the extraction", data_dir, ".make-data-*/unpacked", next(delays) / 10),
        while_exists("the cleaning", data_dir, ".make-data-*/out/train", next(delays)),
        while_exists("as the dataset appears in place", data_dir, "test1"),
    ]
    report = kill_then_complete(
        "make data", command, environment_without(), moments, check, timeout=300
    )
    record_kills(report)
    assert report.findings == [], [(a.moment, a.killed, a.seconds) for a in report.attempts]
    assert report.kills == 4, [(a.moment, a.killed, a.seconds) for a in report.attempts]
    assert "all as the manifest lists them" in verify_existing(data_dir)
    assert len(server.ranges) >= 2 and any(server.ranges)  # the download resumed from its part
