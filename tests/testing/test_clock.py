"""The virtual clock: waits are recorded and time moves on, but nothing sleeps."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from pytest_spectron.client import _retry
from pytest_spectron.testing.service._clock import VirtualClock


def test_starts_at_zero_with_no_sleeps() -> None:
    """A new clock reads 0.0 and has recorded no waits."""
    clock = VirtualClock()
    assert (clock.now, clock.sleeps) == (0.0, [])


def test_sleep_records_the_wait_and_advances_time() -> None:
    """``sleep`` appends to ``.sleeps`` and moves ``.now`` by the wait, in order."""
    clock = VirtualClock()
    clock.sleep(0.25)
    clock.sleep(0.5)
    assert (clock.sleeps, clock.now) == ([0.25, 0.5], 0.75)


def test_sleep_never_waits_for_real() -> None:
    """An hour of virtual sleep takes no real time."""
    clock = VirtualClock()
    started = time.monotonic()
    clock.sleep(3600)
    assert time.monotonic() - started < 0.5


def test_sleep_async_records_and_advances() -> None:
    """The async sleep records and advances like the sync one."""
    clock = VirtualClock()
    asyncio.run(clock.sleep_async(1.0))
    assert (clock.sleeps, clock.now) == ([1.0], 1.0)


def test_advance_moves_time_without_recording_a_sleep() -> None:
    """``advance`` is for injected latency: time moves, ``.sleeps`` stays empty."""
    clock = VirtualClock()
    clock.advance(2.5)
    assert (clock.now, clock.sleeps) == (2.5, [])


@pytest.mark.parametrize("seconds", [-1, float("nan"), float("inf"), True, "1"])
def test_bad_durations_are_rejected(seconds: object) -> None:
    """Negative and non-finite durations raise ValueError, non-numeric ones TypeError."""
    with pytest.raises((TypeError, ValueError), match=r"must be a (finite )?number of seconds"):
        VirtualClock().sleep(seconds)  # type: ignore[arg-type]


def test_reset_rewinds_time_and_forgets_sleeps() -> None:
    """``reset`` goes back to the start with no waits."""
    clock = VirtualClock()
    clock.sleep(1)
    assert (clock.now, clock.sleeps) == (1.0, [1])
    clock.reset()
    assert (clock.now, clock.sleeps) == (0.0, [])


def test_install_routes_client_retry_waits_to_the_clock() -> None:
    """Inside ``install()`` the client's sleep hook (sync and async) goes to the clock."""
    clock = VirtualClock()
    with clock.install() as installed:
        _retry.sleep(0.25)
        asyncio.run(_retry.async_sleep(0.5))
    assert installed is clock
    assert clock.sleeps == [0.25, 0.5]


def test_install_restores_the_previous_hook_on_exit() -> None:
    """After the block, even one that raised, the previous hooks are back."""
    outer, inner = VirtualClock(), VirtualClock()
    with outer.install():
        with pytest.raises(RuntimeError), inner.install():
            raise RuntimeError("boom")
        _retry.sleep(1.0)
    assert (outer.sleeps, inner.sleeps) == ([1.0], [])


def test_assert_backoff_passes_on_the_exact_schedule() -> None:
    """``assert_backoff`` accepts the waits requested, in order."""
    clock = VirtualClock()
    for wait in (0.25, 0.5, 1.0):
        clock.sleep(wait)
    clock.assert_backoff([0.25, 0.5, 1.0])


def test_assert_backoff_failure_shows_expected_and_actual() -> None:
    """A mismatch raises AssertionError listing both schedules."""
    clock = VirtualClock()
    clock.sleep(0.25)
    with pytest.raises(AssertionError) as caught:
        clock.assert_backoff([0.25, 0.5])
    assert str(caught.value) == (
        "retry waits differ:\n  expected: [0.25, 0.5] (2 waits)\n  actual:   [0.25] (1 wait)"
    )


def test_concurrent_sleeps_are_all_recorded() -> None:
    """Sleeps from many threads are neither lost nor double-counted."""
    clock = VirtualClock()

    def worker() -> None:
        for _ in range(200):
            clock.sleep(0.5)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (len(clock.sleeps), clock.now) == (1600, 800.0)
