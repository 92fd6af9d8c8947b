"""Error answers of every shape become typed errors that keep the status, message and body."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest
import respx

from pytest_spectron.client import (
    Spectron,
    SpectronAPIError,
    SpectronConnectionError,
    SpectronDecodeError,
    SpectronNotFoundError,
    SpectronRateLimitError,
    SpectronServerError,
)
from pytest_spectron.client._exceptions import parse_retry_after

ENDPOINT = "https://spectron.test"
API_KEY = "sk-very-secret-key"


def state_error(router: respx.MockRouter, response: httpx.Response) -> SpectronAPIError:
    """The error ``client.state()`` raises when every attempt gets ``response``."""
    router.get("/api/v1/ctx/state").mock(return_value=response)
    client = Spectron("ctx", ENDPOINT, API_KEY, max_retries=0)
    with client, pytest.raises(SpectronAPIError) as caught:
        client.state()
    return caught.value


def test_problem_details_are_decoded(router: respx.MockRouter) -> None:
    """An RFC 7807 body gives the message, the trace id and the whole body."""
    problem = {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "context ctx does not exist",
        "instance": "/api/v1/ctx/state",
        "traceId": "trace-42",
    }
    error = state_error(
        router,
        httpx.Response(404, json=problem, headers={"content-type": "application/problem+json"}),
    )

    assert type(error) is SpectronNotFoundError
    assert error.message == "context ctx does not exist"
    assert error.trace_id == "trace-42"
    assert error.body == problem
    assert error.operation == "state"
    assert "HTTP 404" in str(error)


def test_trace_id_header_wins_over_the_body(router: respx.MockRouter) -> None:
    """The ``x-trace-id`` header is the trace id when present."""
    error = state_error(
        router,
        httpx.Response(500, json={"detail": "boom", "traceId": "b"}, headers={"x-trace-id": "h"}),
    )
    assert error.trace_id == "h"


def test_legacy_message_body_is_decoded(router: respx.MockRouter) -> None:
    """The document's legacy ``{"message": …}`` body gives the message."""
    error = state_error(router, httpx.Response(400, json={"message": "bad query"}))
    assert error.message == "bad query"
    assert error.body == {"message": "bad query"}


@pytest.mark.parametrize(
    ("content", "in_message", "body"),
    [
        (b"<html><title>502 Bad Gateway</title><body>nginx</body></html>", "502 Bad Gateway", str),
        (b"", "empty body", type(None)),
        (b'{"detail": "trunc', '{"detail": "trunc', str),
        (b'["a", "list"]', '["a", "list"]', list),
        (b"\xff\xfe not utf-8", "not utf-8", str),
    ],
    ids=["html", "empty", "truncated-json", "json-list", "invalid-utf8"],
)
def test_any_error_body_still_gives_a_typed_error(
    router: respx.MockRouter, content: bytes, in_message: str, body: type
) -> None:
    """Bodies that are not problem details still give the typed error, a message and the body."""
    error = state_error(router, httpx.Response(502, content=content))

    assert type(error) is SpectronServerError
    assert error.status_code == 502
    assert in_message in error.message
    assert isinstance(error.body, body)


def test_rate_limit_exposes_retry_after(router: respx.MockRouter) -> None:
    """A 429's ``Retry-After`` header is available in seconds."""
    error = state_error(router, httpx.Response(429, headers={"retry-after": "7"}))
    assert isinstance(error, SpectronRateLimitError)
    assert error.retry_after == 7.0


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("3", 3.0),
        ("0.5", None),
        ("-4", 0.0),
        ("Wed, 25 Nov 2026 10:00:30 GMT", 30.0),
        ("Wed, 25 Nov 2026 09:00:00 GMT", 0.0),
        ("soon", None),
        ("nan", None),
        (None, None),
    ],
)
def test_retry_after_parsing(value: str | None, seconds: float | None) -> None:
    """Delta-seconds and HTTP dates are read; negatives clamp to 0; garbage gives None."""
    now = datetime(2026, 11, 25, 10, 0, 0, tzinfo=timezone.utc)
    assert parse_retry_after(value, now=now) == seconds


