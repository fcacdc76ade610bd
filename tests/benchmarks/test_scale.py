"""make bench-scale on a few photos: the folder it builds, the row it writes."""

from __future__ import annotations

import pandas as pd

from benchmarks.scale import main, photo_folder


def test_the_photos_are_the_sources_under_new_names(kaggle_dir, tmp_path):
    folder = photo_folder(kaggle_dir, 50, tmp_path / "photos")
    names = sorted(p.name for p in (folder / "train").iterdir())
    assert len(names) == 50 and len({n.split(".")[1] for n in names}) == 50  # a new id each
    sources = {p.read_bytes() for p in (kaggle_dir / "train").iterdir()}
    assert {p.read_bytes() for p in (folder / "train").iterdir()} == sources


def test_bench_scale_writes_a_row_per_size(kaggle_dir, tmp_path, capsys, monkeypatch):
    from benchmarks import memory, scale

    # The pipeline's pass in this process rather than one of its own each: the same code measures,
    # at two TensorFlow imports less; a peak shared with the test process is all it loses here.
    monkeypatch.setattr(scale, "measure_in_subprocess", lambda *args: memory.one_epoch(*args))
    out = tmp_path / "out"
    main(
        ["--data-dir", str(kaggle_dir), "--sizes", "60", "--out", str(out)]
        + ["--work-dir", str(tmp_path / "work")]
    )
    row = pd.read_csv(out / "scale.csv").iloc[0]
    assert row["photos"] == 60 and row["split_rows"] == 60
    assert row["duplicate_groups"] == 20  # 20 photos, each three times
    assert row["streamed_peak_mib"] > 0 and row["cached_peak_mib"] > 0
    assert (out / "machine.json").is_file() and "wrote" in capsys.readouterr().out
