"""Fixtures shared by the tests: small image folders built on the fly, real photos, a browser."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from disks import small_disk_at
from image_files import write_image

from benchmarks.chromium import CHROMIUM, CHROMIUM_ARGS

REAL_DATA_ENV = "REAL_DATA_DIR"


@pytest.fixture
def kaggle_dir(tmp_path: Path) -> Path:
    """A Kaggle-layout folder: 10 cats and 10 dogs in train/, 12 images in test1/."""
    for i in range(1, 11):
        write_image(tmp_path / "train" / f"cat.{i}.jpg", seed=i)
        write_image(tmp_path / "train" / f"dog.{i}.jpg", seed=100 + i)
    for i in range(1, 13):
        write_image(tmp_path / "test1" / f"{i}.jpg", seed=200 + i)
    return tmp_path


@pytest.fixture
def real_data_dir() -> Path:
    """The real Kaggle-layout photos named by $REAL_DATA_DIR; the test is skipped without them."""
    value = os.environ.get(REAL_DATA_ENV)
    if not value:
        pytest.skip(
            f"set {REAL_DATA_ENV} to a Kaggle-layout folder "
            "(e.g. ../shared/datasets/kaggle-cats-dogs-128) to run"
        )
    path = Path(value).resolve()
    if not (path / "train").is_dir() or not (path / "test1").is_dir():
        pytest.skip(f"{REAL_DATA_ENV}={value} has no train/ and test1/ folders")
    return path


@pytest.fixture
def browser_type():
    """Playwright's Chromium driver, or a skip saying what is missing."""
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright not installed: pip install -e '.[dev]'"
    )
    return sync_api.sync_playwright


@pytest.fixture
def page(browser_type):
    """A page of headless Chromium; the browser is closed whatever happens."""
    with browser_type() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            yield context.new_page()
        finally:
            browser.close()


@pytest.fixture
def small_disk(tmp_path: Path):
    """A folder on a 2 MB tmpfs and its resize function; skipped, with the reason, without root."""
    with small_disk_at(tmp_path / "disk") as resize:
        if resize is None:
            pytest.skip("cannot mount a small tmpfs here: needs root (CAP_SYS_ADMIN)")
        yield tmp_path / "disk", resize
