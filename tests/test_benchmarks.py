"""Every benchmark script still runs and prints its tables (``--quick``: tiny sizes, one round).

The figures of a ``--quick`` run measure nothing and are never asserted on; what is checked is
that each script completes, prints every table with a min / median / max row per contender,
and ends with its targets. So ``make bench`` cannot rot between the runs that fill its README.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
FIGURE = r"\s+-?[\d.]+"
SCRIPTS = {
    "suite_cost.py": (
        "usual (peers build a client per test): whole run per test",
        "tuned (one SSL context for every client): in loop per test",
        "peak RSS during the loop",
        "memory kept per test, test 8 to 40 (tracemalloc)",
        "the same beyond pytest's own",
        "the sum of the waits, 0.25 + 0.5 s: 750 ms per test",
    ),
    "startup.py": (
        "pytest --collect-only, one test",
        "First use in a session: first test minus a warm test",
        "a test module that imports Spectron",
    ),
    "client_overhead.py": (
        "state: time per call",
        "remember: time per call",
        "recall: time per call",
    ),
    "explore_cost.py": (
        "Whole run (a fresh process)",
        "Test loop (the run minus the median collect-only run)",
        "runs per explored test",
    ),
    "state_cost.py": (
        "state at 200 facts",
        "profile at 200 facts",
        "json.dumps of its answer",
    ),
    "floor.py": (
        "1. CPU one more test adds, (T(6) - T(2)) / 4",
        "1. the same over the empty test's, paired within each round",
        "6. the same over the sync test's, paired within each round",
        "pytest-spectron async, pytest-asyncio",
        "pytest-spectron async, anyio",
        "2. the same minus the bare pytest run's (one empty test), paired within each round",
    ),
    "server_throughput.py": (
        "latency seen by the clients, p99",
        "POST remember, 2 clients, the store growing to 80 facts",
        "--journal-limit 0 (no cap)",
    ),
    "server_throughput.py --soak": (
        "soak, mixed (state 50%, remember 30%, recall 20%), 2 clients, 2 s from an empty store: "
        "requests/s per window",
        "mean size of a GET state answer",
        "mean size of a GET of one entity answer",
        "mean latency, recall",
        "second half over the first",
    ),
    "server_floor.py": (
        "GET state, 2 client processes, 40 requests a run",
        "http.server",
        "raw socket per thread",
        "asyncio protocol",
        "2 client processes: serve's req/s over each, paired by round",
    ),
}


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_script_prints_its_tables(script: str) -> None:
    """The script's ``--quick`` run succeeds, prints its tables and its targets."""
    name, *options = script.split()
    finished = subprocess.run(
        [sys.executable, str(BENCHMARKS / name), *options, "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    output = finished.stdout
    for heading in (*SCRIPTS[script], "min     median        max", "\nTargets\n"):
        assert heading in output, f"{script} printed no {heading!r}:\n{output}"
    # A row per contender: its name, then minimum, median and maximum.
    assert re.search(rf"^  \S.*?{FIGURE}{FIGURE}{FIGURE}", output, re.MULTILINE), output
    targets = output.split("\nTargets\n", 1)[1].strip().splitlines()
    assert targets, output
