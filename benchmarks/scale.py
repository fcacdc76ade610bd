"""`make bench-scale`: the data stages on 25,000, 50,000 and 100,000 photos, and memory as the
training's pipeline streams them.

The photos are the labelled ones of BENCH_DATA, linked (or copied) under new names until there are
enough: byte-identical copies, which the duplicate check groups and the split keeps on one side.
For each size it times the stages that read every photo or every row (the dataset index, which
decodes and hashes each photo; the duplicate check; the split; `make data` from that folder), and
measures the peak memory of one pass of the training pipeline over them, streamed from the files
and cached. Writes scale.csv and machine.json to the results folder; prints the table.
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from pathlib import Path

import helpers.quiet_tensorflow  # noqa: F401

import pandas as pd

from benchmarks.log import output_to_log
from benchmarks.memory import measure_in_subprocess
from helpers.artifacts import write_csv, write_json
from helpers.config import load_config, project_root
from helpers.dataset import build_dataset_index, list_labelled_images, split_train_val
from helpers.layout import TRAIN_DIR
from helpers.make_data import prepare_data
from helpers.make_data.cleaning import find_duplicates
from helpers.pipeline import CACHE_SHARE, available_memory, cache_bytes, cache_fits
from helpers.summary import describe_machine

IMAGE_SIZE, BATCH_SIZE = 72, 64  # the sizes the kept evidence (docs/evidence/scale) measured


def photo_folder(source: Path, count: int, folder: Path) -> Path:
    """`folder`/train holding `count` photos: the source's labelled photos under new names."""
    train = folder / TRAIN_DIR
    if train.is_dir() and sum(1 for _ in train.iterdir()) == count:
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    train.mkdir(parents=True)
    photos = list_labelled_images(source)
    source_train = source / TRAIN_DIR
    for k in range(count):
        row = photos.iloc[k % len(photos)]
        target = train / f"{row['category']}.{k + 1}.jpg"
        try:
            os.link(source_train / row["filename"], target)  # same disk: no space taken
        except OSError:
            shutil.copyfile(source_train / row["filename"], target)
    return folder


def _seconds(step) -> tuple[float, object]:
    start = time.perf_counter()
    result = step()
    return round(time.perf_counter() - start, 2), result


def measure_size(source: Path, count: int, work: Path) -> dict[str, object]:
    """One row of the table: the stages' seconds and the pipeline's memory at `count` photos."""
    folder = photo_folder(source, count, work / f"photos-{count}")
    cfg = load_config(overrides={"data_dir": str(folder)}, environ={})
    index_s, index = _seconds(lambda: build_dataset_index(cfg))
    manifest = index.rename(columns={"filename": "file"}).assign(split="train")
    duplicates_s, groups = _seconds(lambda: find_duplicates(manifest))
    split_s, split = _seconds(lambda: split_train_val(index, cfg))
    made = work / f"made-{count}"
    shutil.rmtree(made, ignore_errors=True)
    make_data_s, _ = _seconds(
        lambda: prepare_data(str(folder / TRAIN_DIR), made, test_count=0, progress=False)
    )
    shutil.rmtree(made, ignore_errors=True)
    streamed = measure_in_subprocess(folder, count, False, IMAGE_SIZE, BATCH_SIZE)
    cached = measure_in_subprocess(folder, count, True, IMAGE_SIZE, BATCH_SIZE)
    return {
        "photos": count,
        "index_s": index_s,
        "duplicate_check_s": duplicates_s,
        "split_s": split_s,
        "make_data_s": make_data_s,
        "us_per_photo_index": round(1e6 * index_s / count),
        "us_per_photo_make_data": round(1e6 * make_data_s / count),
        "duplicate_groups": len(groups),
        "split_rows": len(split),
        "streamed_peak_mib": streamed["peak_rss_mib"],
        "cached_peak_mib": cached["peak_rss_mib"],
        "cache_mib": round(cache_bytes(count, IMAGE_SIZE) / 2**20),
        "cache_fits_now": cache_fits(count, IMAGE_SIZE),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale", description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True, help="a folder with train/")
    parser.add_argument("--sizes", type=int, nargs="+", default=[25_000, 50_000, 100_000])
    parser.add_argument("--out", type=Path, default=None, help="default bench/scale-<date-time>")
    parser.add_argument("--work-dir", type=Path, default=None, help="default bench/work/scale")
    args = parser.parse_args(argv)
    if not (args.data_dir / TRAIN_DIR).is_dir():
        parser.exit(2, f"{args.data_dir} has no train/ folder of photos (BENCH_DATA=...)\n")
    bench = project_root() / "bench"
    out = args.out or bench / f"scale-{time.strftime('%Y%m%d-%H%M%S')}"
    work = args.work_dir or bench / "work" / "scale"
    rows = []
    with output_to_log(out / "scale.log") as terminal:
        for count in args.sizes:
            print(f"[bench-scale] {count:,} photos", file=terminal)
            rows.append(measure_size(args.data_dir.resolve(), count, work))
            write_csv(pd.DataFrame(rows), out / "scale.csv")  # kept as each size ends
    write_json(
        {
            **describe_machine(),
            "memory_available_mib": round(available_memory() / 2**20),
            "cache_share": CACHE_SHARE,
        },
        out / "machine.json",
    )
    print(pd.DataFrame(rows).to_string(index=False))
    print(f"\nwrote {out / 'scale.csv'}")


if __name__ == "__main__":
    main()
