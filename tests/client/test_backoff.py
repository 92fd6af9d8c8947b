"""The backoff table, and where an async client's waits go when no clock is installed."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import respx

from pytest_spectron.client import AsyncSpectron, SpectronServerError, backoff

ENDPOINT = "http://real-spectron.test"


@pytest.mark.parametrize(("retry", "seconds"), [(1, 0.25), (2, 0.5), (3, 1.0), (9, 1.0)])
def test_backoff_follows_the_table_then_keeps_its_last_value(retry: int, seconds: float) -> None:
    """0.25 s, 0.5 s, then 1 s for the third retry and every later one."""
    assert backoff(retry) == seconds


def test_backoff_before_the_first_retry_is_an_error() -> None:
    """Retry numbers start at 1: ``backoff(0)`` says so."""
    with pytest.raises(ValueError, match="retry numbers start at 1, got 0"):
        backoff(0)


def test_async_waits_go_to_asyncio_sleep_without_a_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """With no virtual clock installed, an async client waits with ``asyncio.sleep``."""
    waits: list[float] = []

    async def recorded(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(asyncio, "sleep", recorded)

    async def main() -> None:
        async with AsyncSpectron("ctx", ENDPOINT, "key", max_retries=2) as client:
            with pytest.raises(SpectronServerError):
                await client.state()

    with respx.mock:
        respx.get(f"{ENDPOINT}/api/v1/ctx/state").mock(return_value=httpx.Response(503))
        asyncio.run(main())
    assert waits == [0.25, 0.5]
