"""The differential proof for the official SDK: in-process as over a real socket, fault by fault.

The official SDK (``surrealdb-memory``: blocking on requests, async on aiohttp) runs each case
twice, once answered in-process (the mock's interception of requests and aiohttp) and once by
the mock's loopback server over real sockets, with the same options and the same fault. Both
runs must agree on what the application sees (the exception's class, its status, and the class
of the library error under it), the attempts and outcomes the journal recorded, the retry waits
(on the clock both ways: the SDK's waits follow the installed clock whatever the transport) and
the chunks of a stream, for every fault kind and every retry class.

Two faults cannot be played over a socket: a refused connection (``connect``) and a connect
timeout. The loopback server has accepted the connection before it reads which request it is,
so it resets it (or holds it) after the request instead: the library then raises its reset (or
read timeout) error, not the connect error production sees. In-process they are raised as in
production (``UNPLAYABLE``: the library error's class is compared with production's, the rest
with the socket's). And aiohttp retries a reset GET once on a fresh connection by itself, so
over the loopback a refused GET makes one attempt more than in production, where aiohttp does
not retry a refused connection: that case is asserted on its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from surrealdb_memory import AsyncMemory, Memory

from pytest_spectron import SpectronMock

TIMEOUT = 0.5
"""The timeout of cases that hold a connection (the socket run waits for it for real)."""
GENEROUS = 30.0
HELD = ("read_timeout", "connect_timeout", f"latency:{TIMEOUT * 40}")

CALLS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "read": ("state", lambda memory: memory.state()),
    "idempotent_write": ("remember", lambda memory: memory.remember("the one fact")),
    "write": ("forget", lambda memory: memory.forget("nothing")),
    "stream": ("chat", lambda memory: memory.chat("hello", stream=True)),
}

SINGLE_OUTCOMES: list[object] = [
    *(400, 401, 403, 404, 409, 422, 429, 500, 502, 503, 504),
    "429:2",
    "connect",
    "connect_timeout",
    "read_timeout",
    "reset",
    "truncated_json",
    "html",
    "empty",
    "stream_cut:1",
    f"latency:{TIMEOUT / 5}",
    f"latency:{TIMEOUT * 40}",
    "ok",
]
SCRIPTS: list[tuple[object, ...]] = [
    (503, "reset", 502),
    ("connect", 500, "ok"),
    ("html", "truncated_json"),
    ("read_timeout", 503),
]
CASES = [(outcome,) for outcome in SINGLE_OUTCOMES] + SCRIPTS


@dataclass(frozen=True)
class Observed:
    """What the application and the journal saw of one SDK call."""

    error: str | None
    """The exception's class, with its status for the SDK's own (``MemoryAPIError[503]``)."""
    cause: str | None
    """The class of the library's error under the SDK's (``ConnectionError``, ``TimeoutError``)."""
    attempts: int
    sleeps: tuple[float, ...]
    outcomes: tuple[str, ...]
    chunks: int


def _describe(error: BaseException | None) -> tuple[str | None, str | None]:
    if error is None:
        return None, None
    name = type(error).__name__
    status = getattr(error, "status_code", None)
    cause = error.__cause__
    return (name if status is None else f"{name}[{status}]"), (
        None if cause is None else type(cause).__name__
    )


def observe(
    script: tuple[object, ...], retry_class: str, flavour: str, *, over_socket: bool
) -> Observed:
    """Make the retry class's SDK call against a fresh mock with ``script`` injected, once."""
    operation, call = CALLS[retry_class]
    with SpectronMock() as mock:
        if script != ("ok",):
            mock.fail(operation, *script, times=1)
        timeout = TIMEOUT if any(step in HELD for step in script) else GENEROUS
        endpoint = mock.serve(client_timeout=timeout).url if over_socket else mock.endpoint
        options: dict[str, Any] = {"endpoint": endpoint, "api_key": mock.api_key}
        options.update(timeout=timeout, max_retries=3)
        error: BaseException | None = None
        chunks = 0
        try:
            if flavour == "sync":
                with Memory(mock.context, **options) as memory:
                    result = call(memory)
                    if isinstance(result, Iterator):
                        chunks = len(list(result))
            else:

                async def main() -> int:
                    async with AsyncMemory(mock.context, **options) as memory:
                        result = await call(memory)
                        if isinstance(result, AsyncIterator):
                            return len([chunk async for chunk in result])
                        return 0

                chunks = asyncio.run(main())
        except Exception as raised:  # the SDK's, or a library's where it escapes (a stream cut)
            error = raised
        attempts = mock.attempts(operation)
        described, cause = _describe(error)
        return Observed(
            error=described,
            cause=cause,
            attempts=len(attempts),
            sleeps=tuple(mock.clock.sleeps),
            outcomes=tuple(attempt.outcome for attempt in attempts),
            chunks=chunks,
        )


