"""The retry test written for each contender, and one run of a generated suite of it.

Every contender tests the same code, the typed client's ``state()``, in the same situation:
the first attempt is refused (a connection error), the second answers 503, the third succeeds.
Every test asserts three attempts and the waits 0.25 s and 0.5 s, and sleeps for none of them.
The peers are set up as their best users would: pytest-httpx with its fixture,
``add_exception`` / ``add_response`` and the client's sleep hook patched (``use_sleep``);
respx with a ``side_effect`` list and the same patched sleep.

The ``usual`` variant writes the peers' tests as their READMEs show, with an ``httpx.Client()``
built in every test (so an SSL context each); in ``tuned`` every client of the run shares one
SSL context, built when the module is imported. pytest-spectron's clients share one SSL context
per process in both (its default), so ``tuned`` is the like-with-like comparison. The peers'
modules import the client; pytest-spectron's imports nothing of it, as its users' need not: its
fixtures load the client when first used, so the first test pays for it instead.

The async contenders are pytest-spectron's test written async, on ``async_spectron``, under
pytest-asyncio (``@pytest.mark.asyncio``) and under anyio's plugin (``@pytest.mark.anyio``, its
asyncio backend): the same request, the same assertions.

Each run is a fresh ``python -m pytest`` with plugin autoloading off and exactly the contender's
plugins loaded (``-p``), plus the probe (``_probe.py``) that times the loop from inside; or, for
its CPU time, the same run without the probe (``run_suite_cpu``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from _common import BENCHMARKS, child_environment, children_cpu

__all__ = [
    "ANYIO_EMPTY",
    "ANYIO_SPECTRON",
    "ASYNCIO_EMPTY",
    "ASYNCIO_SPECTRON",
    "CLIENT_ALONE",
    "CONTENDERS",
    "ISOLATED_CONFIG",
    "PLAIN",
    "PYTEST_HTTPX",
    "RAW_HTTPX",
    "REAL_SLEEP",
    "RESPX",
    "SPECTRON",
    "SPECTRON_PLUGIN",
    "Contender",
    "Run",
    "run_suite",
    "run_suite_cpu",
    "write_suite",
]

PEER_HEADER = """\
import httpx
import pytest

from pytest_spectron import Spectron, use_sleep

ENDPOINT = "http://spectron.test"
URL = ENDPOINT + "/api/v1/ctx/state"
STATE = {"identity": {"entities": [], "attributes": [], "relations": []},
         "knowledge": {"entities": [], "attributes": [], "relations": []},
         "context": {"entities": [], "attributes": [], "relations": []},
         "instructions": [], "unknowns": []}


async def no_async_sleep(seconds):
    raise AssertionError("the tests are sync")
"""
# pytest-spectron's module imports nothing of it: its fixtures load what they need on first use.
SPECTRON_HEADER = "import pytest\n"
# anyio's own anyio_backend runs every test on each installed backend (trio too): asyncio only,
# module-scoped as anyio's own, the way its documentation shows.
ANYIO_HEADER = """\
import pytest


@pytest.fixture(scope="module")
def anyio_backend():
    return "asyncio"
"""
REAL_SLEEP_HEADER = (
    "import asyncio\nimport time\n\nimport pytest\n\nfrom pytest_spectron import use_sleep\n"
)

SPECTRON_TEST = """
@pytest.mark.spectron_fault("state", "connect", 503)
def test_retry_{n}(spectron, spectron_mock, spectron_clock):
    spectron.state()
    spectron_mock.assert_attempts("state", 3)
    assert spectron_clock.sleeps == [0.25, 0.5]
"""

ASYNC_SPECTRON_TEST = """
@pytest.mark.{runner}
@pytest.mark.spectron_fault("state", "connect", 503)
async def test_retry_{{n}}(async_spectron, spectron_mock, spectron_clock):
    await async_spectron.state()
    spectron_mock.assert_attempts("state", 3)
    assert spectron_clock.sleeps == [0.25, 0.5]
"""

HTTPX_TEST = """
def test_retry_{n}(httpx_mock):
    httpx_mock.add_exception(httpx.ConnectError("refused"), url=URL)
    httpx_mock.add_response(url=URL, status_code=503)
    httpx_mock.add_response(url=URL, json=STATE)
    waits = []
    with use_sleep(waits.append, no_async_sleep), httpx.Client({verify}) as http:
        Spectron("ctx", ENDPOINT, "key", http_client=http).state()
    assert len(httpx_mock.get_requests()) == 3
    assert waits == [0.25, 0.5]
