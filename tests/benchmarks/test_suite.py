"""Ratios, targets and the table of the benchmark suite."""

from __future__ import annotations

import pytest

from benchmarks.suite import (
    SEED_BATCH_SIZE,
    BenchSettings,
    Comparison,
    format_table,
    project_train_pipeline,
)
from benchmarks.timing import Rates
from helpers.modeling.training import build_model


def test_ratio_is_the_median_of_per_round_ratios_and_the_target_is_judged():
    row = Comparison(
        "x", Rates("project", (300.0, 100.0, 330.0)), Rates("seed", (100.0, 50.0, 100.0)), 3.0
    )
    assert row.ratio == pytest.approx(3.0) and row.met
    assert Comparison("y", Rates("p", (1.0,)), Rates("s", (1.0,)), None).met is None


def test_table_lists_every_row_with_ratio_target_and_memory():
    rows = [
        Comparison(
            "input pipeline", Rates("project", (900.0, 1000.0)), Rates("seed", (300.0, 300.0)), 3.0
        ).to_dict(),
        Comparison(
            "training",
            Rates("project", (80.0, 80.0)),
            Rates("in-memory bound", (100.0, 100.0)),
            0.9,
        ).to_dict(),
    ]
    memory = [
        {
            "images": 5000,
            "cache": False,
            "rss_before_mib": 800.0,
            "peak_rss_mib": 900.0,
            "epoch_growth_mib": 100.0,
        },
        {
            "images": 23000,
            "cache": True,
            "rss_before_mib": 800.0,
            "peak_rss_mib": 1300.0,
            "epoch_growth_mib": 500.0,
        },
    ]
    table = format_table({"comparisons": rows, "memory": memory, "repeats": 2})
    assert "| input pipeline | 950 (1,000) | seed: 300 (300) | 3.17× | ≥ 3× met |" in table
    assert "0.80× | ≥ 0.9× MISSED" in table
    assert "| cache on | 23,000 | 800 MiB | 1,300 MiB | 500 MiB |" in table


def test_hardware_rows_give_each_peak_by_dtype_and_training_as_a_share_of_the_conv_peak():
    from benchmarks.suite import hardware_table

    peaks = [
        {"op": op, "dtype": dtype, "flops_per_second": rate}
        for op, dtype, rate in [
            ("matmul 2048×2048", "float32", 100e9),
            ("matmul 2048×2048", "bfloat16", 20e9),
            ("conv2d x", "float32", 80e9),
            ("conv2d x", "bfloat16", 10e9),
        ]
    ]
    training = {
        "name": "compact_cnn training",
        "rates": (100.0,),
        "median": 100.0,
        "forward_flops_per_image": 20_000_000,
        "fraction_of_conv_peak": {"float32": 0.075, "bfloat16": 0.6},
    }
    lines = hardware_table({"peaks": peaks, "training": [training], "onednn": True})
    assert lines[0] == "| hardware limit (GFLOP/s), oneDNN on | float32 | bfloat16 |"
    assert "| matmul 2048×2048 | 100.0 | 20.0 |" in lines
    assert "| conv2d x | 80.0 | 10.0 |" in lines
    assert lines[-1] == (
        "| compact_cnn training: 100 images/s × 3 × 20 MFLOP = 6.0 GFLOP/s, "
        "share of the conv2d peak | 8% | 60% |"
    )


def test_the_seed_network_takes_the_project_pipelines_batches_whatever_the_default_size(tmp_path):
    # The seed's side of the bench trains at the seed's size, not the default recipe's.
    from image_files import write_image

    cfg = BenchSettings(tmp_path, tmp_path).cfg
    paths = [str(write_image(tmp_path / f"{c}.{i}.jpg", seed=i)) for c in "ab" for i in range(3)]
    images, labels = next(iter(project_train_pipeline(cfg, paths, [0, 0, 0, 1, 1, 1])))
    model = build_model(cfg)
    assert images.shape[1:] == model.input_shape[1:] and images.shape[0] <= SEED_BATCH_SIZE
    model.fit(images, labels, epochs=1, verbose=0)
