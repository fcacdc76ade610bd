"""Where `make data` gets the dataset: Microsoft's PetImages archive, Kaggle, or a path or URL."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from helpers.errors import UserError
from helpers.make_data.download import download, sha256_of


@dataclass(frozen=True)
class RemoteArchive:
    """A known archive: where it is, its file name and its SHA-256."""

    url: str
    filename: str
    sha256: str


PETIMAGES = RemoteArchive(
    url="https://download.microsoft.com/download/3/E/1/3E1C3F21-ECDB-4869-8368-6DEBA77B919F/"
    "kagglecatsanddogs_5340.zip",
    filename="kagglecatsanddogs_5340.zip",
    sha256="b7974bd00a84a99921f36ee4403f089853777b5ae8d151c76a86e64900334af9",
)
KAGGLE_COMPETITION = "dogs-vs-cats"
KAGGLE_HELP = (
    "The kaggle source needs Kaggle API credentials: create a token on kaggle.com (Settings > API "
    "> Create New Token), save it as ~/.kaggle/kaggle.json (chmod 600) or set KAGGLE_USERNAME and "
    f"KAGGLE_KEY, accept the rules of the '{KAGGLE_COMPETITION}' competition on its page, and "
    "`pip install kaggle`. Or use the default source, which needs no account: "
    "make data SOURCE=petimages"
)


class DataSourceError(UserError, RuntimeError):
    """A source that cannot be used, with what to do about it."""


def kaggle_credentials_present(environ: dict[str, str] | None = None) -> bool:
    """Whether the Kaggle API would find credentials (environment or kaggle.json)."""
    environ = dict(os.environ if environ is None else environ)
    if environ.get("KAGGLE_USERNAME") and environ.get("KAGGLE_KEY"):
        return True
    home = Path(environ.get("HOME", "~")).expanduser()
    folder = Path(environ.get("KAGGLE_CONFIG_DIR") or home / ".kaggle")
    return (folder / "kaggle.json").is_file()


def fetch_kaggle(downloads: Path) -> Path:
    """The competition's zip, downloaded with the official Kaggle CLI."""
    if not kaggle_credentials_present():
        raise DataSourceError(KAGGLE_HELP)
    cli = shutil.which("kaggle")
    if cli is None:
        raise DataSourceError(
            "the Kaggle CLI is not installed: `pip install kaggle`, then run again"
        )
    target = downloads / f"{KAGGLE_COMPETITION}.zip"
    if not target.is_file():
        downloads.mkdir(parents=True, exist_ok=True)
        command = [cli, "competitions", "download", "-c", KAGGLE_COMPETITION, "-p", str(downloads)]
        try:
            subprocess.run(command, check=True)
        except subprocess.CalledProcessError as error:
            raise DataSourceError(
                f"the Kaggle CLI failed ({error}); its message is above. Check that you accepted "
                f"the competition's rules on its page, then run again"
            ) from None
    return target


def fetch_source(
    source: str, downloads: Path, sha256: str | None = None, progress: bool = True
) -> Path:
    """A local zip or folder holding the dataset, downloaded into `downloads` when it is remote."""
    if source == "petimages":
        return download(
            PETIMAGES.url, downloads / PETIMAGES.filename, PETIMAGES.sha256, progress=progress
        )
    if source == "kaggle":
        return fetch_kaggle(downloads)
    if re.match(r"^(https?|file)://", source):
        name = Path(urlparse(source).path).name or "dataset.zip"
        return download(source, downloads / name, sha256, progress=progress)
    path = Path(source).expanduser()
    if not path.exists():
        raise DataSourceError(
            f"source {source!r} is neither petimages, kaggle, a URL, nor an existing zip or folder"
        )
    if sha256 and path.is_file() and sha256_of(path) != sha256.lower():
        raise DataSourceError(f"{path} does not have the SHA-256 {sha256}")
    return path
