"""Shared helpers for the benchmark scripts: alternate rounds, report medians and ratios."""

from __future__ import annotations

import statistics
from collections.abc import Callable

__all__ = ["alternate", "report"]


def alternate(contenders: dict[str, Callable[[], float]], rounds: int) -> dict[str, list[float]]:
    """Run every contender once per round, in turn, so drift hits all of them alike."""
    results: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, run in contenders.items():
            results[name].append(run())
    return results


def report(title: str, results: dict[str, list[float]], unit: str, baseline: str) -> None:
    """Print each contender's median and its ratio to ``baseline``'s."""
    medians = {name: statistics.median(values) for name, values in results.items()}
    print(f"\n{title}")
    for name, median in medians.items():
        ratio = median / medians[baseline] if medians[baseline] else float("nan")
        print(f"  {name:<34} {median:>12.3f} {unit:<8} {ratio:>6.2f}x {baseline}")
