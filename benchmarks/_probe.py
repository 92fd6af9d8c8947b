"""A pytest plugin that times the test loop and samples memory from inside the run.

Loaded into a benchmark's inner pytest run with ``-p _probe --probe-out=PATH``. At the end it
writes to PATH, as JSON: when the loop started, when each of the first tests and the last ended
(``time.perf_counter`` seconds), the RSS when the loop started and its highest sample after any
test. With ``--probe-growth=1000,5000`` it also traces Python's allocations (``tracemalloc``)
from the end of the 1,000th test to the end of the 5,000th, each after a garbage collection:
what those tests allocated and the run still holds. RSS could not tell: a run reuses the memory
collection freed without the RSS moving. Every contender carries the same probe, so its small
cost (one read of ``/proc`` per test) is the same for all; tracing slows a run, so timing runs
go without it.
"""

from __future__ import annotations

import gc
import json
import time
import tracemalloc
from collections.abc import Generator
from pathlib import Path

import pytest
from _common import rss_bytes

FIRST_TESTS = 3
"""How many of the first tests' end times are kept: enough to tell the first use apart."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("probe", "benchmark probe")
    group.addoption("--probe-out", help="where to write the probe's JSON")
    group.addoption("--probe-growth", default="", help="FROM,TO: trace allocations between tests")


def pytest_configure(config: pytest.Config) -> None:
    out = config.getoption("probe_out")
    if out:
        growth = config.getoption("probe_growth")
        span = tuple(int(text) for text in growth.split(",")) if growth else (0, 0)
        config.pluginmanager.register(Probe(Path(out), span), "benchmark-probe")


class Probe:
    """The loop's timings and memory samples of one run."""

    def __init__(self, out: Path, span: tuple[int, ...]) -> None:
        self.out = out
        self.trace_from, self.trace_to = span
        self.done = 0
        self.loop_started = 0.0
        self.first_ends: list[float] = []
        self.last_end = 0.0
        self.rss_start = 0
        self.rss_peak = 0
        self.kept: int | None = None

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Generator[None, None, None]:
        gc.collect()
        self.rss_start = self.rss_peak = rss_bytes()
        self.loop_started = time.perf_counter()
        yield
        self.out.write_text(
            json.dumps(
                {
                    "tests": self.done,
                    "loop_started": self.loop_started,
                    "first_ends": self.first_ends,
                    "last_end": self.last_end,
                    "rss_start": self.rss_start,
                    "rss_peak": self.rss_peak,
                    "kept": self.kept,
                }
            )
        )

    def pytest_runtest_logfinish(self) -> None:
        self.last_end = time.perf_counter()
        self.done += 1
        if self.done <= FIRST_TESTS:
            self.first_ends.append(self.last_end)
        self.rss_peak = max(self.rss_peak, rss_bytes())
        if self.done == self.trace_from:
            gc.collect()
            tracemalloc.start()
        elif self.done == self.trace_to and tracemalloc.is_tracing():
            gc.collect()
            self.kept = tracemalloc.get_traced_memory()[0]
            tracemalloc.stop()
