import importlib.util

import numpy as np
import pytest

from helpers.bench.requirements import tf_keras_requirement
from helpers.bench.suite import Comparison, format_table
from helpers.bench.timing import Rates, interleaved


def test_sides_take_turns_in_every_round():
    calls = []
    rates = interleaved({"a": lambda: calls.append("a") or 10, "b": lambda: calls.append("b") or 10}, repeats=3)
    assert calls == ["a", "b"] * 3
    assert len(rates["a"].values) == 3 and all(v > 0 for v in rates["b"].values)


def test_ratio_is_the_median_of_per_round_ratios_and_the_target_is_judged():
    row = Comparison("x", Rates("project", (300.0, 100.0, 330.0)), Rates("seed", (100.0, 50.0, 100.0)), 3.0)
    assert row.ratio == pytest.approx(3.0) and row.met
    assert Comparison("y", Rates("p", (1.0,)), Rates("s", (1.0,)), None).met is None


def test_table_lists_every_row_with_ratio_target_and_memory():
    rows = [
        Comparison("input pipeline", Rates("project", (900.0, 1000.0)), Rates("seed", (300.0, 300.0)), 3.0).to_dict(),
        Comparison("training", Rates("project", (80.0, 80.0)), Rates("in-memory bound", (100.0, 100.0)), 0.9).to_dict(),
    ]
    memory = [
        {"images": 5000, "cache": False, "rss_before_mib": 800.0, "peak_rss_mib": 900.0, "epoch_growth_mib": 100.0},
        {"images": 23000, "cache": True, "rss_before_mib": 800.0, "peak_rss_mib": 1300.0, "epoch_growth_mib": 500.0},
    ]
    table = format_table({"comparisons": rows, "memory": memory, "repeats": 2})
    assert "| input pipeline | 950 (1,000) | seed: 300 (300) | 3.17× | ≥ 3× met |" in table
    assert "0.80× | ≥ 0.9× MISSED" in table
    assert "| cache on | 23,000 | 800 MiB | 1,300 MiB | 500 MiB |" in table


def test_tf_keras_follows_the_tensorflow_minor_version():
    assert tf_keras_requirement("2.21.3") == "tf-keras==2.21.*"


@pytest.mark.skipif(importlib.util.find_spec("tf_keras") is None, reason="tf-keras not installed (make bench installs it)")
def test_seed_pipeline_yields_augmented_batches_in_zero_one(tmp_path):
    from image_files import write_image

    from helpers.bench.seed_pipeline import batches, seed_train_iterator

    names = [write_image(tmp_path / f"{c}.{i}.jpg", seed=i).name for c in ("cat", "dog") for i in range(3)]
    iterator = seed_train_iterator(names, [n.split(".")[0] for n in names], tmp_path, image_size=16, batch_size=4)
    images, labels = next(batches(iterator, 1))
    assert images.shape == (4, 16, 16, 3) and labels.shape == (4, 2)
    assert 0.0 <= images.min() and images.max() <= 1.0 and np.allclose(labels.sum(axis=1), 1)


def test_bench_refuses_a_folder_without_the_kaggle_layout_and_says_what_to_set(tmp_path, capsys):
    from helpers.bench.__main__ import main

    (tmp_path / "train").mkdir()
    with pytest.raises(SystemExit) as stopped:
        main(["--data-dir", str(tmp_path), "--out", str(tmp_path / "out")])
    assert stopped.value.code == 2
    message = capsys.readouterr().err
    assert f"{tmp_path} has no test1/ folder" in message and "BENCH_DATA=" in message
    assert not (tmp_path / "out").exists()
