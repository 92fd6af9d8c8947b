"""The official SDK's retry waits go to the installed clock; nobody else's sleep changes."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from surrealdb_memory import Memory, _transport

from pytest_spectron import SpectronMock
from pytest_spectron.testing import VirtualClock

SDK: Any = _transport
"""The SDK's transport module, whose ``time`` and ``asyncio`` names the clock swaps."""


def test_the_sdks_waits_are_recorded_and_time_sleep_is_left_alone() -> None:
    """Two 503s on a read: [0.25, 0.5] on the clock; time.sleep and asyncio.sleep unchanged."""
    real_sleep, real_async_sleep = time.sleep, asyncio.sleep
    with SpectronMock() as mock:
        mock.fail("state", 503, times=2)
        with Memory(mock.context, endpoint=mock.endpoint, api_key=mock.api_key) as memory:
            memory.state()
        time.sleep(0)  # the test's own sleep: not a retry wait

        assert mock.clock.sleeps == [0.25, 0.5]
        assert (time.sleep, asyncio.sleep) == (real_sleep, real_async_sleep)
        assert SDK.time.sleep is not real_sleep


def test_the_sdk_sleeps_for_real_again_once_the_last_clock_is_gone() -> None:
    """Nested clocks: the SDK's module names are put back only when the outermost one ends."""
    outer, inner = VirtualClock(), VirtualClock()
    with outer.install():
        with inner.install():
            pass
        assert SDK.time is not time
        assert SDK.asyncio is not asyncio
    assert (SDK.time, SDK.asyncio) == (time, asyncio)


def test_the_sdk_module_keeps_every_other_name_of_time_and_asyncio() -> None:
    """The stand-ins are the real modules but for ``sleep`` (the SDK reads TimeoutError, …)."""
    with VirtualClock().install() as clock:
        assert SDK.asyncio.TimeoutError is asyncio.TimeoutError
        assert SDK.time.monotonic is time.monotonic
        SDK.time.sleep(0.25)
        asyncio.run(SDK.asyncio.sleep(0.5))
    assert clock.sleeps == [0.25, 0.5]
