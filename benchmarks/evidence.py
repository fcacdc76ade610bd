"""The docs' measured figures, kept as evidence and rendered from it.

`keep-run` copies a run folder's small machine-written files under docs/evidence/runs/<name>/
(settings, history, metrics, machine, and the executed notebooks without their pictures, which
hold each notebook's wall time); `keep-bench`, `keep-scale` and `keep-kills` copy a `make bench`,
`make bench-scale` or `make test-kills` folder's results and machine under
docs/evidence/<bench|scale|kills>/<name>/. `tables` rewrites each table of the docs that sits
between `<!-- evidence: ... -->` and `<!-- /evidence -->` from those files, so a figure in it
cannot be typed by hand: tests/benchmarks/test_evidence.py fails when a table and its evidence
differ. `screenshot` takes the picture of a run's report.html that README shows.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
from pathlib import Path

import pandas as pd

from benchmarks.chromium import CHROMIUM, CHROMIUM_ARGS
from benchmarks.suite import format_table
from helpers.artifacts import RunPaths, write_text
from helpers.config import project_root
from helpers.summary import headline

EVIDENCE = Path("docs") / "evidence"  # under the project root
EVIDENCE_ONLY = ("docs/results.md", "docs/speed.md")  # pages where every table is evidence
RUN_FILES = ("config.yaml", "history.csv", "test_metrics.json", "calibration.json", "machine.json")
OPTIONAL_RUN_FILES = ("model_export_check.csv",)  # make export's check, when it was run
# What each kept measurement holds, by kind: make bench, make bench-scale, make test-kills.
MEASUREMENT_FILES = {
    "bench": ("results.json", "machine.json"),
    "scale": ("scale.csv", "machine.json"),
    "kills": ("kills.jsonl", "machine.json"),
}
MADE_BY = {"bench": "make bench", "scale": "make bench-scale", "kills": "make test-kills"}
BLOCK = re.compile(
    r"(<!-- evidence: (?P<what>[a-z]+)(?: (?P<name>[\w.-]+))? -->\n)"
    r"(?P<body>.*?)(<!-- /evidence -->)",
    re.DOTALL,
)


class EvidenceError(ValueError):
    """A run or bench folder lacks a file the evidence needs, or a table names none."""


def evidence_root() -> Path:
    return project_root() / EVIDENCE


def _without_pictures(notebook: dict) -> dict:
    """The notebook with its image outputs dropped: the text outputs and timings stay."""
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            for kind in [k for k in data if k.startswith("image/")]:
                del data[kind]
    return notebook


def _copy(
    source: Path, target: Path, files: tuple[str, ...], made_by: str, optional: tuple[str, ...] = ()
) -> Path:
    """Copy `files` (each required), and those of `optional` that are there, to `target`."""
    missing = [f for f in files if not (source / f).is_file()]
    if missing:
        raise EvidenceError(f"{source} has no {', '.join(missing)}: keep a finished {made_by}")
    target.mkdir(parents=True, exist_ok=True)
    for file in files + tuple(f for f in optional if (source / f).is_file()):
        shutil.copyfile(source / file, target / file)
    return target


def keep_run(run_dir: Path, name: str) -> Path:
    """Copy a run folder's evidence to docs/evidence/runs/<name>/; return that folder."""
    target = _copy(
        Path(run_dir),
        evidence_root() / "runs" / name,
        RUN_FILES,
        "make run-all",
        OPTIONAL_RUN_FILES,
    )
    for notebook in RunPaths(Path(run_dir)).executed_notebooks():
        content = _without_pictures(json.loads(notebook.read_text()))
        write_text(target / notebook.name, json.dumps(content, indent=1, ensure_ascii=False) + "\n")
    return target


def keep_measurement(kind: str, folder: Path, name: str) -> Path:
    """Copy a `make bench`, `make bench-scale` or `make test-kills` folder's results and machine
    to docs/evidence/<kind>/<name>/."""
    target = evidence_root() / kind / name
    return _copy(Path(folder), target, MEASUREMENT_FILES[kind], MADE_BY[kind])


def _minutes(seconds: float) -> str:
    return f"{int(seconds // 60)} min {round(seconds % 60):02d} s"


