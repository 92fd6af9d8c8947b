"""The backoff table, and where an async client's waits go when no clock is installed."""

from __future__ import annotations

from typing import Any

import anyio
import httpx
import pytest
import respx

from pytest_spectron.client import AsyncSpectron, SpectronServerError, backoff
from pytest_spectron.testing.service._clock import VirtualClock
from pytest_spectron.testing.service._loop_time import run_on_clock
from pytest_spectron.testing.service._trio_time import new_trio_clock

ENDPOINT = "http://real-spectron.test"


@pytest.mark.parametrize(("retry", "seconds"), [(1, 0.25), (2, 0.5), (3, 1.0), (9, 1.0)])
def test_backoff_follows_the_table_then_keeps_its_last_value(retry: int, seconds: float) -> None:
    """0.25 s, 0.5 s, then 1 s for the third retry and every later one."""
    assert backoff(retry) == seconds


def test_backoff_before_the_first_retry_is_an_error() -> None:
    """Retry numbers start at 1: ``backoff(0)`` says so."""
    with pytest.raises(ValueError, match="retry numbers start at 1, got 0"):
        backoff(0)


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_async_waits_sleep_on_the_running_library_without_a_clock(backend: str) -> None:
    """With no virtual clock installed, an async client waits on its own event loop's sleep.

    Under trio too, where ``asyncio.sleep`` would raise: the waits go through anyio. The loop
    runs on a virtual clock that is not installed as the hook, so the waits are real loop
    sleeps (its time moves by 0.75 s) that the clock does not record as retry waits.
    """
    clock = VirtualClock()

    async def main() -> float:
        async with AsyncSpectron("ctx", ENDPOINT, "key", max_retries=2) as client:
            with pytest.raises(SpectronServerError):
                await client.state()
        return anyio.current_time()

    options: dict[str, Any] = {"clock": new_trio_clock()} if backend == "trio" else {}
    with respx.mock:
        respx.get(f"{ENDPOINT}/api/v1/ctx/state").mock(return_value=httpx.Response(503))
        loop_time = anyio.run(
            run_on_clock, clock, 5.0, main, backend=backend, backend_options=options
        )
    assert loop_time == clock.now == 0.75
    assert clock.sleeps == []
