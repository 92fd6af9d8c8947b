"""The official SDK's retry waits, on the virtual clock, and nobody else's.

``surrealdb_memory._transport`` waits between retries with ``time.sleep(...)`` and
``await asyncio.sleep(...)``, looking ``time`` and ``asyncio`` up in its own globals. While a
clock is installed, those two names in that one module are stand-ins whose ``sleep`` goes
through the Spectron sleep hook (``client._retry``: the installed clock, in any thread or task),
every other attribute being the real module's. ``time.sleep`` and ``asyncio.sleep`` themselves
are never replaced: code that is not the SDK's sleeps as it always does. The SDK is never
imported here: patched at once if it is, else as soon as the application imports it.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from pytest_spectron._shared._imports import forget, when_imported
from pytest_spectron.client._retry import async_sleep, sleep

__all__ = ["SDK_TRANSPORT", "sdk_waits_on_the_hook"]

SDK_TRANSPORT = "surrealdb_memory._transport"
"""The official SDK's module that waits between retries."""

_lock = threading.Lock()
_holders = 0


class _WithSleep:
    """A module as the SDK sees it, but for its ``sleep``."""

    def __init__(self, module: ModuleType, sleep: Callable[[float], Any]) -> None:
        self._module = module
        self.sleep = sleep

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)


def _route(transport: ModuleType) -> None:
    with _lock:
        if not _holders:  # the clock was uninstalled before the SDK's import ended
            return
        if vars(transport).get("time") is time:
            transport.time = _WithSleep(time, sleep)  # type: ignore[attr-defined]
        if vars(transport).get("asyncio") is asyncio:
            transport.asyncio = _WithSleep(asyncio, async_sleep)  # type: ignore[attr-defined]


def _unroute(transport: ModuleType) -> None:
    for name, module in (("time", time), ("asyncio", asyncio)):
        if isinstance(vars(transport).get(name), _WithSleep):
            setattr(transport, name, module)


@contextmanager
def sdk_waits_on_the_hook() -> Iterator[None]:
    """Route the official SDK's retry waits to the sleep hook while the block runs (nested:
    until the outermost block ends)."""
    global _holders
    with _lock:
        _holders += 1
        first = _holders == 1
    if first:
        when_imported(SDK_TRANSPORT, _route)
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            last = not _holders
        if last:
            forget(SDK_TRANSPORT, _route)
            transport = sys.modules.get(SDK_TRANSPORT)
            if transport is not None:
                _unroute(transport)