UNPLAYABLE = frozenset({"connect", "connect_timeout"})
"""Faults the loopback server plays as a reset or a held connection once the request is in."""
PRODUCTION_CAUSE = {
    ("sync", "connect"): "ConnectionError",
    ("sync", "connect_timeout"): "ConnectTimeout",
    ("async", "connect"): "ClientConnectorError",
    ("async", "connect_timeout"): "ConnectionTimeoutError",
}
"""The library error under the SDK's for a fault the socket cannot play, as in production."""


@pytest.mark.parametrize("flavour", ["sync", "async"])
@pytest.mark.parametrize("retry_class", list(CALLS))
@pytest.mark.parametrize("script", CASES, ids=lambda script: ",".join(map(str, script)))
def test_official_sdk_sees_the_same_in_process_and_over_a_socket(
    script: tuple[object, ...], retry_class: str, flavour: str
) -> None:
    """The same exception (and cause), attempts, waits, outcomes and chunks, both ways."""
    in_process = observe(script, retry_class, flavour, over_socket=False)
    over_socket = observe(script, retry_class, flavour, over_socket=True)
    if flavour == "async" and retry_class == "read" and "connect" in script:
        return  # aiohttp retries the loopback's reset: test_a_refused_get_is_one_attempt…
    if UNPLAYABLE.intersection(map(str, script)):
        if in_process.error is not None:
            assert in_process.cause == PRODUCTION_CAUSE[flavour, str(script[0])]
        in_process, over_socket = replace(in_process, cause=None), replace(over_socket, cause=None)
    assert in_process == over_socket


@pytest.mark.parametrize("flavour", ["sync", "async"])
@pytest.mark.parametrize("fault", sorted(UNPLAYABLE))
def test_a_connect_failure_raises_what_production_raises(flavour: str, fault: str) -> None:
    """Under the SDK's error: requests' ConnectionError / ConnectTimeout, aiohttp's
    ClientConnectorError / ConnectionTimeoutError, as against a host that refuses or is silent."""
    observed = observe((fault,), "write", flavour, over_socket=False)

    assert (observed.error, observed.cause, observed.attempts) == (
        "MemoryAPIError[0]",
        PRODUCTION_CAUSE[flavour, fault],
        1,
    )


def test_a_refused_get_is_one_attempt_per_sdk_try_under_aiohttp() -> None:
    """A refused GET is one attempt per SDK try, in-process and over a socket alike.

    Over a socket the server resets aiohttp's own re-send of the refused request too (a refused
    connection is never re-sent), so the SDK meets the failure and waits, as in production.
    """
    in_process = observe(("connect",), "read", "async", over_socket=False)
    over_socket = observe(("connect",), "read", "async", over_socket=True)

    assert in_process == Observed(
        error=None,
        cause=None,
        attempts=2,
        sleeps=(0.25,),
        outcomes=("connect", "200"),
        chunks=0,
    )
    assert over_socket == in_process
