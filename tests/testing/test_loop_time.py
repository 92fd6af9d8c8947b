"""An event loop on a virtual clock: timers jump, tasks interleave, real waits are bounded."""

from __future__ import annotations

import asyncio
import socket
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio
import pytest
import trio.testing

from pytest_spectron.testing.service._clock import VirtualClock
from pytest_spectron.testing.service._loop_time import RealTimeWaitError, run_on_clock
from pytest_spectron.testing.service._trio_time import new_trio_clock

T = TypeVar("T")

BACKENDS = ["asyncio", "trio"]


def on_clock(
    backend: str,
    clock: VirtualClock,
    body: Callable[[], Awaitable[T]],
    *,
    limit: float = 5.0,
) -> T:
    """Run ``body`` on ``backend`` with its loop on ``clock``'s time, as the plugin does."""
    options: dict[str, Any] = {"clock": new_trio_clock()} if backend == "trio" else {}
    return anyio.run(run_on_clock, clock, limit, body, backend=backend, backend_options=options)


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_hour_of_sleep_moves_the_clock_and_the_loop_together(backend: str) -> None:
    """A one-hour sleep takes no real time; the clock and the loop both read 3600 after it."""
    clock = VirtualClock()

    async def body() -> float:
        await anyio.sleep(3600)
        return anyio.current_time()

    started = time.monotonic()
    loop_time = on_clock(backend, clock, body)
    assert (loop_time, clock.now) == (3600, 3600)
    assert time.monotonic() - started < 1


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_deadline_fires_at_its_virtual_time(backend: str) -> None:
    """A 0.5 s deadline around a longer wait raises TimeoutError at virtual 0.5 s."""
    clock = VirtualClock()

    async def body() -> None:
        with anyio.fail_after(0.5):
            await anyio.sleep(10)

    with pytest.raises(TimeoutError):
        on_clock(backend, clock, body)
    assert clock.now == 0.5


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_retry_wait_lets_other_tasks_run_in_time_order(backend: str) -> None:
    """A task in a retry wait (``sleep_async``) yields: a ticker runs at 0.1 and 0.2 first."""
    clock = VirtualClock()
    seen: list[tuple[str, float]] = []

    async def ticker() -> None:
        for _ in range(3):
            await anyio.sleep(0.1)
            seen.append(("tick", clock.now))

    async def retrying() -> None:
        await clock.sleep_async(0.25)
        seen.append(("retried", clock.now))

    async def body() -> None:
        async with anyio.create_task_group() as group:
            group.start_soon(ticker)
            group.start_soon(retrying)

    on_clock(backend, clock, body)
    assert [what for what, _ in seen] == ["tick", "tick", "retried", "tick"]
    assert [round(when, 9) for _, when in seen] == [0.1, 0.2, 0.25, 0.3]
    assert clock.sleeps == [0.25]


def test_asyncio_wait_for_timeout_and_call_later_share_the_clock() -> None:
    """``wait_for``, ``call_later`` and ``loop.time()`` all follow the virtual clock."""
    clock = VirtualClock()
    fired: list[float] = []

    async def body() -> None:
        loop = asyncio.get_running_loop()
        loop.call_later(2.0, lambda: fired.append(clock.now))
        with pytest.raises(asyncio.TimeoutError):  # TimeoutError itself from Python 3.11 on
            await asyncio.wait_for(asyncio.sleep(60), 1.5)
        assert loop.time() == clock.now == 1.5
        await asyncio.sleep(1)
        if sys.version_info >= (3, 11):
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.5):
                    await asyncio.Event().wait()

    on_clock("asyncio", clock, body)
    assert fired == [2.0]
    assert clock.now == (3.0 if sys.version_info >= (3, 11) else 2.5)


def test_a_timer_set_before_the_test_keeps_its_delay_in_virtual_time() -> None:
    """A timer scheduled in real time before the loop goes virtual fires after the same delay."""
    clock = VirtualClock()
    fired: list[float] = []

    async def main() -> float:
        loop = asyncio.get_running_loop()
        handle = loop.call_later(30, lambda: fired.append(clock.now))

        async def body() -> None:
            await asyncio.sleep(10)

        await run_on_clock(clock, 5.0, body)
        return handle.when() - loop.time()

    remaining = asyncio.run(main())
    assert fired == []
    # Back on real time, 20 of its 30 seconds are left.
    assert 19 < remaining <= 20


