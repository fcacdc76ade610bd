"""The sides of a comparison take turns, round after round."""

from __future__ import annotations

from benchmarks.timing import interleaved


def test_sides_take_turns_in_every_round():
    calls = []
    rates = interleaved(
        {"a": lambda: calls.append("a") or 10, "b": lambda: calls.append("b") or 10}, repeats=3
    )
    assert calls == ["a", "b"] * 3
    assert len(rates["a"].values) == 3 and all(v > 0 for v in rates["b"].values)
