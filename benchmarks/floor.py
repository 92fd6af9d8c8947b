"""Against the floor (issue 27): the retry test's CPU beside an empty pytest test's.

Every figure is the CPU time (user + system) of a whole ``python -m pytest`` process, read with
``getrusage`` of the children before and after it ends: on a shared machine that counts what
the run did, not what the others did meanwhile. Each run is a fresh process with plugin
autoloading off, only its contender's plugins loaded (``-p``) and no probe; the contenders
alternate, round after round. The tests are those of ``_suites.py``; the peers' in their tuned
form (one SSL context for every client), as their best users would write them.

- Target 1, the margin: (T(large) - T(small)) / (large - small), the CPU one more test adds,
  for the retry test on ``spectron`` and for an empty test (pytest's own floor); the ratio is
  taken within each round (paired), so drift between rounds cancels. The tuned peers beside,
  and what bounds it below any plugin: three raw httpx requests answered by canned bytes, and
  the typed client's retry test on canned replies, each without a plugin.
- Target 2, first use: a one-test run (one retry test) minus a bare pytest run of one empty
  test in the same environment, paired within each round; pytest-httpx's beside.
- Target 6, async: the same retry test written async on ``async_spectron``, under
  pytest-asyncio and under anyio's plugin (asyncio backend): its margin against the sync one's.
  Beside it, each runner's own floor: an empty async test's margin over an empty test's.

    python benchmarks/floor.py [--rounds 5] [--small 50] [--large 550] [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from collections.abc import Callable, Mapping, Sequence
from operator import sub, truediv
from pathlib import Path

from _common import alternate, command_line, print_environment, print_table, print_target
from _suites import (
    ANYIO_EMPTY,
    ANYIO_SPECTRON,
    ASYNCIO_EMPTY,
    ASYNCIO_SPECTRON,
    CLIENT_ALONE,
    PLAIN,
    PYTEST_HTTPX,
    RAW_HTTPX,
    RESPX,
    SPECTRON,
    Contender,
    run_suite_cpu,
    write_suite,
)

MARGIN_TARGET = 2.0
"""Target 1: the retry test's margin at most this many empty tests'."""
FIRST_USE_TARGET_MS = 150.0
"""Target 2: a one-test run's CPU over a bare pytest run's, at most this many ms."""
ASYNC_TARGET = 1.2
"""Target 6: the async retry test's margin at most this many sync ones'."""
ASYNC = (ASYNCIO_SPECTRON, ANYIO_SPECTRON)
RUNNERS = (ASYNCIO_EMPTY, ANYIO_EMPTY)
"""The async runners' own floor: an empty async test under each, beside the async rows."""
FLOORS = (RAW_HTTPX, CLIENT_ALONE)
"""What bounds target 1 below the plugin: three httpx requests on canned bytes, and the typed
client's retry test on canned replies, neither with a plugin."""
MARGINS = (PLAIN, SPECTRON, PYTEST_HTTPX, RESPX, *FLOORS, *ASYNC, *RUNNERS)
FIRST_USES = (PLAIN, SPECTRON, PYTEST_HTTPX)


def suite(root: Path, contender: Contender, tests: int) -> Path:
    """The contender's generated suite of ``tests`` tests, in a folder of its own under ``root``."""
    return write_suite(root / f"{contender.name}, {tests}", contender, tests, tuned=True)


def margin(root: Path, contender: Contender, small: int, large: int) -> Callable[[], float]:
    """A contender: milliseconds of CPU one more test adds, from a small and a large run."""
    few, many = suite(root, contender, small), suite(root, contender, large)

    def measure() -> float:
        lower = run_suite_cpu(few, contender)
        upper = run_suite_cpu(many, contender)
        return (upper - lower) / (large - small) * 1000

    return measure


def one_test(root: Path, contender: Contender) -> Callable[[], float]:
    """A contender: milliseconds of CPU of a whole one-test run."""
    directory = suite(root, contender, 1)
    return lambda: run_suite_cpu(directory, contender) * 1000


def paired(
    results: Mapping[str, Sequence[float]],
    baseline: str,
    rows: Sequence[Contender],
    combine: Callable[[float, float], float],
) -> dict[str, list[float]]:
    """Each row's figures combined, round by round, with the baseline's of the same round."""
    base = results[baseline]
    return {
        row.name: [combine(value, b) for value, b in zip(results[row.name], base, strict=True)]
        for row in rows
    }


