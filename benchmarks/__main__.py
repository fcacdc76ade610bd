"""`python -m benchmarks`: run the benchmark suite, write results.json and table.md, print the
table."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import helpers.quiet_tensorflow  # noqa: F401

from benchmarks.log import output_to_log
from benchmarks.suite import BenchSettings, format_table, run_suite
from helpers.artifacts import write_json, write_text
from helpers.config import project_root
from helpers.layout import TEST_DIR, TRAIN_DIR
from helpers.summary import describe_machine


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--data-dir", type=Path, required=True, help="Kaggle-layout folder: train/ and test1/"
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="results folder (default bench/<date-time>)"
    )
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=None,
        help="where full-size JPEGs are made (default bench/work)",
    )
    parser.add_argument(
        "--images", type=int, default=2000, help="labelled photos per pipeline epoch"
    )
    parser.add_argument("--full-size-images", type=int, default=1000)
    parser.add_argument(
        "--train-steps", type=int, default=20, help="batches of 100 per training measurement"
    )
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--memory-images", type=int, nargs="+", default=[5000, 23000])
    args = parser.parse_args(argv)
    missing = [name for name in (TRAIN_DIR, TEST_DIR) if not (args.data_dir / name).is_dir()]
    if missing:
        parser.exit(
            2,
            f"{args.data_dir.resolve()} has no {' or '.join(f'{name}/' for name in missing)} "
            "folder: the benchmarks need the Kaggle layout (train/ with labelled photos, test1/ "
            "with test photos). With make, point "
            "BENCH_DATA=... at such a folder, e.g. ../shared/datasets/kaggle-cats-dogs-128.\n",
        )
    bench_root = project_root() / "bench"
    out = args.out or bench_root / time.strftime("%Y%m%d-%H%M%S")
    settings = BenchSettings(
        data_dir=args.data_dir.resolve(),
        work_dir=(args.work_dir or bench_root / "work").resolve(),
        images=args.images,
        full_size_images=args.full_size_images,
        train_steps=args.train_steps,
        repeats=args.repeats,
        memory_images=tuple(args.memory_images),
    )
    log = out / "bench.log"
    print(f"library messages and warnings go to {log}", flush=True)
    with output_to_log(log) as terminal:
        results = run_suite(settings, report=lambda line: print(line, file=terminal))
    table = format_table(results)
    write_json(results, out / "results.json")
    write_json(describe_machine(), out / "machine.json")  # what the rates were measured on
    write_text(out / "table.md", table + "\n")
    print(table)
    print(f"\nwritten: {out / 'results.json'}, {out / 'table.md'}, {out / 'machine.json'}, {log}")


if __name__ == "__main__":
    main()