"""

RESPX_TEST = """
def test_retry_{n}(respx_mock):
    route = respx_mock.get(URL).mock(side_effect=[
        httpx.ConnectError("refused"), httpx.Response(503), httpx.Response(200, json=STATE),
    ])
    waits = []
    with use_sleep(waits.append, no_async_sleep), httpx.Client({verify}) as http:
        Spectron("ctx", ENDPOINT, "key", http_client=http).state()
    assert route.call_count == 3
    assert waits == [0.25, 0.5]
"""

EMPTY_TEST = """
def test_empty_{n}():
    pass
"""

# The floor of any retry test through httpx: its three requests, answered by canned bytes on a
# ``MockTransport``, no retry policy, no plugin (a client per test, as the other tests build).
RAW_HTTPX_HEADER = """\
import httpx

URL = "http://spectron.test/api/v1/ctx/state"
CANNED = httpx.MockTransport(lambda request: httpx.Response(200, content=b"{}"))
"""
RAW_HTTPX_TEST = """
def test_three_requests_{n}():
    with httpx.Client(transport=CANNED) as http:
        for _ in range(3):
            http.get(URL)
"""

# The typed client alone: the retry test's three attempts answered by canned replies, its
# sleeps caught, no plugin. What a test of the client costs before any mock's work.
CLIENT_ALONE_TEST = """
def test_retry_{n}():
    replies = [
        httpx.ConnectError("refused"), httpx.Response(503), httpx.Response(200, json=STATE),
    ]

    def answer(request):
        reply = replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply

    waits = []
    transport = httpx.MockTransport(answer)
    with use_sleep(waits.append, no_async_sleep), Spectron(
        "ctx", ENDPOINT, "key", transport=transport
    ) as client:
        client.state()
    assert not replies
    assert waits == [0.25, 0.5]
"""

ASYNC_EMPTY_TEST = """
@pytest.mark.{runner}
async def test_empty_{{n}}():
    pass
"""

REAL_SLEEP_TEST = """
@pytest.mark.spectron_fault("state", "connect", 503)
def test_retry_{n}(spectron, spectron_mock):
    with use_sleep(time.sleep, asyncio.sleep):  # past the virtual clock: wait for real
        spectron.state()
    spectron_mock.assert_attempts("state", 3)
"""


@dataclass(frozen=True)
class Contender:
    """One way of writing the test: its template and the plugins its run loads (``-p``)."""

    name: str
    header: str
    template: str
    plugins: tuple[str, ...]

    def source(self, tests: int, *, tuned: bool) -> str:
        """The generated module: ``tests`` copies of the test."""
        shares = tuned and "{verify}" in self.template
        template = self.template.replace("{verify}", "verify=SSL_CONTEXT" if shares else "")
        shared = "SSL_CONTEXT = httpx.create_ssl_context()\n" if shares else ""
        return self.header + shared + "".join(template.format(n=n) for n in range(tests))


SPECTRON_PLUGIN = "pytest_spectron.plugin"
SPECTRON = Contender("pytest-spectron", SPECTRON_HEADER, SPECTRON_TEST, (SPECTRON_PLUGIN,))
PYTEST_HTTPX = Contender("pytest-httpx", PEER_HEADER, HTTPX_TEST, ("pytest_httpx",))
RESPX = Contender("respx", PEER_HEADER, RESPX_TEST, ("respx.plugin",))
CONTENDERS = (SPECTRON, PYTEST_HTTPX, RESPX)
PLAIN = Contender("(reference) plain pytest, empty test", "", EMPTY_TEST, ())
RAW_HTTPX = Contender(
    "(reference) three raw httpx requests, canned", RAW_HTTPX_HEADER, RAW_HTTPX_TEST, ()
)
CLIENT_ALONE = Contender(
    "(reference) the typed client alone, canned", PEER_HEADER, CLIENT_ALONE_TEST, ()
)
REAL_SLEEP = Contender(
    "pytest-spectron, real sleeping", REAL_SLEEP_HEADER, REAL_SLEEP_TEST, (SPECTRON_PLUGIN,)
)
ASYNCIO_SPECTRON = Contender(
    "pytest-spectron async, pytest-asyncio",
    SPECTRON_HEADER,
    ASYNC_SPECTRON_TEST.format(runner="asyncio"),
    (SPECTRON_PLUGIN, "pytest_asyncio.plugin"),
)
ANYIO_SPECTRON = Contender(
    "pytest-spectron async, anyio",
    ANYIO_HEADER,
    ASYNC_SPECTRON_TEST.format(runner="anyio"),
    (SPECTRON_PLUGIN, "anyio.pytest_plugin"),
)
# The async runners' own floor: an empty async test, with the runner's plugin alone.
ASYNCIO_EMPTY = Contender(
    "(reference) pytest-asyncio, empty async test",
    SPECTRON_HEADER,
    ASYNC_EMPTY_TEST.format(runner="asyncio"),
    ("pytest_asyncio.plugin",),
)
ANYIO_EMPTY = Contender(
    "(reference) anyio, empty async test",
    ANYIO_HEADER,
    ASYNC_EMPTY_TEST.format(runner="anyio"),
    ("anyio.pytest_plugin",),
)


ISOLATED_CONFIG = "[pytest]\n"
"""A suite's own ``pytest.ini``: pytest looks no further up for a configuration, so a suite
written inside a project (a temporary directory under ``.nox/``) never runs with that
project's options."""


