"""The one sleep hook: installations nest, end in any order, and stay apart across tasks."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Awaitable

import httpx
import pytest
import respx

from pytest_spectron import AsyncSpectron, Spectron, SpectronMock, SpectronServerError
from pytest_spectron.client import _retry, use_sleep

ENDPOINT = "http://real-spectron.test"


@pytest.fixture
def real_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """What would have been real waits: ``time.sleep`` recorded instead of slept."""
    waits: list[float] = []
    monkeypatch.setattr("time.sleep", waits.append)
    return waits


def failing_state(router: respx.MockRouter) -> None:
    router.get(f"{ENDPOINT}/api/v1/ctx/state").mock(return_value=httpx.Response(503))


def call_state(client: Spectron) -> None:
    with pytest.raises(SpectronServerError):
        client.state()


def test_mocks_stopped_out_of_order_leave_no_virtual_clock(real_sleeps: list[float]) -> None:
    """``a.start(); b.start(); a.stop(); b.stop()`` restores the real sleep."""
    a = SpectronMock(endpoint="http://a.test").start()
    b = SpectronMock(endpoint="http://b.test").start()
    a.stop()
    b.stop()
    with respx.mock(using="httpx") as router:
        failing_state(router)
        call_state(Spectron("ctx", ENDPOINT, "key", max_retries=2))
    assert real_sleeps == [0.25, 0.5]
    assert (a.clock.sleeps, b.clock.sleeps) == ([], [])


def test_the_newest_installation_still_in_place_applies(real_sleeps: list[float]) -> None:
    """Stopping the older mock first leaves the newer one's clock catching the waits."""
    a = SpectronMock(endpoint="http://a.test").start()
    b = SpectronMock(endpoint="http://b.test").start()
    a.stop()
    try:
        b.fail("state", 503)
        call_state(b.client(max_retries=1))
    finally:
        b.stop()
    assert (a.clock.sleeps, b.clock.sleeps, real_sleeps) == ([], [0.25], [])


def test_stopping_the_newer_first_returns_to_the_older(real_sleeps: list[float]) -> None:
    """Nested the usual way, the older clock applies again once the newer one stops."""
    with SpectronMock(endpoint="http://a.test") as a:
        with SpectronMock(endpoint="http://b.test") as b:
            pass
        a.fail("state", 503)
        call_state(a.client(max_retries=1))
    assert (a.clock.sleeps, b.clock.sleeps, real_sleeps) == ([0.25], [], [])


def test_application_threads_use_the_installed_hook(real_sleeps: list[float]) -> None:
    """A thread the application starts has a fresh context and still sees the mock's clock."""
    with SpectronMock() as mock:
        mock.fail("state", 503)
        worker = threading.Thread(target=call_state, args=(mock.client(max_retries=2),))
        worker.start()
        worker.join()
    assert (mock.clock.sleeps, real_sleeps) == ([0.25, 0.5], [])


def test_concurrent_tasks_with_their_own_mocks_keep_their_own_waits(
    real_sleeps: list[float],
) -> None:
    """Two asyncio tasks, each with its own mock and hook, never see each other's waits."""

    async def task(
        endpoint: str, retries: int, ready: asyncio.Event, go: asyncio.Event
    ) -> list[float]:
        with SpectronMock(endpoint=endpoint) as mock:
            mock.fail("state", 503)
            ready.set()
            await go.wait()  # both hooks are installed before either client retries
            async with AsyncSpectron("ctx", endpoint, mock.api_key, max_retries=retries) as client:
                with pytest.raises(SpectronServerError):
                    await client.state()
            return mock.clock.sleeps

    async def main() -> tuple[list[float], list[float]]:
        ready_a, ready_b, go = asyncio.Event(), asyncio.Event(), asyncio.Event()
        first = asyncio.create_task(task("http://a.test", 1, ready_a, go))
        second = asyncio.create_task(task("http://b.test", 3, ready_b, go))
        await ready_a.wait()
        await ready_b.wait()
        go.set()
        return await first, await second

    assert asyncio.run(main()) == ([0.25], [0.25, 0.5, 1.0])
    assert real_sleeps == []


