"""README and the docs against the project: links that lead somewhere, settings as the code has
them, figures as the evidence holds them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from benchmarks.evidence import evidence_root
from helpers.artifacts import RunPaths
from helpers.config import PROFILES, Config
from helpers.summary import headline

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def anchors(page: Path) -> set[str]:
    """GitHub's anchors of a Markdown page's headings."""
    headings = re.findall(r"^#+ (.+)$", page.read_text(), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_link_of_a_page_leads_to_a_file_and_heading_that_exist(page):
    for target in LINK.findall(page.read_text()):
        if re.match(r"[a-z]+:", target):
            continue  # a web address
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        assert linked.exists(), f"{page.name} links to {target}: no such file"
        if anchor and linked.suffix == ".md":
            assert anchor in anchors(linked), f"{page.name} links to {target}: no such heading"


def test_the_readme_is_a_front_page():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 250


def test_each_profile_row_names_the_network_and_size_the_profile_sets():
    text = (ROOT / "docs/parameters.md").read_text()
    for name, settings in PROFILES.items():
        rows = [line.split("|") for line in text.splitlines() if line.startswith("|")]
        row = next(("|".join(r) for r in rows if f"`{name}`" in r[1]), None)
        assert row, f"docs/parameters.md has no row for the profile {name}"
        if "model" in settings:
            assert f"`{settings['model']}`" in row, f"{name}: {row}"
        size = settings.get("image_size", Config.image_size)
        assert f"{size} px" in row or name in {"default", "cpu"}, f"{name}: {row}"


def test_the_readme_quotes_each_kept_run_as_its_evidence_holds_it():
    readme = (ROOT / "README.md").read_text()
    quoted = re.findall(r"^.*\(docs/evidence/runs/([\w.-]+)/\).*$", readme, re.MULTILINE)
    assert quoted, "README quotes no run with its evidence"
    for name in quoted:
        figures = headline(RunPaths(evidence_root() / "runs" / name))
        line = next(line for line in readme.splitlines() if f"docs/evidence/runs/{name}/" in line)
        assert f"{figures['test_accuracy']:.4f}" in line, line
