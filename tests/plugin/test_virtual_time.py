"""Under ``spectron_clock``, an async test's event loop runs on virtual time, under every runner.

Each behaviour is checked under pytest-asyncio and under anyio's plugin with both of its
backends (asyncio and trio), as a user would run them.
"""

from __future__ import annotations

import pytest

RUNNERS = {
    "pytest-asyncio": ("-p", "asyncio"),
    "anyio": ("-p", "anyio"),
}

# The same test body for every runner: a header that marks it, and a fixture for anyio's backends.
HEADERS = {
    "pytest-asyncio": """
import asyncio
import time
import pytest

async_test = pytest.mark.asyncio
""",
    "anyio": """
import asyncio
import time
import pytest

async_test = pytest.mark.anyio

@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request):
    return request.param
""",
}

PER_BACKEND = {"pytest-asyncio": 1, "anyio": 2}


def run(pytester: pytest.Pytester, runner: str, body: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(HEADERS[runner] + body)
    return pytester.runpytest(*RUNNERS[runner], *args)


@pytest.mark.parametrize("runner", RUNNERS)
def test_a_deadline_shorter_than_the_retries_fires_as_in_production(
    pytester: pytest.Pytester, runner: str
) -> None:
    """A 0.5 s deadline around ``state()`` under 503x3 raises TimeoutError at 0.5 virtual s."""
    result = run(
        pytester,
        runner,
        """
import anyio

@async_test
@pytest.mark.spectron_fault("state", status=503, times=3)
async def test_deadline(async_spectron, spectron_clock, spectron_mock):
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        with anyio.fail_after(0.5):
            await async_spectron.state()
    assert spectron_clock.now == anyio.current_time() == 0.5
    assert spectron_clock.sleeps == [0.25, 0.5]
    assert [attempt.time for attempt in spectron_mock.attempts("state")] == [0, 0.25]
    assert time.monotonic() - started < 0.5
""",
    )
    result.assert_outcomes(passed=PER_BACKEND[runner])


def test_wait_for_around_a_retried_call_raises_timeout_error(pytester: pytest.Pytester) -> None:
    """The documented case: ``asyncio.wait_for(state(), 0.5)`` under 503x3 times out."""
    result = run(
        pytester,
        "pytest-asyncio",
        """
@async_test
@pytest.mark.spectron_fault("state", status=503, times=3)
async def test_deadline(async_spectron, spectron_clock):
    with pytest.raises(asyncio.TimeoutError):  # TimeoutError itself from Python 3.11 on
        await asyncio.wait_for(async_spectron.state(), 0.5)
    assert spectron_clock.now == asyncio.get_running_loop().time() == 0.5
""",
    )
    result.assert_outcomes(passed=1)


@pytest.mark.parametrize("runner", RUNNERS)
def test_gathered_calls_start_together_in_the_journal(
    pytester: pytest.Pytester, runner: str
) -> None:
    """Three gathered ``remember`` calls under 503x2 are all attempted at t = 0."""
    result = run(
        pytester,
        runner,
        """
import anyio

@async_test
@pytest.mark.spectron_fault("remember", "503x2")
async def test_gathered(async_spectron, spectron_mock):
    async with anyio.create_task_group() as group:
        for n in range(3):
            group.start_soon(async_spectron.remember, f"fact {n}")
    times = [(attempt.time, attempt.outcome) for attempt in spectron_mock.attempts("remember")]
    assert times == [(0, "503"), (0, "503"), (0, "200"), (0.25, "200"), (0.25, "200")]
""",
    )
    result.assert_outcomes(passed=PER_BACKEND[runner])


@pytest.mark.parametrize("runner", RUNNERS)
def test_a_call_in_backoff_lets_another_task_run(pytester: pytest.Pytester, runner: str) -> None:
    """While ``state()`` waits out its backoff, a ticker task keeps ticking in time order."""
    result = run(
        pytester,
        runner,
        """
import anyio

@async_test
@pytest.mark.spectron_fault("state", status=503, times=3)
async def test_ticker(async_spectron, spectron_clock):
    seen = []

    async def ticker():
        for _ in range(4):
            await anyio.sleep(0.5)
            seen.append(("tick", spectron_clock.now))

    async def call():
        await async_spectron.state()
        seen.append(("state", spectron_clock.now))

    async with anyio.create_task_group() as group:
        group.start_soon(ticker)
        group.start_soon(call)
    assert seen == [("tick", 0.5), ("tick", 1.0), ("tick", 1.5), ("state", 1.75), ("tick", 2.0)]
""",
    )
    result.assert_outcomes(passed=PER_BACKEND[runner])


@pytest.mark.parametrize("runner", RUNNERS)
def test_a_wait_for_a_thread_fails_after_the_real_wait_limit(
    pytester: pytest.Pytester, runner: str
) -> None:
    """A test stuck on a thread fails after ``--spectron-real-wait`` s, naming where it waits."""
    result = run(
        pytester,
        runner,
        """
import threading
import anyio

release = threading.Event()

@async_test
async def test_stuck(spectron_clock):
    threading.Timer(2, release.set).start()  # so the run can end
    await anyio.to_thread.run_sync(release.wait, abandon_on_cancel=True)
""",
        "--spectron-real-wait=0.3",
    )
    result.assert_outcomes(failed=PER_BACKEND[runner])
    result.stdout.fnmatch_lines(
        [
            "*RealTimeWaitError: the test waited 0.3 s of real time for something virtual time "
            "cannot deliver*",
            "*test_stuck (test_a_wait_for_a_thread_fails_after_the_real_wait_limit.py:*): "
            "await anyio.to_thread.run_sync(release.wait, abandon_on_cancel=True)*",
            "*--spectron-real-wait=SECONDS (ini spectron_real_wait)*",
        ]
    )


def test_a_test_without_the_clock_keeps_real_time(pytester: pytest.Pytester) -> None:
    """An async test that does not use ``spectron_clock`` runs on the real clock, as before."""
    result = run(
        pytester,
        "pytest-asyncio",
        """
@async_test
async def test_real():
    assert abs(asyncio.get_running_loop().time() - time.monotonic()) < 1
""",
    )
    result.assert_outcomes(passed=1)


def test_a_trio_test_with_an_async_fixture_runs_on_virtual_time(
    pytester: pytest.Pytester,
) -> None:
    """An async fixture starts anyio's trio run first: the run still has the virtual clock."""
    result = run(
        pytester,
        "anyio",
        """
import anyio

@pytest.fixture
async def warmed(async_spectron):
    await async_spectron.remember("seed")
    yield async_spectron

@async_test
async def test_sleep(warmed, spectron_clock):
    await anyio.sleep(3600)
    assert spectron_clock.now == anyio.current_time() >= 3600
""",
    )
    result.assert_outcomes(passed=2)


def test_sync_tests_keep_recording_waits_without_sleeping(pytester: pytest.Pytester) -> None:
    """A sync client's retry waits are recorded and move the clock, with no real sleep."""
    pytester.makepyfile(
        """
        import time
        import pytest

        @pytest.mark.spectron_fault("state", status=503, times=3)
        def test_sync(spectron, spectron_clock):
            started = time.monotonic()
            spectron.state()
            assert spectron_clock.sleeps == [0.25, 0.5, 1.0]
            assert spectron_clock.now == 1.75
            assert time.monotonic() - started < 1
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


@pytest.mark.parametrize("value", ["0", "-1", "soon", "nan"])
def test_a_bad_real_wait_limit_is_a_usage_error(pytester: pytest.Pytester, value: str) -> None:
    """``--spectron-real-wait`` takes seconds above 0; anything else stops the run, saying so."""
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest(f"--spectron-real-wait={value}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            f"*--spectron-real-wait / spectron_real_wait: got {value!r}; expected a number of "
            "seconds above 0*"
        ]
    )
