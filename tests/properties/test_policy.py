"""The retry policy holds under random fault scripts, for every retry class, sync and async."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_spectron import (
    SpectronAPIError,
    SpectronConnectionError,
    SpectronDecodeError,
    SpectronError,
    SpectronMock,
    SpectronStreamError,
    SpectronTimeoutError,
)
from pytest_spectron.client._exceptions import error_class_for_status
from pytest_spectron.testing import PASS, Latency, Network, Outcome, Status
from pytest_spectron.testing.strategies import fault_outcomes

# The public outcomes, plus injected 2xx answers whose body is a problem, not the operation's.
OUTCOMES = st.one_of(fault_outcomes(), st.integers(min_value=200, max_value=299).map(Status))
SCRIPTS = st.lists(OUTCOMES, max_size=8)

TIMEOUT = 30.0
BACKOFF = [0.25, 0.5, 1.0]

CALLS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "read": ("state", lambda client: client.state()),
    "idempotent_write": ("remember", lambda client: client.remember("the one fact")),
    "write": ("forget", lambda client: client.forget("nothing")),
    "stream": ("chat", lambda client: client.chat("hello", stream=True)),
}


@dataclass(frozen=True)
class Expected:
    attempts: int
    error: type[SpectronError] | None


def expected(script: list[Outcome], retry_class: str, max_retries: int) -> Expected:
    """What the documented policy says happens, worked out from the script alone."""
    allowed = max_retries if retry_class in ("read", "idempotent_write") else 0
    attempt = 0
    while True:
        outcome = script[attempt] if attempt < len(script) else PASS
        error = failure(outcome, retry_class)
        if error is None:
            return Expected(attempt + 1, None)
        retryable = isinstance(outcome, Network | Latency) or getattr(outcome, "code", 0) >= 500
        if not retryable or attempt >= allowed:
            return Expected(attempt + 1, error)
        attempt += 1


def failure(outcome: Outcome, retry_class: str) -> type[SpectronError] | None:
    """The error one attempt's outcome gives, or None when the attempt succeeds.

    A streamed chat keeps its read timeout until the headers arrive, so latency beyond it times
    the stream out like any other call.
    """
    if isinstance(outcome, Status) and outcome.code < 300:
        # A 2xx whose body is not the operation's answer: never retried, whatever the class.
        return SpectronStreamError if retry_class == "stream" else SpectronDecodeError
    if isinstance(outcome, Status):
        return error_class_for_status(outcome.code)
    if isinstance(outcome, Network):
        timeouts = ("connect_timeout", "read_timeout")
        return SpectronTimeoutError if outcome.kind in timeouts else SpectronConnectionError
    if isinstance(outcome, Latency) and outcome.seconds > TIMEOUT:
        return SpectronTimeoutError
    return None


def run(
    mock: SpectronMock, retry_class: str, flavour: str, max_retries: int
) -> BaseException | None:
    """Make the retry class's call; consume a stream to its end. Returns what was raised."""
    _, call = CALLS[retry_class]

    def finish(result: Any) -> None:
        if retry_class == "stream":
            list(result)

    try:
        if flavour == "sync":
            with mock.client(timeout=TIMEOUT, max_retries=max_retries) as client:
                finish(call(client))
        else:

            async def main() -> None:
                async with mock.async_client(timeout=TIMEOUT, max_retries=max_retries) as client:
                    result = await call(client)
                    if retry_class == "stream":
                        _ = [chunk async for chunk in result]

            asyncio.run(main())
    except SpectronError as error:
        return error
    return None


@pytest.mark.parametrize("flavour", ["sync", "async"])
@pytest.mark.parametrize("retry_class", list(CALLS))
@given(script=SCRIPTS, max_retries=st.integers(min_value=0, max_value=6))
def test_policy_holds_for_any_script(
    retry_class: str, flavour: str, script: list[Outcome], max_retries: int
) -> None:
    """Attempts, waits, the error and idempotency all follow the policy, with no real waiting."""
    operation, _ = CALLS[retry_class]
    want = expected(script, retry_class, max_retries)
    started = time.monotonic()
    with SpectronMock() as mock:
        if script:
            mock.fail(operation, *script, times=1)
        error = run(mock, retry_class, flavour, max_retries)

        attempts = mock.attempts(operation)
        assert len(attempts) == want.attempts
        assert mock.clock.sleeps == [BACKOFF[min(n, 2)] for n in range(want.attempts - 1)]
        if want.error is None:
            assert error is None
        else:
            assert type(error) is want.error
        if isinstance(error, SpectronAPIError):
            assert error.status_code == attempts[-1].status
            assert isinstance(error.body, dict) or error.status_code in (204, 304)
        if retry_class == "idempotent_write":
            assert len({attempt.idempotency_key for attempt in attempts}) == 1
            stored = [fact.text for fact in mock.fake.facts(mock.context)]
            assert len(stored) <= 1
            if error is None:
                assert stored == ["the one fact"]
        if retry_class == "write":
            assert len(attempts) == 1
    assert time.monotonic() - started < 5
