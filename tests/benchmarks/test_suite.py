"""Ratios, targets and the table of the benchmark suite."""

from __future__ import annotations

import pytest

from benchmarks.suite import Comparison, format_table
from benchmarks.timing import Rates


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