def test_use_sleep_exited_out_of_order_by_hand(real_sleeps: list[float]) -> None:
    """The public hook itself: entering two and leaving the first keeps the second in place."""
    first: list[float] = []
    second: list[float] = []

    async def never(seconds: float) -> None:
        raise AssertionError("no async waits here")

    outer = use_sleep(first.append, never)
    inner = use_sleep(second.append, never)
    outer.__enter__()
    inner.__enter__()
    outer.__exit__(None, None, None)
    with respx.mock(using="httpx") as router:
        failing_state(router)
        call_state(Spectron("ctx", ENDPOINT, "key", max_retries=1))
        inner.__exit__(None, None, None)
        call_state(Spectron("ctx", ENDPOINT, "key", max_retries=1))
    assert (first, second, real_sleeps) == ([], [0.25], [0.25])


def _never(seconds: float) -> Awaitable[None]:
    raise AssertionError("no async waits here")


def test_a_context_copied_inside_the_block_stops_using_the_hook_after_it(
    real_sleeps: list[float],
) -> None:
    """A task or context copied while the hook was in place waits for real once the block ends."""
    hooked: list[float] = []
    with use_sleep(hooked.append, _never):
        copied = contextvars.copy_context()
        copied.run(_retry.sleep, 0.25)
    copied.run(_retry.sleep, 0.5)
    assert (hooked, real_sleeps) == ([0.25], [0.5])


def test_leaving_a_nested_hook_gives_threads_the_outer_one(real_sleeps: list[float]) -> None:
    """After the inner ``use_sleep`` ends, a thread with a fresh context gets the outer hook."""
    outer: list[float] = []
    inner: list[float] = []
    with use_sleep(outer.append, _never):
        with use_sleep(inner.append, _never):
            pass
        worker = threading.Thread(target=_retry.sleep, args=(0.25,))
        worker.start()
        worker.join()
        _retry.sleep(0.5)
    assert (outer, inner, real_sleeps) == ([0.25, 0.5], [], [])


def test_leaving_a_nested_hook_keeps_the_outer_one_of_its_own_context(
    real_sleeps: list[float],
) -> None:
    """A context's own outer hook wins over one another context installed after it."""
    own: list[float] = []
    nested: list[float] = []
    other: list[float] = []
    elsewhere = contextvars.copy_context()
    own_block = use_sleep(own.append, _never)
    elsewhere.run(own_block.__enter__)
    with use_sleep(other.append, _never):
        nested_block = use_sleep(nested.append, _never)
        elsewhere.run(nested_block.__enter__)
        elsewhere.run(nested_block.__exit__, None, None, None)
        elsewhere.run(_retry.sleep, 0.25)
        _retry.sleep(0.5)
    elsewhere.run(own_block.__exit__, None, None, None)
    assert (own, nested, other, real_sleeps) == ([0.25], [], [0.5], [])


def test_the_newest_hook_of_a_context_applies() -> None:
    """Nested installations in one context: the inner one takes the waits while it lasts."""
    outer: list[float] = []
    inner: list[float] = []
    with use_sleep(outer.append, _never):
        with use_sleep(inner.append, _never):
            _retry.sleep(0.25)
        _retry.sleep(0.5)
    assert (outer, inner) == ([0.5], [0.25])


def test_async_waits_go_to_the_async_hook() -> None:
    """``async_sleep`` awaits the hook's async function with the seconds, never the sync one."""
    synced: list[float] = []
    awaited: list[float] = []

    async def record(seconds: float) -> None:
        awaited.append(seconds)

    with use_sleep(synced.append, record):
        asyncio.run(_retry.async_sleep(0.25))
    assert (synced, awaited) == ([], [0.25])
