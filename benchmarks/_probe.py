"""A pytest plugin that times the test loop and samples memory from inside the run.

Loaded into a benchmark's inner pytest run with ``-p _probe --probe-out=PATH``. At the end it
writes to PATH, as JSON: when the loop started, when each of the first tests and the last ended
(``time.perf_counter`` seconds), the RSS when the loop started, its highest sample after any
test, and the RSS after each checkpoint test (``--probe-checkpoints=1000,5000``: after the
1,000th and the 5,000th), taken after a garbage collection so that only what is kept counts.
Every contender carries the same probe, so its small cost (one read of ``/proc`` per test) is
the same for all.
"""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Generator
from pathlib import Path

import pytest
from _common import rss_bytes

FIRST_TESTS = 3
"""How many of the first tests' end times are kept: enough to tell the first use apart."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("probe", "benchmark probe")
    group.addoption("--probe-out", help="where to write the probe's JSON")
    group.addoption("--probe-checkpoints", default="", help="test counts to read RSS after")


def pytest_configure(config: pytest.Config) -> None:
    out = config.getoption("probe_out")
    if out:
        checkpoints = {
            int(text) for text in config.getoption("probe_checkpoints").split(",") if text
        }
        config.pluginmanager.register(Probe(Path(out), checkpoints), "benchmark-probe")


class Probe:
    """The loop's timings and memory samples of one run."""

    def __init__(self, out: Path, checkpoints: set[int]) -> None:
        self.out = out
        self.checkpoints = checkpoints
        self.done = 0
        self.loop_started = 0.0
        self.first_ends: list[float] = []
        self.last_end = 0.0
        self.rss_start = 0
        self.rss_peak = 0
        self.rss_at: dict[int, int] = {}

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
                    "rss_at": self.rss_at,
                }
            )
        )

    def pytest_runtest_logfinish(self) -> None:
        self.last_end = time.perf_counter()
        self.done += 1
        if self.done <= FIRST_TESTS:
            self.first_ends.append(self.last_end)
        self.rss_peak = max(self.rss_peak, rss_bytes())
        if self.done in self.checkpoints:
            gc.collect()
            self.rss_at[self.done] = rss_bytes()
