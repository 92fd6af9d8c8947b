"""What a retry test costs per test, and the memory a run keeps, for pytest-spectron and its peers.

The same test (see ``_suites.py``) is written for pytest-spectron, pytest-httpx and respx, and
generated N times into one module per contender. Each run is a fresh process; the contenders
alternate, round after round. Reported, min / median / max over the rounds:

- whole run per test: the process's wall time over N (start-up, collection, loop and exit);
- in-loop per test: from the end of the first test to the end of the last, over N - 1, so the
  one-time costs (process start, imports, the SSL context) are removed equally for everyone;
- memory, from inside the run (not at collection): RSS when the loop starts, its peak during
  the loop and what the loop added; and, in separate runs of 5,000 tests (tracing slows them),
  the Python memory each test keeps from the 1,000th test to the 5,000th (``tracemalloc``: a
  run reuses memory that collection freed, so RSS alone would hide growth);
- what the virtual clock saves: the sum of the waits, 0.25 s + 0.5 s per test, checked
  against a run of pytest-spectron that really sleeps.

    python benchmarks/suite_cost.py [--rounds 5] [--memory-rounds 3] [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from _common import command_line, print_environment, print_table, print_target
from _suites import CONTENDERS, PLAIN, REAL_SLEEP, SPECTRON, Contender, Run, run_suite, write_suite

PEERS = [contender.name for contender in CONTENDERS if contender is not SPECTRON]
WAITS = (0.25, 0.5)
"""The waits of the retry test, in seconds: what the virtual clock saves per test."""
MiB = 1024 * 1024


class Suites:
    """Generated suites under one temporary directory, run alternating."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.count = 0

    def measure(
        self,
        contenders: Sequence[Contender],
        tests: int,
        *,
        rounds: int,
        tuned: bool,
        growth: tuple[int, int] | None = None,
    ) -> dict[str, list[Run]]:
        """Every contender's runs of its ``tests``-test suite, ``rounds`` times, alternating."""
        directories = {}
        for contender in contenders:
            self.count += 1
            directory = self.root / f"suite{self.count}"
            directories[contender.name] = write_suite(directory, contender, tests, tuned=tuned)
        runs: dict[str, list[Run]] = {contender.name: [] for contender in contenders}
        for _ in range(rounds):
            for contender in contenders:
                directory = directories[contender.name]
                runs[contender.name].append(run_suite(directory, contender, tests, growth))
        return runs


def figures(runs: dict[str, list[Run]], figure: Callable[[Run], float]) -> dict[str, list[float]]:
    return {name: [figure(run) for run in contender_runs] for name, contender_runs in runs.items()}


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def faster_peer(results: dict[str, list[float]]) -> str:
    return min(PEERS, key=lambda name: median(results[name]))


def timing_tables(title: str, runs: dict[str, list[Run]]) -> tuple[dict[str, list[float]], ...]:
    """Print the whole-run, in-loop and memory tables of one set of runs; return the timings."""
    whole = figures(runs, lambda run: run.whole_run_per_test * 1000)
    in_loop = figures(runs, lambda run: run.in_loop_per_test * 1000)
    print_table(f"{title}: whole run per test", whole, "ms", faster_peer(whole))
    print_table(f"{title}: in loop per test", in_loop, "ms", faster_peer(in_loop))
    peak = figures(runs, lambda run: run.rss_peak / MiB)
    print_table(f"{title}: peak RSS during the loop", peak, "MiB", faster_peer(peak), digits=1)
    added = figures(runs, lambda run: (run.rss_peak - run.rss_start) / MiB)
    print_table(f"{title}: RSS the loop added (peak minus start)", added, "MiB", digits=1)
    return whole, in_loop


def memory_tables(runs: dict[str, list[Run]], low: int, high: int) -> dict[str, list[float]]:
    """Print RSS at the loop's start and the memory each test kept, beyond what pytest keeps.

    :return: the memory each contender's tests kept beyond pytest's own, in bytes per test.
    """
    start = figures(runs, lambda run: run.rss_start / MiB)
    kept = figures(runs, lambda run: (run.kept or 0) / (high - low))
    title = f"{high} tests, tuned"
    print_table(f"{title}: RSS when the loop starts", start, "MiB", digits=1)
    span = f"test {low} to {high} (tracemalloc)"
    print_table(f"{title}: memory kept per test, {span}", kept, "bytes", digits=0)
    # pytest keeps every test's report for its summary: the reference shows how much.
    pytest_own = median(kept.pop(PLAIN.name))
    beyond = {name: [value - pytest_own for value in values] for name, values in kept.items()}
    print_table(
        f"{title}: the same beyond pytest's own ({pytest_own:.0f})", beyond, "bytes", digits=0
    )
    return beyond


