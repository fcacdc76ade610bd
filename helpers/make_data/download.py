"""Resumable, checksum-verified HTTP downloads that never leave a half-written file in place."""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import urllib.error
import urllib.request
from pathlib import Path

from tqdm import tqdm

from helpers.errors import UserError, is_disk_full

CHUNK_BYTES = 1 << 20


class DownloadError(UserError, RuntimeError):
    """A download that failed, was interrupted, or does not match its checksum."""


def sha256_of(path: Path) -> str:
    """SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _verify(path: Path, sha256: str | None, url: str) -> None:
    if sha256 is None:
        return
    actual = sha256_of(path)
    if actual != sha256.lower():
        path.unlink()
        raise DownloadError(
            f"the file downloaded from {url} has SHA-256 {actual}, not the expected {sha256}; "
            "it was removed. The server may have sent another file or a broken one: "
            "run the command again, or check the URL."
        )


def _content_range_start(header: str | None) -> int | None:
    match = re.match(r"bytes (\d+)-", header or "")
    return int(match.group(1)) if match else None


def download(
    url: str, dest: Path, sha256: str | None = None, *, progress: bool = True, timeout: float = 60.0
) -> Path:
    """Download `url` to `dest`, resuming `dest`.part if present.

    `dest` appears only complete and verified.
    """
    dest = Path(dest)
    if dest.exists():
        if sha256 is not None and sha256_of(dest) != sha256.lower():
            raise DownloadError(
                f"{dest} is already there but its SHA-256 is not the expected {sha256}. "
                "It was left untouched: move it away (or delete it) and run again to download "
                "it afresh."
            )
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    offset = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={offset}-"} if offset else {})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as error:
        if error.code == 416 and offset:  # the .part file already holds everything
            _verify(part, sha256, url)
            os.replace(part, dest)
            return dest
        raise DownloadError(f"downloading {url} failed: HTTP {error.code} {error.reason}") from None
    except (urllib.error.URLError, OSError) as error:
        raise DownloadError(f"cannot reach {url}: {getattr(error, 'reason', error)}") from None

    with response:
        if offset and (
            response.status != 206
            or _content_range_start(response.headers.get("Content-Range")) != offset
        ):
            offset = 0  # the server sent the whole file again: start over
        length = response.headers.get("Content-Length")
        total = offset + int(length) if length is not None else None
        received = offset
        with (
            open(part, "ab" if offset else "wb") as out,
            tqdm(
                total=total,
                initial=offset,
                unit="B",
                unit_scale=True,
                desc=dest.name,
                disable=not progress,
            ) as bar,
        ):
            try:
                for chunk in iter(lambda: response.read(CHUNK_BYTES), b""):
                    out.write(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
            except (http.client.IncompleteRead, ConnectionError, TimeoutError, OSError) as error:
                if is_disk_full(error):
                    raise  # not the connection: the program names the folder and the space
                raise DownloadError(
                    f"the download of {url} broke off after {received:,} bytes "
                    f"({type(error).__name__}); "
                    f"the part is kept in {part}: run the same command again to resume"
                ) from None
    if total is not None and received < total:
        raise DownloadError(
            f"the download of {url} stopped at {received:,} of {total:,} bytes; "
            f"the part is kept in {part}: run the same command again to resume"
        )
    _verify(part, sha256, url)
    os.replace(part, dest)
    return dest
