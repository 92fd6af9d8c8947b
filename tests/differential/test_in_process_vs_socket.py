"""The differential proof: every fault behaves the same in-process and over a real socket.

Each case runs twice, once answered in-process (respx, the way ``spectron_mock`` answers) and
once by the loopback server over real sockets, with the same client options and the same
fault. Both runs must agree on the exception the application sees, the number of attempts,
the retry waits and what the journal recorded, for every fault kind, retry class and flavour.

Held connections (``read_timeout``, ``connect_timeout``, latency beyond the timeout) make the
socket run wait for the client's own read timeout for real: those cases use ``TIMEOUT``, short;
every other case uses ``GENEROUS``, so a loaded machine never turns a slow answer into a timeout.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from pytest_spectron import AsyncSpectron, Spectron, SpectronError, SpectronMock

TIMEOUT = 0.5
"""The read timeout of cases that hold a connection, and the one the server then assumes."""
GENEROUS = 30.0
"""The read timeout of every other case (the client's default)."""
HELD = ("read_timeout", "connect_timeout", f"latency:{TIMEOUT * 40}")

CALLS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "read": ("state", lambda client: client.state()),
    "idempotent_write": ("remember", lambda client: client.remember("the one fact")),
    "write": ("forget", lambda client: client.forget("nothing")),
    "stream": ("chat", lambda client: client.chat("hello", stream=True)),
}

# Every kind of fault the engine has, one outcome each.
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
# Scripts with several steps: retries across different failures, then the fake's answer.
SCRIPTS: list[tuple[object, ...]] = [
    (503, "reset", 502),
    ("connect", 500, "ok"),
    ("html", "truncated_json"),
    ("read_timeout", 503),
]


@dataclass(frozen=True)
class Observed:
    """What the application and the journal saw of one call."""

    error: str | None
    attempts: int
    sleeps: tuple[float, ...]
    outcomes: tuple[str, ...]
    chunks: int


def observe(
    script: tuple[object, ...], retry_class: str, flavour: str, *, over_socket: bool
) -> Observed:
    """Make the retry class's call against a fresh mock with ``script`` injected, once."""
    operation, call = CALLS[retry_class]
    with SpectronMock() as mock:
        if script != ("ok",):
            mock.fail(operation, *script, times=1)
        timeout = TIMEOUT if any(step in HELD for step in script) else GENEROUS
        endpoint = mock.serve(client_timeout=timeout).url if over_socket else mock.endpoint
        options: dict[str, Any] = {"timeout": timeout, "max_retries": 3}
        error: SpectronError | None = None
        chunks = 0
        try:
            if flavour == "sync":
                with Spectron(mock.context, endpoint, mock.api_key, **options) as client:
                    result = call(client)
                    chunks = len(list(result)) if retry_class == "stream" else 0
            else:

                async def main() -> int:
                    async with AsyncSpectron(
                        mock.context, endpoint, mock.api_key, **options
                    ) as client:
                        result = await call(client)
                        if retry_class == "stream":
                            return len([chunk async for chunk in result])
                        return 0

                chunks = asyncio.run(main())
        except SpectronError as raised:
            error = raised
        attempts = mock.attempts(operation)
        return Observed(
            error=None if error is None else type(error).__name__,
            attempts=len(attempts),
            sleeps=tuple(mock.clock.sleeps),
            outcomes=tuple(attempt.outcome for attempt in attempts),
            chunks=chunks,
        )


CASES = [(outcome,) for outcome in SINGLE_OUTCOMES] + SCRIPTS


@pytest.mark.parametrize("flavour", ["sync", "async"])
@pytest.mark.parametrize("retry_class", list(CALLS))
@pytest.mark.parametrize("script", CASES, ids=lambda script: ",".join(map(str, script)))
def test_socket_and_in_process_agree(
    script: tuple[object, ...], retry_class: str, flavour: str
) -> None:
    """The same error type, attempts, waits, journal outcomes and chunks, both ways."""
    in_process = observe(script, retry_class, flavour, over_socket=False)
    over_socket = observe(script, retry_class, flavour, over_socket=True)
    assert over_socket == in_process