def run_row(folder: Path) -> str:
    """One results-table row, every figure read from the evidence folder of one run."""
    h = headline(RunPaths(folder))
    budget = f", {h['train_minutes']:g}-minute budget" if h.get("train_minutes") else ""
    start = h.get("start_image_size")
    size = f"{start}→{h['image_size']}" if start and start < h["image_size"] else h["image_size"]
    rate = f", peak rate {h['learning_rate']:g}" if h.get("learning_rate") else ""
    return (
        f"| [{folder.name}](evidence/runs/{folder.name}/) | {h['cpu']} | "
        f"`{h['model']}`, {size} px{rate}, {h['precision']}{budget} | "
        f"{h['epochs']} ({h['median_epoch_s']} s each) | "
        f"{h['best_epoch']}: {h['val_accuracy']:.4f} | **{h['test_accuracy']:.4f}** | "
        f"{h['test_log_loss']:.4f} | {_minutes(h['series_s'])} |"
    )


def runs_table() -> str:
    """The results table: one row per run kept under docs/evidence/runs/, by name."""
    rows = [run_row(folder) for folder in sorted((evidence_root() / "runs").iterdir())]
    return "\n".join(
        [
            "| run (evidence) | CPU | recipe | epochs trained | saved epoch: validation accuracy "
            "| test accuracy | test log loss | the series (01–06) |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
            *rows,
        ]
    )


def _kept(kind: str, name: str) -> tuple[Path, str]:
    """A kept measurement's folder and the line naming the machine it ran on."""
    folder = evidence_root() / kind / name
    if not folder.is_dir():
        raise EvidenceError(f"no {kind} evidence {folder}: keep-{kind} a {MADE_BY[kind]} folder")
    machine = json.loads((folder / "machine.json").read_text())
    cpu = machine["cpu"]
    return folder, (
        f"Measured on {cpu['model']} ({cpu['kind']}, {cpu['cores']} cores), commit "
        f"`{machine['commit']}` ([evidence](evidence/{kind}/{name}/))."
    )


def bench_table(name: str) -> str:
    """The `make bench` tables of one kept bench run, headed by the machine they ran on."""
    folder, measured = _kept("bench", name)
    return f"{measured}\n\n{format_table(json.loads((folder / 'results.json').read_text()))}"


def _markdown(frame: pd.DataFrame) -> str:
    lines = ["| " + " | ".join(frame.columns) + " |", "|" + " --- |" * len(frame.columns)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.itertuples(False)]
    return "\n".join(lines)


def scale_table(name: str) -> str:
    """make bench-scale's figures: seconds per stage and the pipeline's peak memory, by size."""
    folder, measured = _kept("scale", name)
    table = pd.read_csv(folder / "scale.csv")
    shown = pd.DataFrame(
        {
            "photos": table["photos"].map("{:,}".format),
            "index (decode + hash)": table["index_s"].map("{:.1f} s".format),
            "duplicate check": table["duplicate_check_s"].map("{:.2f} s".format),
            "split": table["split_s"].map("{:.2f} s".format),
            "make data": table["make_data_s"].map("{:.1f} s".format),
            "µs a photo (index / make data)": [
                f"{a} / {b}"
                for a, b in zip(
                    table["us_per_photo_index"], table["us_per_photo_make_data"], strict=True
                )
            ],
            "pipeline peak, streamed": table["streamed_peak_mib"].map("{:,.0f} MiB".format),
            "pipeline peak, cached": table["cached_peak_mib"].map("{:,.0f} MiB".format),
            "cache size (72 px)": table["cache_mib"].map("{:,} MiB".format),
        }
    )
    return f"{measured}\n\n{_markdown(shown)}"


def kills_table(name: str) -> str:
    """make test-kills' report: per command, kills tried, runs recovered, files lost."""
    folder, measured = _kept("kills", name)
    rows = [json.loads(line) for line in (folder / "kills.jsonl").read_text().splitlines()]
    shown = pd.DataFrame(
        {
            "command": [f"`{row['command']}`" for row in rows],
            "kills": [row["kills"] for row in rows],
            "recovered": [row["recovered"] for row in rows],
            "files lost or half-written": [row["files_lost_or_half_written"] for row in rows],
            "killed during": [row["moments"] for row in rows],
        }
    )
    return f"{measured}\n\n{_markdown(shown)}"


EXPORT_FORMATS = {
    "keras": "Keras `model.keras`",
    "savedmodel": "SavedModel",
    "litert_float32": "LiteRT float32",
    "litert_dynamic_range": "LiteRT dynamic-range (int8 weights)",
}


