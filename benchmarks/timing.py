"""Interleaved repetitions: every side measured in turn, in each round, on the same files."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Rates:
    """Images per second of one side over the repetitions."""

    name: str
    values: tuple[float, ...]

    @property
    def median(self) -> float:
        """Median over the repetitions (what the tables report)."""
        return statistics.median(self.values)

    @property
    def best(self) -> float:
        """The fastest repetition: the rate least disturbed by the shared machine."""
        return max(self.values)


def images_per_second(run: Callable[[], int]) -> float:
    """Rate of `run`, which processes some images and returns how many."""
    start = time.perf_counter()
    count = run()
    return count / (time.perf_counter() - start)


def interleaved(sides: Mapping[str, Callable[[], int]], repeats: int) -> dict[str, Rates]:
    """Each side's rate in `repeats` rounds, the sides taking turns within every round."""
    values: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(repeats):
        for name, run in sides.items():
            values[name].append(images_per_second(run))
    return {name: Rates(name, tuple(rates)) for name, rates in values.items()}
