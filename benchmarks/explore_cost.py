"""Fault exploration's cost: the example suite explored, against its clean run.

Every run is a fresh ``python -m pytest`` of a copy of ``examples/`` (its own settings, the
fault coverage report included) with plugin autoloading off and only pytest-spectron and
pytest-asyncio loaded, as the other scripts run, alternating round by round:

- collect only: start-up and collection, subtracted from the two runs below to get their loops;
- clean: the suite as ``make demo`` runs it;
- explored: the same with ``--spectron-explore`` (findings only reported, so the exit status is
  the clean run's), which writes its JSON: the tests explored and their extra runs.

Printed: the runs per explored test, the explored loop as a multiple of the clean loop, and what
one extra run costs against one clean test (the target: no more).

    python benchmarks/explore_cost.py [--rounds 5] [--quick]
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _common import (
    ROOT,
    alternate,
    child_environment,
    command_line,
    print_environment,
    print_table,
    print_target,
)
from _suites import SPECTRON_PLUGIN

BASE = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
BASE += ["-p", SPECTRON_PLUGIN, "-p", "pytest_asyncio.plugin"]
ENVIRONMENT = child_environment(PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
MODES: dict[str, list[str]] = {
    "collect only": ["--collect-only"],
    "clean": [],
    "explored": [
        "--spectron-explore",
        "--spectron-explore-fail=never",
        "--spectron-explore-json=explore.json",
    ],
}


def runner(directory: Path, mode: str) -> Callable[[], float]:
    """A contender: seconds of one run of the suite in ``directory`` in ``mode``."""

    def run() -> float:
        started = time.perf_counter()
        finished = subprocess.run(
            [*BASE, *MODES[mode]], cwd=directory, env=ENVIRONMENT, capture_output=True, text=True
        )
        elapsed = time.perf_counter() - started
        if finished.returncode != 0:
            raise SystemExit(f"the {mode} run failed:\n{finished.stdout}{finished.stderr}")
        return elapsed

    return run


def items(directory: Path) -> int:
    """How many test items the suite has."""
    listed = subprocess.run(
        [*BASE, "--collect-only"],
        cwd=directory,
        env=ENVIRONMENT,
        capture_output=True,
        text=True,
        check=True,
    )
    return sum(1 for line in listed.stdout.splitlines() if "::" in line)


def main() -> None:
    parser = command_line(__doc__, "1 round")
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.rounds = 1
    print_environment(
        f"Fault exploration of the example suite, {arguments.rounds} rounds", quick=arguments.quick
    )
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name) / "examples"
        shutil.copytree(ROOT / "examples", directory, ignore=shutil.ignore_patterns("*.json"))
        count = items(directory)
        results = alternate(
            {mode: runner(directory, mode) for mode in MODES}, arguments.rounds, warm_up=True
        )
        report = json.loads((directory / "explore.json").read_text())
    collect = statistics.median(results["collect only"])
    loops = {mode: [value - collect for value in results[mode]] for mode in ("clean", "explored")}
    print_table("Whole run (a fresh process)", results, "s", "clean")
    print_table("Test loop (the run minus the median collect-only run)", loops, "s", "clean")
    tests, runs = report["tests"], report["runs"]
    clean_loop = statistics.median(loops["clean"])
    extra = statistics.median(loops["explored"]) - clean_loop
    per_run = extra / runs if runs else 0.0
    per_test = clean_loop / count
    print(
        f"\n{count} test items, {tests} explored in {runs} extra runs: "
        f"{runs / tests if tests else 0:.1f} runs per explored test"
    )
    print("\nTargets")
    print_target("runs per explored test", f"{runs / tests if tests else 0:.1f}")
    print_target(
        "explored loop as a multiple of the clean loop (medians)",
        f"{statistics.median(loops['explored']) / clean_loop:.1f}x",
    )
    print_target(
        "one extra run vs one clean test (ms)",
        f"{per_run * 1000:.1f} vs {per_test * 1000:.1f}",
        "<= 1.0x the clean test",
        per_run <= per_test,
    )


if __name__ == "__main__":
    main()
