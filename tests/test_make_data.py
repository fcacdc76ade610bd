"""`make data` against archives served by a local HTTP server on 127.0.0.1 that the tests start themselves."""

from __future__ import annotations

import hashlib
import io
import stat
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from helpers.archive import UnsafeArchiveError, safe_extract
from helpers.cleaning import find_duplicates
from helpers.image_check import inspect_file
from helpers.dataset import list_labelled_images, list_test_images, read_test_labels
from helpers.download import DownloadError, download
from helpers.make_data import DataSourceError, kaggle_credentials_present, main, prepare_data
from helpers.pipeline import make_dataset


def encode(mode: str = "RGB", fmt: str = "JPEG", seed: int = 0, size: tuple[int, int] = (48, 36)) -> bytes:
    channels = {"RGB": 3, "L": 1}[mode if mode in ("RGB", "L") else "RGB"]
    pixels = np.random.default_rng(seed).integers(0, 255, (size[1], size[0], channels), dtype=np.uint8)
    image = Image.fromarray(pixels.squeeze() if channels == 1 else pixels, mode="L" if channels == 1 else "RGB")
    if mode in ("CMYK", "RGBA"):
        image = image.convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


GOOD_DOG = encode(seed=100)
PETIMAGES_FILES = {
    "PetImages/Cat/1.jpg": encode(seed=1),
    "PetImages/Cat/2.jpg": encode("L", seed=2),  # grayscale JPEG: kept, read as RGB
    "PetImages/Cat/3.jpg": encode("CMYK", seed=3),  # CMYK JPEG: kept, read as RGB
    "PetImages/Cat/4.jpg": encode(fmt="PNG", seed=4),  # PNG named .jpg: kept
    "PetImages/Cat/5.jpg": b"",  # empty: quarantined
    "PetImages/Cat/6.jpg": encode(seed=6)[:400],  # truncated: quarantined
    "PetImages/Cat/7.jpg": b"<html>not found</html>",  # not an image: quarantined
    "PetImages/Cat/8.jpg": encode(seed=8),
    "PetImages/Cat/Thumbs.db": b"\x00" * 64,  # not an image file at all: ignored
    "PetImages/Dog/1.jpg": GOOD_DOG,
    "PetImages/Dog/2.jpg": encode("RGBA", fmt="PNG", seed=12),  # RGBA PNG named .jpg: kept, read as RGB
    "PetImages/Dog/3.jpg": GOOD_DOG,  # byte-identical duplicate of Dog/1.jpg
    "PetImages/Dog/4.jpg": encode(fmt="GIF", seed=14),  # GIF named .jpg: quarantined
    "PetImages/Dog/5.jpg": encode(seed=15),
    "PetImages/Dog/6.jpg": encode(seed=16),
}