def test_the_loop_is_back_on_real_time_after_the_test() -> None:
    """Once the test body ends, ``loop.time()`` is the real monotonic clock again."""
    clock = VirtualClock()

    async def main() -> float:
        await run_on_clock(clock, 5.0, asyncio.sleep, 100)
        return asyncio.get_running_loop().time()

    assert abs(asyncio.run(main()) - time.monotonic()) < 5
    assert clock.now == 100


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_wait_only_a_thread_can_end_fails_after_the_real_limit(backend: str) -> None:
    """A test awaiting a stuck thread fails after ``limit`` real seconds, naming its await."""
    clock = VirtualClock()
    release = threading.Event()

    async def body() -> None:
        await anyio.to_thread.run_sync(release.wait, abandon_on_cancel=True)

    started = time.monotonic()
    try:
        with pytest.raises(RealTimeWaitError) as raised:
            on_clock(backend, clock, body, limit=0.3)
    finally:
        release.set()
    assert 0.3 <= time.monotonic() - started < 3
    message = str(raised.value)
    assert "waited 0.3 s of real time" in message
    assert "body (tests/testing/test_loop_time.py:" in message
    assert "release.wait" in message
    assert "--spectron-real-wait" in message
    assert clock.now == 0


def test_an_asyncio_thread_in_flight_is_waited_for_without_moving_time() -> None:
    """A ``to_thread`` call under a deadline finishes in real time; virtual time stands still."""
    clock = VirtualClock()

    async def body() -> str:
        return await asyncio.wait_for(asyncio.to_thread(_slow_answer), 1.0)

    assert on_clock("asyncio", clock, body) == "answer"
    assert clock.now == 0


def test_a_stuck_asyncio_thread_is_named_by_its_function() -> None:
    """The failure names the function a ``run_in_executor``/``to_thread`` thread runs."""
    clock = VirtualClock()
    release = threading.Event()
    # The loop's executor waits for its threads when the run ends: let this one go by then.
    threading.Timer(0.5, release.set).start()

    async def body() -> None:
        await asyncio.to_thread(release.wait)

    with pytest.raises(RealTimeWaitError, match=r"a thread running Event\.wait\(\)"):
        on_clock("asyncio", clock, body, limit=0.2)


def test_a_socket_reply_within_the_grace_comes_before_a_timer_jump() -> None:
    """With a socket open, a reply that comes soon in real time beats a 5 s read deadline."""
    clock = VirtualClock()
    ours, theirs = socket.socketpair()

    async def body() -> bytes:
        reader, writer = await asyncio.open_connection(sock=ours)
        threading.Timer(0.02, theirs.sendall, args=(b"pong",)).start()
        try:
            return await asyncio.wait_for(reader.read(4), 5.0)
        finally:
            writer.close()

    try:
        assert on_clock("asyncio", clock, body) == b"pong"
    finally:
        theirs.close()
    assert clock.now == 0


def test_trio_needs_the_plugins_clock() -> None:
    """Under trio with the system clock, running on virtual time says what to change."""
    clock = VirtualClock()
    with pytest.raises(RuntimeError, match="needs the trio run to use a MockClock"):
        anyio.run(run_on_clock, clock, 5.0, trio.sleep, 0, backend="trio")


def test_trio_time_and_the_clock_agree_and_stay_apart_after() -> None:
    """Under trio the clock reads the run's time; after the test the clock keeps its reading."""
    clock = VirtualClock()
    run_clock = new_trio_clock()

    async def main() -> tuple[float, float]:
        await trio.sleep(5)  # before the test: the run's own time moves, the clock's does not
        assert clock.now == 0
        await run_on_clock(clock, 5.0, trio.sleep, 2)
        inside = clock.now
        await trio.sleep(1)
        return inside, trio.current_time()

    inside, after = trio.run(main, clock=run_clock)
    assert (inside, after, clock.now) == (7, 8, 7)
    assert isinstance(run_clock, trio.testing.MockClock)


def test_sync_sleep_on_a_virtual_loop_still_moves_time_at_once() -> None:
    """A sync retry wait inside an async test records and moves the clock, as before."""
    clock = VirtualClock()

    async def body() -> float:
        clock.sleep(0.25)
        return asyncio.get_running_loop().time()

    assert on_clock("asyncio", clock, body) == 0.25
    assert clock.sleeps == [0.25]


def _slow_answer() -> str:
    time.sleep(0.05)
    return "answer"