def options() -> argparse.Namespace:
    """The command line, with ``--quick``'s sizes applied."""
    parser = command_line(__doc__, "runs of 2 and 6 tests, 1 round")
    parser.add_argument("--small", type=int, default=50, help="(default: %(default)s)")
    parser.add_argument("--large", type=int, default=550, help="(default: %(default)s)")
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.rounds, arguments.small, arguments.large = 1, 2, 6
    if arguments.large <= arguments.small:
        parser.error("--large must be more tests than --small")
    return arguments


def main() -> None:
    arguments = options()
    small, large, rounds = arguments.small, arguments.large, arguments.rounds
    title = f"Against the floor: CPU of whole runs, {rounds} rounds"
    print_environment(title, quick=arguments.quick)
    with tempfile.TemporaryDirectory() as name:
        root = Path(name)
        margins = alternate(
            {row.name: margin(root, row, small, large) for row in MARGINS}, rounds, warm_up=True
        )
        first = alternate(
            {row.name: one_test(root, row) for row in FIRST_USES}, rounds, warm_up=True
        )
    tests = f"(T({large}) - T({small})) / {large - small}"
    sync_rows = (PLAIN, SPECTRON, PYTEST_HTTPX, RESPX, *FLOORS)
    sync = {row.name: margins[row.name] for row in sync_rows}
    print_table(f"1. CPU one more test adds, {tests}", sync, "ms", PLAIN.name, digits=3)
    to_empty = paired(margins, PLAIN.name, sync_rows[1:], truediv)
    print_table("1. the same over the empty test's, paired within each round", to_empty, "x")
    asynchronous = {row.name: margins[row.name] for row in (SPECTRON, *ASYNC, PLAIN, *RUNNERS)}
    title = f"6. async: CPU one more test adds, {tests}"
    print_table(title, asynchronous, "ms", SPECTRON.name, digits=3)
    to_sync = paired(margins, SPECTRON.name, ASYNC, truediv)
    print_table("6. the same over the sync test's, paired within each round", to_sync, "x")
    added = {
        **paired(margins, SPECTRON.name, ASYNC, sub),
        **paired(margins, PLAIN.name, RUNNERS, sub),
    }
    title = (
        "6. what async adds per test, paired within each round: the retry test over the sync "
        "one, an empty async test over an empty one"
    )
    print_table(title, added, "ms", digits=3)
    print_table("2. CPU of a one-test run", first, "ms", PLAIN.name, digits=0)
    over_floor = paired(first, PLAIN.name, (SPECTRON, PYTEST_HTTPX), sub)
    title = "2. the same minus the bare pytest run's (one empty test), paired within each round"
    print_table(title, over_floor, "ms", digits=0)
    print("\nTargets")
    median = statistics.median
    multiple = median(to_empty[SPECTRON.name])
    print_target(
        "1. retry test on spectron, CPU at the margin vs an empty test",
        f"{multiple:.2f}x ({median(margins[SPECTRON.name]):.2f} ms)",
        f"<= {MARGIN_TARGET:.0f}x",
        multiple <= MARGIN_TARGET,
    )
    for peer in (PYTEST_HTTPX, RESPX):
        print_target(
            f"   (reference) {peer.name}, tuned",
            f"{median(to_empty[peer.name]):.2f}x ({median(margins[peer.name]):.2f} ms)",
        )
    extra = median(over_floor[SPECTRON.name])
    print_target(
        "2. one-test run on spectron, CPU over a bare pytest run",
        f"{extra:+.0f} ms",
        f"<= +{FIRST_USE_TARGET_MS:.0f} ms",
        extra <= FIRST_USE_TARGET_MS,
    )
    print_target(
        f"   (reference) {PYTEST_HTTPX.name}", f"{median(over_floor[PYTEST_HTTPX.name]):+.0f} ms"
    )
    for row in ASYNC:
        multiple = median(to_sync[row.name])
        print_target(
            f"6. {row.name.removeprefix('pytest-spectron ')}, margin vs the sync test",
            f"{multiple:.2f}x",
            f"<= {ASYNC_TARGET}x",
            multiple <= ASYNC_TARGET,
        )
    for runner in RUNNERS:
        print_target(
            f"   {runner.name.removesuffix(', empty async test')}, empty, over an empty test",
            f"{median(added[runner.name]):+.2f} ms",
        )


if __name__ == "__main__":
    main()