def make_zip(files: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return buffer.getvalue()


class FixtureServer:
    """Serves bytes by path with Range support; can drop the connection once, part-way through a file."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.drop_after: dict[str, int] = {}
        self.ranges: list[str | None] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                data = server.files.get(self.path)
                if data is None:
                    self.send_error(404)
                    return
                header = self.headers.get("Range")
                server.ranges.append(header)
                start = int(header.split("=")[1].split("-")[0]) if header else 0
                if start >= len(data) and header:
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.end_headers()
                    return
                self.send_response(206 if header else 200)
                if header:
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                self.send_header("Content-Length", str(len(data) - start))
                self.end_headers()
                cut = server.drop_after.pop(self.path, None)
                self.wfile.write(data[start:cut] if cut is not None else data[start:])
                if cut is not None:
                    self.wfile.flush()
                    self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    fixture = FixtureServer()
    yield fixture
    fixture.close()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_petimages_archive_is_fetched_laid_out_and_cleaned(server, tmp_path):
    archive = make_zip(PETIMAGES_FILES)
    server.files["/kagglecatsanddogs.zip"] = archive
    data_dir = tmp_path / "data"

    summary = prepare_data(f"{server.url}/kagglecatsanddogs.zip", data_dir, sha256=sha256(archive),
                           test_count=0, progress=False)

    report = pd.read_csv(data_dir / "quarantine" / "quarantine_report.csv").set_index("file")["problem"].to_dict()
    assert report == {
        "train/cat.5.jpg": "empty file (0 bytes)",
        "train/cat.6.jpg": "truncated JPEG (no end-of-image marker)",
        "train/cat.7.jpg": "not an image",
        "train/dog.4.jpg": "wrong format for its extension: GIF data in a .jpg file",
    }
    assert {p.name for p in (data_dir / "quarantine" / "train").iterdir()} == {"cat.5.jpg", "cat.6.jpg", "cat.7.jpg", "dog.4.jpg"}
    kept = sorted(list_labelled_images(data_dir)["filename"])
    assert kept == ["cat.1.jpg", "cat.2.jpg", "cat.3.jpg", "cat.4.jpg", "cat.8.jpg",
                    "dog.1.jpg", "dog.2.jpg", "dog.3.jpg", "dog.5.jpg", "dog.6.jpg"]
    converted = [str(data_dir / "train" / name) for name in ("cat.2.jpg", "cat.3.jpg", "cat.4.jpg", "dog.2.jpg")]
    batch = next(iter(make_dataset(converted, image_size=32, batch_size=4)))
    assert batch.shape == (4, 32, 32, 3)
    manifest = pd.read_csv(data_dir / "manifest.csv")
    assert list(manifest.columns) == ["file", "split", "label", "width", "height", "bytes", "sha256"]
    assert len(manifest) == 10 and set(manifest["label"]) == {0, 1}
    assert manifest.set_index("file").loc["train/cat.1.jpg", ["width", "height"]].tolist() == [48, 36]
    duplicates = pd.read_csv(data_dir / "duplicates.csv")
    assert duplicates["files"].tolist() == ["train/dog.1.jpg train/dog.3.jpg"]
    assert not duplicates["leakage"].any()
    assert "10 training and 0 test images" in summary and "4 files quarantined" in summary
    assert sorted(p.name for p in data_dir.iterdir()) == [
        "downloads", "duplicates.csv", "manifest.csv", "quarantine", "train"]


def test_a_source_without_test_set_gets_a_labelled_seeded_hold_out(tmp_path):
    source = tmp_path / "PetImages"
    for i in range(10):
        (source / "Cat").mkdir(parents=True, exist_ok=True)
        (source / "Dog").mkdir(parents=True, exist_ok=True)
        (source / "Cat" / f"{i}.jpg").write_bytes(encode(seed=i))
        (source / "Dog" / f"{i}.jpg").write_bytes(encode(seed=50 + i))
    for copy in range(10, 13):  # three copies of one photo: all on one side of the hold-out
        (source / "Dog" / f"{copy}.jpg").write_bytes(encode(seed=50))
    for seed in range(6):
        data_dir = tmp_path / f"data{seed}"
        prepare_data(str(source), data_dir, test_count=4, seed=seed, progress=False)
        duplicates = pd.read_csv(data_dir / "duplicates.csv")
        assert duplicates["count"].tolist() == [4] and not duplicates["leakage"].any()
    prepare_data(str(source), tmp_path / "data", test_count=4, progress=False)

    test = list_test_images(tmp_path / "data" / "test1")
    labels = read_test_labels(tmp_path / "data" / "test1_labels.csv")
    assert test["id"].tolist() == [1, 2, 3, 4]
    assert sorted(labels["label"]) == [0, 0, 1, 1]
    assert len(list_labelled_images(tmp_path / "data")) == 19
    assert len(list(source.rglob("*.jpg"))) == 23  # a local folder is copied, never moved


def test_duplicates_across_train_and_test_are_flagged_as_leakage():
    manifest = pd.DataFrame({
        "file": ["train/cat.1.jpg", "test1/3.jpg", "train/dog.1.jpg", "train/dog.2.jpg"],
        "split": ["train", "test", "train", "train"],
        "sha256": ["a", "a", "b", "b"],
    })
    duplicates = find_duplicates(manifest).set_index("sha256")
    assert duplicates.loc["a", "leakage"] and not duplicates.loc["b", "leakage"]
    assert duplicates.loc["a", "count"] == 2


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

    summary = prepare_data(f"{server.url}/pets.zip", data_dir, force=True, test_count=0, progress=False)
    aside = next(data_dir.glob("replaced-*"))
    assert (aside / "train" / "cat.1.jpg").read_bytes() == b"my own edit"
    assert str(aside) in summary


def test_zip_slip_and_links_are_refused_and_nothing_is_written(server, tmp_path):
    for name, archive in {
        "slip.zip": make_zip({"PetImages/Cat/1.jpg": encode(), "../../escaped.txt": b"x"}),
        "absolute.zip": make_zip({"/tmp/escaped-abs.txt": b"x"}),
        "link.zip": make_zip({"PetImages/Cat/1.jpg": encode()}, links={"PetImages/Dog/1.jpg": "/etc/passwd"}),
    }.items():
        server.files[f"/{name}"] = archive
        data_dir = tmp_path / name / "data"
        with pytest.raises(UnsafeArchiveError, match="unsafe entry"):
            prepare_data(f"{server.url}/{name}", data_dir, progress=False)
        assert sorted(p.name for p in data_dir.iterdir()) == ["downloads"]
    assert not list(tmp_path.rglob("escaped*"))


def test_safe_extract_never_writes_into_an_existing_folder(tmp_path):
    archive = tmp_path / "a.zip"
    archive.write_bytes(make_zip({"x.txt": b"new"}))
    (tmp_path / "target").mkdir()
    (tmp_path / "target" / "x.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        safe_extract(archive, tmp_path / "target")
    assert (tmp_path / "target" / "x.txt").read_text() == "mine"


def test_checksum_mismatch_fails_clearly_and_leaves_nothing(server, tmp_path):
    server.files["/pets.zip"] = make_zip(PETIMAGES_FILES)
    with pytest.raises(DownloadError, match="has SHA-256 [0-9a-f]{64}, not the expected 0{64}"):
        download(f"{server.url}/pets.zip", tmp_path / "pets.zip", "0" * 64, progress=False)
    assert list(tmp_path.iterdir()) == []
    assert main(["--source", f"{server.url}/pets.zip", "--sha256", "0" * 64, "--data-dir", str(tmp_path / "d")]) == 2
    assert not (tmp_path / "d" / "train").exists()


def test_interrupted_download_resumes(server, tmp_path):
    payload = np.random.default_rng(0).bytes(3_000_000)
    server.files["/big.zip"] = payload
    server.drop_after["/big.zip"] = 1_000_000
    target = tmp_path / "big.zip"

    with pytest.raises(DownloadError, match="broke off|stopped at.*run the same command again to resume"):
        download(f"{server.url}/big.zip", target, sha256(payload), progress=False)
    assert not target.exists()
    assert (tmp_path / "big.zip.part").stat().st_size == 1_000_000

    download(f"{server.url}/big.zip", target, sha256(payload), progress=False)
    assert target.read_bytes() == payload
    assert server.ranges[-1] == "bytes=1000000-"
    assert not (tmp_path / "big.zip.part").exists()


def test_kaggle_without_credentials_fails_fast_with_instructions(tmp_path, monkeypatch, capsys):
    for name in ("KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_CONFIG_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert not kaggle_credentials_present()
    assert main(["--source", "kaggle", "--data-dir", str(tmp_path / "data")]) == 2
    message = capsys.readouterr().err
    assert "kaggle.json" in message and "KAGGLE_USERNAME" in message and "SOURCE=petimages" in message


def test_unknown_source_is_explained(tmp_path, capsys):
    assert main(["--source", str(tmp_path / "nope.zip"), "--data-dir", str(tmp_path / "data")]) == 2
    assert "neither petimages, kaggle, a URL, nor an existing zip or folder" in capsys.readouterr().err


@pytest.mark.parametrize(
    "data, problem",
    [
        (b"", "empty file (0 bytes)"),
        (encode()[:300], "truncated JPEG (no end-of-image marker)"),
        (encode(fmt="BMP"), "wrong format for its extension: BMP data in a .jpg file"),
        (b"hello", "not an image"),
        (encode(fmt="PNG"), ""),
        (encode("CMYK"), ""),
    ],
)
def test_each_file_is_judged_by_the_pipeline_decoder(tmp_path, data, problem):
    path = tmp_path / "image.jpg"
    path.write_bytes(data)
    assert inspect_file(path)["problem"] == problem
