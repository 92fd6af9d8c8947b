"""The derived Idempotency-Key is the official SDKs': sha256(METHOD \\0 path \\0 body \\0 bucket).

The expected keys are computed here with hashlib from literal inputs, never by the client's code.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

import pytest
import respx

from pytest_spectron.client.models import FactsBatchResponse, FactsResponse

NOW = 1_700_000_010.0
"""A moment that starts a 30-second window: 1_700_000_010 / 30 = 56_666_667 exactly."""
REMEMBER_BODY = b'{"text":"the sky is blue"}'
BATCH_BODY = b'{"messages":[{"content":"hi","role":"user"}]}'


def official_key(method: bytes, path: bytes, body: bytes, bucket: bytes) -> str:
    return hashlib.sha256(method + b"\0" + path + b"\0" + body + b"\0" + bucket).hexdigest()


@pytest.fixture
def frozen_time(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    """``frozen_time(t)``: ``time.time()`` answers ``t`` until the test ends."""

    def freeze(moment: float) -> None:
        monkeypatch.setattr(time, "time", lambda: moment)

    freeze(NOW)
    return freeze


def remember(client: Any) -> Any:
    return client.remember("the sky is blue")


@pytest.mark.usefixtures("frozen_time")
def test_remember_key_is_sha256_of_method_path_body_and_bucket(
    router: respx.MockRouter, call_client: Callable[..., Any], sample_answer: Callable[[Any], Any]
) -> None:
    """``remember`` sends sha256(POST \\0 /api/v1/ctx/facts \\0 body \\0 56666667), hex."""
    route = router.post("/api/v1/ctx/facts").respond(json=sample_answer(FactsResponse))

    call_client(remember)

    request = route.calls.last.request
    assert request.content == REMEMBER_BODY
    expected = official_key(b"POST", b"/api/v1/ctx/facts", REMEMBER_BODY, b"56666667")
    assert request.headers["idempotency-key"] == expected


@pytest.mark.usefixtures("frozen_time")
def test_remember_many_key_hashes_the_batch_path_and_body(
    router: respx.MockRouter, call_client: Callable[..., Any], sample_answer: Callable[[Any], Any]
) -> None:
    """``remember_many`` hashes ``/api/v1/ctx/facts/batch`` and the exact batch body sent."""
    route = router.post("/api/v1/ctx/facts/batch").respond(json=sample_answer(FactsBatchResponse))

    call_client(lambda client: client.remember_many([{"role": "user", "content": "hi"}]))

    request = route.calls.last.request
    assert request.content == BATCH_BODY
    expected = official_key(b"POST", b"/api/v1/ctx/facts/batch", BATCH_BODY, b"56666667")
    assert request.headers["idempotency-key"] == expected


@pytest.mark.usefixtures("frozen_time")
def test_key_path_leaves_out_the_endpoint_prefix(
    call_client: Callable[..., Any], sample_answer: Callable[[Any], Any]
) -> None:
    """Behind ``http://host/spectron`` the key still hashes /api/v1/…, not /spectron/api/v1/…."""
    with respx.mock(base_url="http://spectron.test/spectron") as prefixed:
        route = prefixed.post("/api/v1/ctx/facts").respond(json=sample_answer(FactsResponse))
        call_client(remember, endpoint="http://spectron.test/spectron")

    request = route.calls.last.request
    assert request.url.path == "/spectron/api/v1/ctx/facts"
    expected = official_key(b"POST", b"/api/v1/ctx/facts", REMEMBER_BODY, b"56666667")
    assert request.headers["idempotency-key"] == expected


@pytest.mark.usefixtures("frozen_time")
def test_key_path_has_the_context_percent_encoded_as_sent(
    router: respx.MockRouter, call_client: Callable[..., Any], sample_answer: Callable[[Any], Any]
) -> None:
    """A context with a space and a slash is hashed as it travels: ``team%20a%2Fb``."""
    route = router.post("/api/v1/team%20a%2Fb/facts").respond(json=sample_answer(FactsResponse))

    call_client(remember, context="team a/b")

    expected = official_key(b"POST", b"/api/v1/team%20a%2Fb/facts", REMEMBER_BODY, b"56666667")
    assert route.calls.last.request.headers["idempotency-key"] == expected


@pytest.mark.parametrize(
    ("moment", "bucket"),
    [
        (NOW, b"56666667"),
        (NOW + 29.999, b"56666667"),
        (NOW + 30.0, b"56666668"),
        (NOW - 0.001, b"56666666"),
    ],
)
def test_key_bucket_is_the_unix_time_floored_to_30_seconds(
    router: respx.MockRouter,
    call_client: Callable[..., Any],
    sample_answer: Callable[[Any], Any],
    frozen_time: Callable[[float], None],
    moment: float,
    bucket: bytes,
) -> None:
    """The last part hashed is floor(unix_time / 30): one key per call and 30-second window."""
    route = router.post("/api/v1/ctx/facts").respond(json=sample_answer(FactsResponse))
    frozen_time(moment)

    call_client(remember)

    expected = official_key(b"POST", b"/api/v1/ctx/facts", REMEMBER_BODY, bucket)
    assert route.calls.last.request.headers["idempotency-key"] == expected
