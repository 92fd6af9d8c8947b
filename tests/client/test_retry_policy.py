"""The documented error and retry policy, for every failure and every retry class."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx

from pytest_spectron.client import (
    AsyncSpectron,
    Spectron,
    SpectronAPIError,
    SpectronAuthError,
    SpectronConflictError,
    SpectronConnectionError,
    SpectronError,
    SpectronNotFoundError,
    SpectronRateLimitError,
    SpectronScopeError,
    SpectronServerError,
    SpectronTimeoutError,
    SpectronValidationError,
)
from pytest_spectron.client._exceptions import error_class_for_status
from pytest_spectron.client._retry import is_retryable_status

ENDPOINT = "https://spectron.test"
API_KEY = "sk-test-0123456789"

# The policy as Spectron documents it, written out here rather than read from the code under test.
EXPECTED_ERROR: dict[int | str, type[SpectronError]] = {
    400: SpectronValidationError,
    401: SpectronAuthError,
    403: SpectronScopeError,
    404: SpectronNotFoundError,
    409: SpectronConflictError,
    415: SpectronAPIError,
    422: SpectronValidationError,
    429: SpectronRateLimitError,
    500: SpectronServerError,
    501: SpectronServerError,
    502: SpectronServerError,
    503: SpectronServerError,
    504: SpectronServerError,
    599: SpectronServerError,
    "connect": SpectronConnectionError,
    "read_timeout": SpectronTimeoutError,
}
NETWORK_FAILURES: dict[str, type[httpx.TransportError]] = {
    "connect": httpx.ConnectError,
    "read_timeout": httpx.ReadTimeout,
}
RETRIED_CLASSES = {"read", "idempotent_write"}
FULL_BACKOFF = [0.25, 0.5, 1.0]

# One call per retry class: (HTTP method, path, how to make the call).
CALLS: dict[str, tuple[str, str, Callable[[Any], Any]]] = {
    "read": ("GET", "/api/v1/ctx/state", lambda client: client.state()),
    "idempotent_write": ("POST", "/api/v1/ctx/facts", lambda client: client.remember("sky")),
    "write": ("POST", "/api/v1/ctx/forget", lambda client: client.forget("sky")),
    "stream": ("POST", "/api/v1/ctx/chat", lambda client: client.chat("hi", stream=True)),
}


def call(flavour: str, invoke: Callable[[Any], Any], **options: Any) -> Any:
    """Make one call with a fresh sync or async client."""
    if flavour == "sync":
        with Spectron("ctx", ENDPOINT, API_KEY, **options) as client:
            return invoke(client)

    async def main() -> Any:
        async with AsyncSpectron("ctx", ENDPOINT, API_KEY, **options) as client:
            return await invoke(client)

    return asyncio.run(main())


def failing(outcome: int | str) -> Callable[[httpx.Request], httpx.Response]:
    """A respx side effect that fails every attempt with ``outcome``."""

    def answer(request: httpx.Request) -> httpx.Response:
        if isinstance(outcome, str):
            raise NETWORK_FAILURES[outcome](f"injected {outcome}", request=request)
        body = {"type": "about:blank", "title": "failed", "status": outcome, "detail": "no"}
        return httpx.Response(outcome, json=body, headers={"x-trace-id": "trace-1"})

    return answer


@pytest.mark.parametrize("flavour", ["sync", "async"])
@pytest.mark.parametrize("retry_class", list(CALLS))
@pytest.mark.parametrize("outcome", list(EXPECTED_ERROR))
def test_policy_for_every_outcome_and_retry_class(
    router: respx.MockRouter,
    sleeps: list[float],
    flavour: str,
    retry_class: str,
    outcome: int | str,
) -> None:
    """Each failure raises its documented error after exactly the documented attempts and waits."""
    method, path, invoke = CALLS[retry_class]
    route = router.route(method=method, path=path).mock(side_effect=failing(outcome))
    retried = retry_class in RETRIED_CLASSES and (isinstance(outcome, str) or outcome >= 500)

    with pytest.raises(SpectronError) as caught:
        call(flavour, invoke)

    assert type(caught.value) is EXPECTED_ERROR[outcome]
    assert route.call_count == (4 if retried else 1)
    assert sleeps == (FULL_BACKOFF if retried else [])
    keys = {attempt.request.headers.get("idempotency-key") for attempt in route.calls}
    if retry_class == "idempotent_write":
        assert len(keys) == 1
        assert None not in keys
    else:
        assert keys == {None}
    if isinstance(outcome, str):
        assert isinstance(caught.value.__cause__, NETWORK_FAILURES[outcome])
    else:
        assert isinstance(caught.value, SpectronAPIError)
        assert caught.value.status_code == outcome
        assert caught.value.trace_id == "trace-1"


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_read_succeeds_after_two_server_errors(
    router: respx.MockRouter,
    sleeps: list[float],
    sample_answer: Callable[[Any], Any],
    flavour: str,
) -> None:
    """Two 503s then a 200: three attempts, waits of 0.25 s and 0.5 s, and the answer."""
    from pytest_spectron.client.models import StateResponse

    answers = [
        httpx.Response(503),
        httpx.Response(503),
        httpx.Response(200, json=sample_answer(StateResponse)),
    ]
    route = router.get("/api/v1/ctx/state").mock(side_effect=answers)

    result = call(flavour, lambda client: client.state())

    assert isinstance(result, StateResponse)
    assert route.call_count == 3
    assert sleeps == [0.25, 0.5]


@pytest.mark.parametrize("flavour", ["sync", "async"])
@pytest.mark.parametrize(
    ("max_retries", "expected_waits"),
    [(0, []), (1, [0.25]), (3, [0.25, 0.5, 1.0]), (6, [0.25, 0.5, 1.0, 1.0, 1.0, 1.0])],
)
def test_max_retries_bounds_attempts_and_waits(
    router: respx.MockRouter,
    sleeps: list[float],
    flavour: str,
    max_retries: int,
    expected_waits: list[float],
) -> None:
    """``max_retries=N`` allows N retries after the first attempt; waits past the third stay 1 s."""
    route = router.get("/api/v1/ctx/state").mock(side_effect=failing(503))

    with pytest.raises(SpectronServerError):
        call(flavour, lambda client: client.state(), max_retries=max_retries)

    assert route.call_count == max_retries + 1
    assert sleeps == expected_waits


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_with_options_overrides_retries_per_call(
    router: respx.MockRouter, sleeps: list[float], flavour: str
) -> None:
    """A ``with_options`` copy retries as configured, leaving the original client unchanged."""
    route = router.get("/api/v1/ctx/state").mock(side_effect=failing(502))

    def invoke(client: Any) -> Any:
        assert client.with_options(max_retries=1).max_retries == 1
        assert client.max_retries == 3
        return client.with_options(max_retries=1).state()

    with pytest.raises(SpectronServerError):
        call(flavour, invoke)

    assert route.call_count == 2
    assert sleeps == [0.25]


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_remember_keeps_one_idempotency_key_across_retries(
    router: respx.MockRouter,
    sleeps: list[float],
    sample_answer: Callable[[Any], Any],
    flavour: str,
) -> None:
    """Every attempt of one remember carries the same derived Idempotency-Key."""
    from pytest_spectron.client.models import FactsResponse

    answers: list[httpx.Response | Exception] = [
        httpx.Response(500),
        httpx.ConnectError("down"),
        httpx.Response(200, json=sample_answer(FactsResponse)),
    ]
    route = router.post("/api/v1/ctx/facts").mock(side_effect=answers)

    call(flavour, lambda client: client.remember("the sky is blue"))

    keys = [attempt.request.headers["idempotency-key"] for attempt in route.calls]
    assert len(keys) == 3
    assert len(set(keys)) == 1
    assert len(keys[0]) == 64


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_caller_supplied_idempotency_key_is_sent(
    router: respx.MockRouter, sample_answer: Callable[[Any], Any], flavour: str
) -> None:
    """A key passed by the caller is sent as is."""
    from pytest_spectron.client.models import FactsBatchResponse

    route = router.post("/api/v1/ctx/facts/batch").respond(json=sample_answer(FactsBatchResponse))

    call(
        flavour,
        lambda client: client.remember_many(
            [{"role": "user", "content": "hi"}], idempotency_key="my-key"
        ),
    )

    assert route.calls.last.request.headers["idempotency-key"] == "my-key"


def test_distinct_remember_calls_get_distinct_keys(
    router: respx.MockRouter, sample_answer: Callable[[Any], Any]
) -> None:
    """Two different facts are two different idempotent operations."""
    from pytest_spectron.client.models import FactsResponse

    route = router.post("/api/v1/ctx/facts").respond(json=sample_answer(FactsResponse))
    with Spectron("ctx", ENDPOINT, API_KEY) as client:
        client.remember("one")
        client.remember("two")

    first, second = (attempt.request.headers["idempotency-key"] for attempt in route.calls)
    assert first != second


@pytest.mark.parametrize(
    ("status", "server_error"), [(499, False), (500, True), (599, True), (600, False)]
)
def test_server_errors_are_exactly_the_statuses_500_to_599(status: int, server_error: bool) -> None:
    """599 is a server error and retried like 500; 499 and 600 are neither."""
    assert is_retryable_status(status) is server_error
    assert (error_class_for_status(status) is SpectronServerError) is server_error
