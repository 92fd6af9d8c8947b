"""Shared helpers of the benchmark scripts: options, alternating rounds, tables, memory.

Every script runs its contenders in one process run, alternating round by round so that drift
(another process waking up, the CPU warming) hits all of them alike, and prints the minimum,
median and maximum of each with the ratio of medians to a named baseline, side by side.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from importlib import metadata
from pathlib import Path

__all__ = [
    "BENCHMARKS",
    "ROOT",
    "alternate",
    "child_environment",
    "children_cpu",
    "command_line",
    "print_environment",
    "print_table",
    "print_target",
    "rss_bytes",
    "spread",
    "timed",
]

BENCHMARKS = Path(__file__).resolve().parent
ROOT = BENCHMARKS.parent
PACKAGES = ("pytest", "httpx", "respx", "pytest-httpx", "pytest-spectron")


def command_line(doc: str | None, quick_note: str) -> argparse.ArgumentParser:
    """A parser with the options every script shares: ``--rounds`` and ``--quick``.

    :param doc: the script's module docstring; its first line is the description.
    :param quick_note: what ``--quick`` shrinks to, for ``--help``.
    :return: the parser, for the script to add its own sizes to.
    """
    parser = argparse.ArgumentParser(description=(doc or "").strip().splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds (default: %(default)s)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"a smoke run that checks the script works, not a measurement: {quick_note}",
    )
    return parser


def print_environment(title: str, *, quick: bool) -> None:
    """Print the date, machine, Python and package versions: what a table's figures depend on."""
    versions = ", ".join(f"{name} {_version(name)}" for name in PACKAGES)
    print(f"{title}")
    if quick:
        print("  --quick: a smoke run with tiny sizes; its figures measure nothing")
    print(
        f"  {datetime.date.today().isoformat()}, {platform.system()} {platform.machine()}, "
        f"{os.cpu_count()} cores, CPython {platform.python_version()}, commit {_commit()}"
    )
    print(f"  {versions}")


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "absent"


def _commit() -> str:
    try:
        finished = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
    except OSError:
        return "unknown"
    return finished.stdout.strip() or "unknown"


def child_environment(**extra: str) -> dict[str, str]:
    """The environment of a contender's own process: this one's, with ``extra`` set, and
    bytecode caching on, as on a user's machine.

    ``PYTHONDONTWRITEBYTECODE`` (set in some CI and container images, this development machine
    among them) would have every run compile afresh each module without a cached ``.pyc``: a
    cost of the environment, not of the contender, and larger for the one that imports more.
    """
    environment = {**os.environ, **extra}
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    return environment


def alternate(
    contenders: Mapping[str, Callable[[], float]], rounds: int, *, warm_up: bool = False
) -> dict[str, list[float]]:
    """Run every contender once per round, in turn, and collect each one's figures.

    :param warm_up: run every contender once first, unrecorded: its modules' bytecode cached
        and its files in the page cache, as on any run after a user's first.
    """
    if warm_up:
        for run in contenders.values():
            run()
    results: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, run in contenders.items():
            results[name].append(run())
    return results


def timed(call: Callable[[], object], calls: int, *, unit: float = 1e6) -> Callable[[], float]:
    """A contender for ``alternate``: the time per call over ``calls`` calls, in ``unit`` per
    second (1e6: microseconds, 1e3: milliseconds)."""

    def run() -> float:
        started = time.perf_counter()
        for _ in range(calls):
            call()
        return (time.perf_counter() - started) / calls * unit

    return run


def spread(values: Sequence[float]) -> tuple[float, float, float]:
    """(minimum, median, maximum)."""
    return min(values), statistics.median(values), max(values)


def print_table(
    title: str,
    results: Mapping[str, Sequence[float]],
    unit: str,
    baseline: str | None = None,
    digits: int = 2,
) -> None:
    """Print min / median / max of each row and, given ``baseline``, its ratio of medians.

    :param title: the table's heading.
    :param results: row name → the figures of its rounds.
    :param unit: the figures' unit, printed in the heading.
    :param baseline: the row the ratios divide by; no ratio column without one.
    :param digits: decimals shown.
    """
    width = max(len(name) for name in results) + 2
    ratio_heading = f"  ratio to {baseline}" if baseline else ""
    print(f"\n{title}")
    print(f"  {'':<{width}}{'min':>11}{'median':>11}{'max':>11}  ({unit}){ratio_heading}")
    reference = statistics.median(results[baseline]) if baseline else None
    for name, values in results.items():
        low, middle, high = spread(values)
        ratio = f"  {middle / reference:6.2f}x" if reference else ""
        print(
            f"  {name:<{width}}{low:>11.{digits}f}{middle:>11.{digits}f}{high:>11.{digits}f}{ratio}"
        )


def children_cpu() -> float:
    """CPU seconds (user + system) of every child process that has ended and been waited for.

    Taken before and after one ``subprocess.run``, the difference is that process's CPU time,
    whatever else the machine runs: on a shared, loaded machine a truer figure than wall time.
    """
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def rss_bytes(pid: int | str = "self") -> int:
    """The resident set size of a process now, from ``/proc`` (Linux only).

    :param pid: the process id, or ``"self"``.
    :return: bytes.
    :raises SystemExit: where ``/proc`` is missing: the memory figures need Linux.
    """
    try:
        with open(f"/proc/{pid}/statm") as statm:
            pages = int(statm.read().split()[1])
    except FileNotFoundError:
        if sys.platform != "linux":
            raise SystemExit("the memory figures read /proc: run the benchmarks on Linux") from None
        raise
    return pages * os.sysconf("SC_PAGE_SIZE")


def print_target(measure: str, today: str, target: str | None = None, met: bool = False) -> None:
    """Print one row of the README's targets table: the measure, today's figure, the target."""
    verdict = "" if target is None else f"   target {target:<26} {'met' if met else 'NOT MET'}"
    print(f"  {measure:<62} {today:>22}{verdict}")
