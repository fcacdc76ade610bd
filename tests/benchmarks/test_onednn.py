"""The oneDNN on/off training comparison: two processes, taking turns (no timing asserted)."""

from __future__ import annotations

import pytest

from benchmarks import onednn


@pytest.mark.slow
def test_each_side_trains_in_its_own_process_round_by_round():
    rates = onednn.onednn_rates(steps=1, repeats=2)
    assert list(rates) == ["oneDNN on", "oneDNN off"]
    assert all(len(side.values) == 2 and min(side.values) > 0 for side in rates.values())


def test_a_process_that_dies_is_reported_with_its_setting(monkeypatch):
    monkeypatch.setattr(onednn, "SIDES", {"oneDNN on": "1"})
    with pytest.raises(RuntimeError, match="TF_ENABLE_ONEDNN_OPTS=1 ended"):
        onednn.onednn_rates(steps=0, repeats=1)
