"""Per-test cost of a retry test, and peak memory, written three ways (and once with real sleep).

Each generated suite has N tests; each test makes one call that fails twice with 503 and then
succeeds, and asserts three attempts and the waits 0.25 s and 0.5 s:

  (a) pytest-spectron: the marker and the fixtures (the fake, the journal, the virtual clock);
  (b) bare respx: a hand-written side-effect list and a monkeypatched sleep;
  (c) pytest-httpx: registered responses and a monkeypatched sleep;
  (d) (a) without the virtual clock: the client really sleeps (run on a few tests only).

    python benchmarks/suite_cost.py [--tests 500] [--rounds 3]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import alternate, report

HEADER = "import pytest\nimport httpx\nfrom pytest_spectron import Spectron\n"

SPECTRON_TEST = """
@pytest.mark.spectron_fault("state", status=503, times=2)
def test_retry_{n}(spectron, spectron_mock, spectron_clock):
    spectron.state()
    spectron_mock.assert_attempts("state", 3)
    assert spectron_clock.sleeps == [0.25, 0.5]
"""

STATE = (
    '{"identity": {"entities": [], "attributes": [], "relations": []}, '
    '"knowledge": {"entities": [], "attributes": [], "relations": []}, '
    '"context": {"entities": [], "attributes": [], "relations": []}, '
    '"instructions": [], "unknowns": []}'
)

RESPX_TEST = """
def test_retry_{n}(respx_mock):
    import json
    from pytest_spectron.client import use_sleep
    waits = []
    with use_sleep(waits.append, None):
        route = respx_mock.get("http://spectron.test/api/v1/ctx/state").mock(side_effect=[
            httpx.Response(503), httpx.Response(503), httpx.Response(200, json=json.loads(STATE)),
        ])
        Spectron("ctx", "http://spectron.test", "key").state()
        assert route.call_count == 3
        assert waits == [0.25, 0.5]
"""

HTTPX_TEST = """
def test_retry_{n}(httpx_mock):
    import json
    from pytest_spectron.client import use_sleep
    waits = []
    with use_sleep(waits.append, None):
        url = "http://spectron.test/api/v1/ctx/state"
        httpx_mock.add_response(url=url, status_code=503)
        httpx_mock.add_response(url=url, status_code=503)
        httpx_mock.add_response(url=url, json=json.loads(STATE))
        Spectron("ctx", "http://spectron.test", "key").state()
        assert len(httpx_mock.get_requests()) == 3
        assert waits == [0.25, 0.5]
"""

REAL_SLEEP_TEST = """
def test_retry_{n}(spectron_mock):
    import asyncio, time
    from pytest_spectron.client import use_sleep
    with use_sleep(time.sleep, asyncio.sleep):  # undo the virtual clock: wait for real
        spectron_mock.fail("state", 503, times=2)
        spectron_mock.client().state()
        spectron_mock.assert_attempts("state", 3)
"""

SUITES = {
    "(a) pytest-spectron": (SPECTRON_TEST, []),
    "(b) bare respx": (RESPX_TEST, ["-p", "no:spectron"]),
    "(c) pytest-httpx": (HTTPX_TEST, ["-p", "no:spectron"]),
}


def write_suite(directory: Path, template: str, tests: int) -> Path:
    path = directory / "test_generated.py"
    body = "".join(template.format(n=n) for n in range(tests))
    path.write_text(HEADER + f"STATE = {STATE!r}\n" + body)
    (directory / "pytest.ini").write_text(
        "[pytest]\naddopts = -p no:randomly -p no:cacheprovider\n"
    )
    return directory


def run_suite(directory: Path, extra: list[str], tests: int) -> tuple[float, float]:
    """(seconds per test, peak RSS in MiB) of one run of the suite in a fresh process."""
    command = [sys.executable, "-c", PEAK_RSS_RUNNER, "-q", "-x", *extra]
    started = time.perf_counter()
    finished = subprocess.run(command, cwd=directory, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if finished.returncode != 0:
        raise SystemExit(f"the suite in {directory} failed:\n{finished.stdout[-2000:]}")
    peak = float(finished.stdout.strip().splitlines()[-1])
    return elapsed / tests, peak


PEAK_RSS_RUNNER = """
import resource, sys, pytest
code = pytest.main(sys.argv[1:])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
sys.exit(code)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    memory: dict[str, list[float]] = {name: [] for name in SUITES}
    with tempfile.TemporaryDirectory() as root:
        directories = {}
        for index, (name, (template, extra)) in enumerate(SUITES.items()):
            directory = Path(root) / f"suite{index}"
            directory.mkdir()
            directories[name] = (write_suite(directory, template, arguments.tests), extra)

        def runner(name: str):  # type: ignore[no-untyped-def]
            def run() -> float:
                directory, extra = directories[name]
                per_test, peak = run_suite(directory, extra, arguments.tests)
                memory[name].append(peak)
                return per_test * 1000

            return run

        timings = alternate({name: runner(name) for name in SUITES}, arguments.rounds)
        slow = Path(root) / "slow"
        slow.mkdir()
        write_suite(slow, REAL_SLEEP_TEST, 4)
        real, _ = run_suite(slow, [], 4)
    fastest_alternative = min(
        ("(b) bare respx", "(c) pytest-httpx"),
        key=lambda n: sorted(timings[n])[len(timings[n]) // 2],
    )
    report(
        f"Per-test cost, {arguments.tests} retry tests (ms per test)",
        timings,
        "ms",
        fastest_alternative,
    )
    print(f"  {'(d) pytest-spectron, real sleeping':<34} {real * 1000:>12.3f} ms")
    report("Peak RSS of the whole run (MiB)", memory, "MiB", fastest_alternative)


if __name__ == "__main__":
    main()