def test_successful_answer_missing_a_field_names_operation_and_field(
    router: respx.MockRouter,
) -> None:
    """A 2xx body that does not validate raises SpectronDecodeError naming what is wrong."""
    # Bytes, not json=: httpx 0.27 and 0.28 serialise json= differently.
    router.post("/api/v1/ctx/forget").respond(
        content=b'{"deleted":"many"}', headers={"content-type": "application/json"}
    )
    with Spectron("ctx", ENDPOINT, API_KEY) as client, pytest.raises(SpectronDecodeError) as caught:
        client.forget("sky")

    message = str(caught.value)
    assert message.startswith("forget:")
    assert "deleted" in message
    assert caught.value.body == b'{"deleted":"many"}'


def test_successful_answer_that_is_not_json(router: respx.MockRouter) -> None:
    """A 2xx body that is not JSON raises SpectronDecodeError with a snippet of the body."""
    router.get("/api/v1/ctx/state").respond(200, text="<html>maintenance</html>")
    with Spectron("ctx", ENDPOINT, API_KEY) as client, pytest.raises(SpectronDecodeError) as caught:
        client.state()
    assert "not JSON" in str(caught.value)
    assert "maintenance" in str(caught.value)


def test_response_extra_fields_are_kept(
    router: respx.MockRouter, sample_answer: Callable[[Any], Any]
) -> None:
    """A newer server's extra fields do not break the client."""
    from pytest_spectron.client.models import ForgetResponse

    router.post("/api/v1/ctx/forget").respond(json={"deleted": 2, "newField": [1]})
    with Spectron("ctx", ENDPOINT, API_KEY) as client:
        result = client.forget("sky")
    assert isinstance(result, ForgetResponse)
    assert result.deleted == 2


def test_api_key_never_appears_in_errors_or_reprs(router: respx.MockRouter) -> None:
    """The key is sent as a bearer token and shown nowhere."""
    router.get("/api/v1/ctx/state").mock(side_effect=httpx.ConnectError("refused"))
    client = Spectron("ctx", ENDPOINT, API_KEY, max_retries=0)
    with client, pytest.raises(SpectronConnectionError) as caught:
        client.state()

    shown = [repr(client), str(caught.value), repr(caught.value), repr(client._options)]
    shown += [repr(client.with_options(timeout=3)), repr(client.documents)]
    assert all(API_KEY not in text for text in shown)
    assert router.calls.last.request.headers["authorization"] == f"Bearer {API_KEY}"


def test_a_retry_after_date_in_minus_zero_zone_is_read_as_utc() -> None:
    """``-0000`` (a date with no zone information, RFC 5322) is read as UTC, not a TypeError."""
    now = datetime(2026, 11, 25, 10, 0, 0, tzinfo=timezone.utc)
    assert parse_retry_after("Wed, 25 Nov 2026 10:00:30 -0000", now=now) == 30.0


def test_a_retry_after_date_is_measured_from_the_current_time() -> None:
    """Without ``now``, a date is compared with the current UTC time: one long past gives 0."""
    assert parse_retry_after("Wed, 25 Nov 2020 10:00:30 GMT") == 0.0
    assert parse_retry_after("Wed, 25 Nov 2020 10:00:30 -0000") == 0.0


def test_an_api_error_names_its_operation_and_trace() -> None:
    """The message leads with the operation and ends with the trace id, when each is known."""
    full = SpectronNotFoundError("gone", status_code=404, operation="state", trace_id="trc-1")
    bare = SpectronNotFoundError("gone", status_code=404)
    assert (str(full), str(bare)) == ("state: HTTP 404: gone (trace trc-1)", "HTTP 404: gone")
    assert repr(bare) == "SpectronNotFoundError(status_code=404, message='gone')"


def test_a_decode_error_keeps_its_operation_and_body() -> None:
    """``SpectronDecodeError`` carries the operation and the raw body it could not read."""
    error = SpectronDecodeError("not JSON", operation="state", body=b"<html>")
    assert (error.operation, error.body, str(error)) == ("state", b"<html>", "state: not JSON")