def real_sleep_check(suites: Suites, virtual_in_loop: float, rounds: int, *, quick: bool) -> None:
    """Print the saving (the sum of the waits) and the real-sleep run that confirms it."""
    saving = sum(WAITS) * 1000
    print("\nWhat the virtual clock saves per test")
    print(f"  the sum of the waits, {' + '.join(map(str, WAITS))} s: {saving:.0f} ms per test")
    if quick:
        print("  check: skipped by --quick, which never sleeps")
        return
    runs = suites.measure([REAL_SLEEP], 3, rounds=rounds, tuned=True)[REAL_SLEEP.name]
    real = median([run.in_loop_per_test * 1000 for run in runs])
    print(
        f"  check: in loop, really sleeping {real:.1f} ms per test, on the virtual clock "
        f"{virtual_in_loop:.1f} ms: a difference of {real - virtual_in_loop:.1f} ms"
    )


def options() -> argparse.Namespace:
    """The command line, with ``--quick``'s sizes applied."""
    parser = command_line(__doc__, "20 and 40 tests, 1 round, fewer rows, no sleeping")
    add = parser.add_argument
    add(
        "--memory-rounds",
        type=int,
        default=3,
        help="of the 5,000-test runs, whose figures barely vary (default: %(default)s)",
    )
    add("--usual-tests", type=int, default=1000, help="(default: %(default)s)")
    add("--tuned-tests", type=int, default=300, help="(default: %(default)s)")
    add("--memory-tests", type=int, default=5000, help="(default: %(default)s)")
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.rounds = arguments.memory_rounds = 1
        arguments.usual_tests = arguments.tuned_tests = 20
        arguments.memory_tests = 40
    return arguments


def main() -> None:
    arguments = options()
    quick, rounds = arguments.quick, arguments.rounds
    usual, tuned, many = arguments.usual_tests, arguments.tuned_tests, arguments.memory_tests
    print_environment(f"Suite cost, {rounds} rounds", quick=quick)
    # The reference (pytest alone) only where it explains a figure, under --quick.
    timed = list(CONTENDERS) if quick else [*CONTENDERS, PLAIN]
    span = (many // 5, many)
    with tempfile.TemporaryDirectory() as root:
        suites = Suites(Path(root))
        usual_whole, _ = timing_tables(
            f"{usual} tests, usual (peers build a client per test)",
            suites.measure(timed, usual, rounds=rounds, tuned=False),
        )
        tuned_whole, tuned_in_loop = timing_tables(
            f"{tuned} tests, tuned (one SSL context for every client)",
            suites.measure(timed, tuned, rounds=rounds, tuned=True),
        )
        kept = memory_tables(
            suites.measure(
                [SPECTRON, PLAIN] if quick else [*CONTENDERS, PLAIN],
                many,
                rounds=arguments.memory_rounds,
                tuned=True,
                growth=span,
            ),
            *span,
        )
        real_sleep_check(suites, median(tuned_in_loop[SPECTRON.name]), rounds, quick=quick)
    print("\nTargets")
    ratio = ratio_to(usual_whole, faster_peer(usual_whole))
    target = "<= 0.5x the faster peer"
    print_target(
        f"usual, N = {usual}, whole run", f"{ratio:.2f}x faster peer", target, ratio <= 0.5
    )
    ratio = ratio_to(tuned_whole, faster_peer(tuned_whole))
    print_target(
        f"tuned, N = {tuned}, whole run", f"{ratio:.2f}x faster peer", "<= 1.0x", ratio <= 1.0
    )
    ratio = ratio_to(tuned_in_loop, "pytest-httpx")
    target = "<= 1.0x pytest-httpx"
    print_target(
        "in loop (one-time costs removed)", f"{ratio:.2f}x pytest-httpx", target, ratio <= 1.0
    )
    grown = median(kept[SPECTRON.name])
    measure = f"memory kept per test beyond pytest's, test {span[0]} to {many}"
    print_target(measure, f"{grown:.0f} bytes", "< 1 KiB per test", grown < 1024)


def ratio_to(results: dict[str, list[float]], baseline: str) -> float:
    return median(results[SPECTRON.name]) / median(results[baseline])


if __name__ == "__main__":
    main()