def export_table(name: str) -> str:
    """The export check of one kept run (make export's model_export_check.csv) as a table."""
    check = evidence_root() / "runs" / name / "model_export_check.csv"
    if not check.is_file():
        raise EvidenceError(f"no {check}: run make export on the run, then keep-run it again")
    table = pd.read_csv(check)
    shown = pd.DataFrame(
        {
            "format": table["format"].map(EXPORT_FORMATS),
            "size": table["size_mb"].map("{:.1f} MB".format),
            "largest difference in P(dog) from Keras": table["max_abs_diff_p_dog"].map(
                "{:.2g}".format
            ),
            "test accuracy (one view)": table["accuracy"].map("{:.4f}".format),
            "single-image latency": table["latency_ms"].map("{:.1f} ms".format),
        }
    )
    return f"Model of [{name}](evidence/runs/{name}/):\n\n{_markdown(shown)}"


RENDERERS = {
    "runs": lambda _: runs_table(),
    "bench": bench_table,
    "export": export_table,
    "scale": scale_table,
    "kills": kills_table,
}


def render(what: str, name: str | None) -> str:
    """The table a marker asks for."""
    if what not in RENDERERS or (what != "runs" and not name):
        raise EvidenceError(f"unknown evidence marker: {what} {name or ''}")
    return RENDERERS[what](name)


def rendered(text: str, page: Path | None = None) -> str:
    """`text` with each evidence block rendered anew from the evidence files.

    The tables link to their evidence from docs/; on a page elsewhere (README) the links say so.
    """
    docs = project_root() / "docs"
    base = "" if page is None or page.parent == docs else f"{os.path.relpath(docs, page.parent)}/"

    def table(m: re.Match) -> str:
        body = render(m.group("what"), m.group("name")).replace("](evidence/", f"]({base}evidence/")
        return f"{m.group(1)}{body}\n{m.group(5)}"

    return BLOCK.sub(table, text)


def pages_with_evidence() -> list[Path]:
    """README and the docs' pages that hold an evidence table."""
    root = project_root()
    pages = [root / "README.md", *sorted((root / "docs").glob("*.md"))]
    return [page for page in pages if BLOCK.search(page.read_text())]


def write_tables() -> list[Path]:
    """Rewrite the evidence tables of the docs in place; return the files that changed.

    Every table is rendered before any page is written: a missing file changes no page.
    """
    pages = {path: path.read_text() for path in pages_with_evidence()}
    new = {path: rendered(text, path) for path, text in pages.items()}
    changed = [path for path in pages if new[path] != pages[path]]
    for path in changed:
        write_text(path, new[path])
    return changed


def screenshot(report: Path, picture: Path, width: int = 1100, height: int = 900) -> Path:
    """The top of a run's report.html as it opens in Chromium, saved as `picture` (PNG)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(Path(report).resolve().as_uri())
            page.screenshot(path=str(picture))
        finally:
            browser.close()
    return picture


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.evidence", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    kinds = {"keep-run": "run folder", **{f"keep-{k}": f"{v} folder" for k, v in MADE_BY.items()}}
    for command, what in kinds.items():
        sub = commands.add_parser(command, help=f"keep a {what}'s evidence, then the tables")
        sub.add_argument("folder", type=Path, help=f"the {what}")
        sub.add_argument("name", help="the evidence's name, e.g. 20261201-default-amx")
    commands.add_parser("tables", help="rewrite the docs' evidence tables")
    shot = commands.add_parser("screenshot", help="the top of a report.html as a PNG, for docs/")
    shot.add_argument("report", type=Path, help="a run's report.html")
    shot.add_argument("picture", type=Path, help="the PNG to write, e.g. docs/report.png")
    args = parser.parse_args(argv)
    try:
        if args.command == "keep-run":
            print(f"kept: {keep_run(args.folder, args.name)}")
        elif args.command.startswith("keep-"):
            kind = args.command.removeprefix("keep-")
            print(f"kept: {keep_measurement(kind, args.folder, args.name)}")
        elif args.command == "screenshot":
            print(f"written: {screenshot(args.report, args.picture)}")
            return 0
        for path in write_tables():
            print(f"rewrote the tables of {path}")
    except EvidenceError as error:
        print(f"evidence: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
