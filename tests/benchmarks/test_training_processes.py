"""Training in processes set up differently: two at a time, taking turns (no timing asserted)."""

from __future__ import annotations

import pytest

from benchmarks.training_processes import BACKEND_SIDES, ONEDNN_SIDES, process_rates


@pytest.mark.slow
@pytest.mark.parametrize("sides", [ONEDNN_SIDES, BACKEND_SIDES], ids=["oneDNN", "backend"])
def test_each_side_trains_in_its_own_process_round_by_round(sides):
    rates = process_rates(sides, steps=1, repeats=2)
    assert list(rates) == list(sides)
    assert all(len(side.values) == 2 and min(side.values) > 0 for side in rates.values())


def test_a_process_that_dies_is_reported_with_its_setting():
    with pytest.raises(RuntimeError, match="KERAS_BACKEND=jax ended"):
        process_rates({"JAX": BACKEND_SIDES["JAX"]}, steps=0, repeats=1)