def write_suite(directory: Path, contender: Contender, tests: int, *, tuned: bool) -> Path:
    """Write the contender's suite of ``tests`` tests, with its own ``pytest.ini``."""
    directory.mkdir(parents=True)
    (directory / "pytest.ini").write_text(ISOLATED_CONFIG)
    (directory / "test_generated.py").write_text(contender.source(tests, tuned=tuned))
    return directory


@dataclass(frozen=True)
class Run:
    """What one run of a suite measured: seconds from the outside, the rest from the probe."""

    tests: int
    wall: float
    loop_started: float
    first_ends: list[float]
    last_end: float
    rss_start: int
    rss_peak: int
    kept: int | None
    """Bytes allocated between the probe's growth span's tests and still held at its end."""

    @property
    def whole_run_per_test(self) -> float:
        """Seconds per test of the whole process: start-up, collection, loop, exit."""
        return self.wall / self.tests

    @property
    def in_loop_per_test(self) -> float:
        """Seconds per test from the end of the first test to the end of the last.

        The first test carries every one-time cost (imports on first use, an SSL context
        built once), so leaving it out removes those costs equally for every contender.
        """
        return (self.last_end - self.first_ends[0]) / (self.tests - 1)

    @property
    def first_test(self) -> float:
        """Seconds the first test took, from the start of the loop."""
        return self.first_ends[0] - self.loop_started

    @property
    def later_test(self) -> float:
        """Seconds the next tests took, on average: a test once everything is warm."""
        return (self.first_ends[-1] - self.first_ends[0]) / (len(self.first_ends) - 1)


def _run(directory: Path, contender: Contender, *options: str) -> None:
    """Run the suite in ``directory`` in a fresh process; fail loudly if a test fails."""
    plugins = [argument for plugin in contender.plugins for argument in ("-p", plugin)]
    command = [
        *(sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider"),
        *plugins,
        *options,
    ]
    path = os.pathsep.join(filter(None, [str(BENCHMARKS), os.environ.get("PYTHONPATH")]))
    environment = child_environment(PYTHONPATH=path, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    finished = subprocess.run(
        command, cwd=directory, env=environment, capture_output=True, text=True
    )
    if finished.returncode != 0:
        raise SystemExit(
            f"the {contender.name} suite in {directory} failed:\n"
            f"{finished.stdout[-3000:]}{finished.stderr[-3000:]}"
        )


def run_suite(
    directory: Path, contender: Contender, tests: int, growth: tuple[int, int] | None = None
) -> Run:
    """Run the suite in ``directory`` in a fresh process, with the probe; fail if a test fails."""
    out = directory / "probe.json"
    growing = [f"--probe-growth={growth[0]},{growth[1]}"] if growth else []
    started = time.perf_counter()
    _run(directory, contender, "-p", "_probe", f"--probe-out={out}", *growing)
    wall = time.perf_counter() - started
    probe = json.loads(out.read_text())
    return Run(
        tests=probe["tests"],
        wall=wall,
        loop_started=probe["loop_started"],
        first_ends=probe["first_ends"],
        last_end=probe["last_end"],
        rss_start=probe["rss_start"],
        rss_peak=probe["rss_peak"],
        kept=probe["kept"],
    )


def run_suite_cpu(directory: Path, contender: Contender) -> float:
    """CPU seconds (user + system) of one run of the suite in a fresh process, probe-less.

    The whole process: start-up, collection, the loop and exit. Without the probe, whose
    per-test read of ``/proc`` would add the same small cost to an empty test as to a retry
    test and so shrink their ratio.
    """
    before = children_cpu()
    _run(directory, contender)
    return children_cpu() - before
