"""make data end to end: fetched, laid out, cleaned; re-runs verify and never overwrite."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from archives import PETIMAGES_FILES, make_zip, sha256
from image_files import encode

from helpers.dataset import list_labelled_images
from helpers.make_data import DataSourceError, prepare_data
from helpers.make_data.archive import UnsafeArchiveError
from helpers.pipeline import make_dataset


def test_petimages_archive_is_fetched_laid_out_and_cleaned(server, tmp_path):
    archive = make_zip(PETIMAGES_FILES)
    server.files["/kagglecatsanddogs.zip"] = archive
    data_dir = tmp_path / "data"

    summary = prepare_data(
        f"{server.url}/kagglecatsanddogs.zip",
        data_dir,
        sha256=sha256(archive),
        test_count=0,
        progress=False,
    )

    report = (
        pd.read_csv(data_dir / "quarantine" / "quarantine_report.csv")
        .set_index("file")["problem"]
        .to_dict()
    )
    assert report == {
        "train/cat.5.jpg": "empty file (0 bytes)",
        "train/cat.6.jpg": "truncated JPEG (no end-of-image marker)",
        "train/cat.7.jpg": "not an image",
        "train/dog.4.jpg": "wrong format for its extension: GIF data in a .jpg file",
    }
    assert {p.name for p in (data_dir / "quarantine" / "train").iterdir()} == {
        "cat.5.jpg",
        "cat.6.jpg",
        "cat.7.jpg",
        "dog.4.jpg",
    }
    kept = sorted(list_labelled_images(data_dir)["filename"])
    assert kept == [
        "cat.1.jpg",
        "cat.2.jpg",
        "cat.3.jpg",
        "cat.4.jpg",
        "cat.8.jpg",
        "dog.1.jpg",
        "dog.2.jpg",
        "dog.3.jpg",
        "dog.5.jpg",
        "dog.6.jpg",
    ]
    converted = [
        str(data_dir / "train" / name)
        for name in ("cat.2.jpg", "cat.3.jpg", "cat.4.jpg", "dog.2.jpg")
    ]
    batch = next(iter(make_dataset(converted, image_size=32, batch_size=4)))
    assert batch.shape == (4, 32, 32, 3)
    manifest = pd.read_csv(data_dir / "manifest.csv")
    assert list(manifest.columns) == [
        "file",
        "split",
        "label",
        "width",
        "height",
        "bytes",
        "sha256",
    ]
    assert len(manifest) == 10 and set(manifest["label"]) == {0, 1}
    assert manifest.set_index("file").loc["train/cat.1.jpg", ["width", "height"]].tolist() == [
        48,
        36,
    ]
    duplicates = pd.read_csv(data_dir / "duplicates.csv")
    assert duplicates["files"].tolist() == ["train/dog.1.jpg train/dog.3.jpg"]
    assert not duplicates["leakage"].any()
    assert "10 training and 0 test images" in summary and "4 files quarantined" in summary
    assert sorted(p.name for p in data_dir.iterdir()) == [
        "downloads",
        "duplicates.csv",
        "manifest.csv",
        "quarantine",
        "train",
    ]


def test_rerun_verifies_and_never_overwrites(server, tmp_path):
    server.files["/pets.zip"] = make_zip(PETIMAGES_FILES)
    data_dir = tmp_path / "data"
    prepare_data(f"{server.url}/pets.zip", data_dir, test_count=0, progress=False)
    requests = len(server.ranges)

    assert "nothing to do" in prepare_data(f"{server.url}/pets.zip", data_dir, progress=False)
    assert len(server.ranges) == requests  # nothing downloaded again

    (data_dir / "train" / "cat.1.jpg").write_bytes(b"my own edit")
    with pytest.raises(DataSourceError, match="differ from .*manifest.csv.*FORCE=1"):
        prepare_data(f"{server.url}/pets.zip", data_dir, progress=False)
    assert (data_dir / "train" / "cat.1.jpg").read_bytes() == b"my own edit"

    summary = prepare_data(
        f"{server.url}/pets.zip", data_dir, force=True, test_count=0, progress=False
    )
    aside = next(data_dir.glob("replaced-*"))
    assert (aside / "train" / "cat.1.jpg").read_bytes() == b"my own edit"
    assert str(aside) in summary


def test_two_make_data_at_once_leave_one_good_dataset(server, tmp_path, capsys):
    import threading

    from helpers.locks import folder_lock

    server.files["/pets.zip"] = make_zip(PETIMAGES_FILES)
    data_dir = tmp_path / "data"
    summaries = []

    def make_data() -> None:
        summaries.append(
            prepare_data(f"{server.url}/pets.zip", data_dir, test_count=0, progress=False)
        )

    both = [threading.Thread(target=make_data) for _ in range(2)]
    with folder_lock(data_dir):  # a third, still filling the folder: both wait
        for thread in both:
            thread.start()
        both[0].join(timeout=2)
        assert all(thread.is_alive() for thread in both) and not server.ranges
    for thread in both:
        thread.join(timeout=120)
    assert capsys.readouterr().out.count("is being filled by another make data (process") == 2
    # One filled the folder, the other found its data whole and left it alone.
    assert sorted("nothing to do" in summary for summary in summaries) == [False, True]
    assert len(server.ranges) == 1  # downloaded once
    assert len(list_labelled_images(data_dir)) > 0


def test_zip_slip_and_links_are_refused_and_nothing_is_written(server, tmp_path):
    for name, archive in {
        "slip.zip": make_zip({"PetImages/Cat/1.jpg": encode(), "../../escaped.txt": b"x"}),
        "absolute.zip": make_zip({"/tmp/escaped-abs.txt": b"x"}),
        "link.zip": make_zip(
            {"PetImages/Cat/1.jpg": encode()}, links={"PetImages/Dog/1.jpg": "/etc/passwd"}
        ),
    }.items():
        server.files[f"/{name}"] = archive
        data_dir = tmp_path / name / "data"
        with pytest.raises(UnsafeArchiveError, match="unsafe entry"):
            prepare_data(f"{server.url}/{name}", data_dir, progress=False)
        assert sorted(p.name for p in data_dir.iterdir()) == ["downloads"]
    assert not list(tmp_path.rglob("escaped*"))


@pytest.mark.parametrize("moved", range(6))
def test_a_kill_between_the_moves_into_place_leaves_no_train_folder_and_is_redone(
    server, tmp_path, monkeypatch, moved
):
    # The moves take microseconds, too short a window for the kill test to hit by chance: here
    # the kill comes after `moved` of them, each time.
    from helpers.make_data import prepare
    from helpers.make_data.prepare import LAID_OUT

    archive = make_zip(PETIMAGES_FILES)
    server.files["/kagglecatsanddogs.zip"] = archive
    data_dir = tmp_path / "data"
    url = f"{server.url}/kagglecatsanddogs.zip"
    replace, into_place = prepare.os.replace, []

    def killed_after_some(source, destination):
        if Path(destination).parent == data_dir:
            if len(into_place) == moved:
                raise KeyboardInterrupt  # SIGKILL, as far as the files can tell
            into_place.append(Path(destination).name)
        replace(source, destination)

    monkeypatch.setattr(prepare.os, "replace", killed_after_some)
    with pytest.raises(KeyboardInterrupt):
        prepare_data(url, data_dir, test_count=2, progress=False)
    monkeypatch.undo()
    assert into_place == list(LAID_OUT[:moved]) and "train" not in into_place

    summary = prepare_data(url, data_dir, test_count=2, progress=False)  # the same command again
    assert "all as the manifest lists them" in prepare.verify_existing(data_dir)
    if moved:  # what the killed run had moved in is kept aside, not overwritten
        aside = next(data_dir.glob("replaced-*"))
        assert sorted(p.name for p in aside.iterdir()) == sorted(into_place)
        assert str(aside) in summary


def test_make_data_hashes_each_photo_once(server, tmp_path, monkeypatch):
    import hashlib
    from types import SimpleNamespace

    from helpers import image_check

    hashed: list[bytes] = []

    def counting_sha256(data: bytes = b""):
        hashed.append(data)
        return hashlib.sha256(data)

    monkeypatch.setattr(image_check, "hashlib", SimpleNamespace(sha256=counting_sha256))
    server.files["/kagglecatsanddogs.zip"] = make_zip(PETIMAGES_FILES)
    data_dir = tmp_path / "data"
    prepare_data(f"{server.url}/kagglecatsanddogs.zip", data_dir, test_count=0, progress=False)
    photos = [name for name in PETIMAGES_FILES if name.endswith(".jpg")]
    assert len(hashed) == len(photos)  # each read once, hashed once (the same pass decodes it)
    assert sorted(hashed) == sorted(PETIMAGES_FILES[name] for name in photos)
