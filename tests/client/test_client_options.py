"""Client construction: every bad argument fails at once with a message naming it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pydantic
import pytest
import respx

from pytest_spectron.client import NOT_GIVEN, AsyncSpectron, Spectron

ENDPOINT = "https://spectron.test"


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({"context": ""}, ValueError, "context must be a non-empty"),
        ({"context": 3}, TypeError, "context must be a str"),
        ({"endpoint": "spectron.test"}, ValueError, "absolute http"),
        ({"endpoint": "ftp://spectron.test"}, ValueError, "absolute http"),
        ({"endpoint": "https://spectron.test/?a=1"}, ValueError, "query or fragment"),
        ({"endpoint": None}, TypeError, "endpoint must be a str"),
        ({"api_key": ""}, ValueError, "api_key must be a non-empty"),
        ({"api_key": "a\nb"}, ValueError, "a line break"),
        ({"api_key": b"key"}, TypeError, "api_key must be a str"),
        ({"timeout": -1}, ValueError, "finite number of seconds, above 0"),
        ({"timeout": float("inf")}, ValueError, "finite number of seconds, above 0"),
        ({"timeout": "30"}, TypeError, "timeout must be seconds"),
        ({"timeout": True}, TypeError, "timeout must be seconds"),
        ({"max_retries": -1}, ValueError, "max_retries must be an int of 0 or more"),
        ({"max_retries": 2.0}, TypeError, "max_retries must be an int"),
        ({"max_retries": True}, TypeError, "max_retries must be an int"),
    ],
)
@pytest.mark.parametrize("client_class", [Spectron, AsyncSpectron])
def test_bad_constructor_arguments_are_rejected(
    client_class: type[Any], arguments: dict[str, Any], error: type[Exception], message: str
) -> None:
    """The error names the argument and what it accepts."""
    given = {"context": "ctx", "endpoint": ENDPOINT, "api_key": "key"} | arguments
    with pytest.raises(error, match=message):
        client_class(**given)


def test_http_client_and_transport_are_exclusive() -> None:
    """Passing both an httpx client and a transport is ambiguous, so it is refused."""
    with pytest.raises(ValueError, match="not both"):
        Spectron(
            "ctx", ENDPOINT, "key", http_client=httpx.Client(), transport=httpx.HTTPTransport()
        )


@pytest.mark.parametrize(
    ("client_class", "argument", "value", "expected"),
    [
        (Spectron, "http_client", httpx.AsyncClient, "httpx.Client"),
        (AsyncSpectron, "http_client", httpx.Client, "httpx.AsyncClient"),
        (Spectron, "transport", httpx.AsyncHTTPTransport, "httpx.BaseTransport"),
        (AsyncSpectron, "transport", httpx.HTTPTransport, "httpx.AsyncBaseTransport"),
    ],
)
def test_http_client_of_the_other_flavour_is_a_type_error(
    client_class: type[Any], argument: str, value: Callable[[], Any], expected: str
) -> None:
    """An async httpx client given to the sync client, or the reverse, fails at once."""
    with pytest.raises(TypeError, match=f"^{argument} must be an? {expected}, got "):
        client_class("ctx", ENDPOINT, "key", **{argument: value()})


def test_default_timeout_is_thirty_seconds() -> None:
    """Thirty seconds for every phase, as documented."""
    assert Spectron("ctx", ENDPOINT, "key").timeout == httpx.Timeout(30.0)


def test_with_options_validates_and_keeps_the_rest() -> None:
    """``with_options`` changes only what it is given, validated like the constructor."""
    client = Spectron("ctx", ENDPOINT, "key", max_retries=5)
    copy = client.with_options(timeout=2.5)
    assert copy.timeout == httpx.Timeout(2.5)
    assert copy.max_retries == 5
    assert client.with_options(timeout=NOT_GIVEN).timeout == httpx.Timeout(30.0)
    with pytest.raises(ValueError, match="max_retries"):
        client.with_options(max_retries=-2)


def test_endpoint_with_base_path_is_kept(router: respx.MockRouter) -> None:
    """An endpoint behind a path prefix keeps the prefix, without doubling slashes."""
    route = router.get("https://spectron.test/prefix/api/v1/ctx/me").respond(
        json={
            "principalId": "p",
            "kind": "user",
            "displayName": "P",
            "grants": {},
            "effectiveGrants": {},
        }
    )
    with Spectron("ctx", "https://spectron.test/prefix/", "key") as client:
        client.whoami()
    assert route.called


def test_timeout_reaches_the_request(router: respx.MockRouter) -> None:
    """The configured timeout travels with each request, streaming chat's read limit included."""
    route = router.post("/api/v1/ctx/chat").respond(
        200, headers={"content-type": "text/event-stream"}, content=b"data: [DONE]\n\n"
    )
    with Spectron("ctx", ENDPOINT, "key", timeout=4.0) as client:
        list(client.chat("hi", stream=True))
    timeout = route.calls.last.request.extensions["timeout"]
    assert timeout == {"connect": 4.0, "read": 4.0, "write": 4.0, "pool": 4.0}


def test_injected_http_client_is_used_and_left_open(router: respx.MockRouter) -> None:
    """An httpx client passed in carries the requests and is not closed by ours."""
    router.get("/api/v1/ctx/profile").respond(
        json={"static": [], "dynamic": [], "preferences": [], "instructions": []}
    )
    http = httpx.Client(headers={"x-app": "my-app"})
    with Spectron("ctx", ENDPOINT, "key", http_client=http) as client:
        client.profile()
    assert router.calls.last.request.headers["x-app"] == "my-app"
    assert not http.is_closed
    http.close()


def test_on_behalf_of_is_sent_as_a_header(
    router: respx.MockRouter, sample_answer: Callable[[Any], Any]
) -> None:
    """``on_behalf_of=`` becomes the ``X-Spectron-On-Behalf-Of`` header."""
    from pytest_spectron.client.models import StateResponse

    router.get("/api/v1/ctx/state").respond(json=sample_answer(StateResponse))
    with Spectron("ctx", ENDPOINT, "key") as client:
        client.state(on_behalf_of="user-7")
    assert router.calls.last.request.headers["x-spectron-on-behalf-of"] == "user-7"


def test_invalid_request_fields_fail_before_sending(router: respx.MockRouter) -> None:
    """A value the request model rejects raises at once, and nothing is sent."""
    with Spectron("ctx", ENDPOINT, "key") as client, pytest.raises(pydantic.ValidationError):
        client.recall("sky", k=-1)
    with Spectron("ctx", ENDPOINT, "key") as client, pytest.raises(ValueError, match="scope"):
        client.remember("x", scopes=[[["too", "deep"]]])  # type: ignore[list-item]
    assert not router.calls


def test_scope_selectors_are_sent_as_clauses(
    router: respx.MockRouter, sample_answer: Callable[[Any], Any]
) -> None:
    """A path, a flat list (OR) and nested lists (AND) are all sent as array<array<string>>."""
    from pytest_spectron.client.models import FactsResponse

    route = router.post("/api/v1/ctx/facts").respond(json=sample_answer(FactsResponse))
    with Spectron("ctx", ENDPOINT, "key") as client:
        client.remember("a", scopes="team/a")
        client.remember("b", scopes=["team/a", "team/b"])
        client.remember("c", scopes=[["team/a", "clearance/x"]])
    sent = [httpx.Request("POST", "/", content=c.request.content) for c in route.calls]
    import json

    assert [json.loads(r.content)["scopes"] for r in sent] == [
        [["team/a"]],
        [["team/a"], ["team/b"]],
        [["team/a", "clearance/x"]],
    ]


def test_async_client_closes_its_own_pool() -> None:
    """Leaving ``async with`` closes the pool the client created."""

    async def main() -> AsyncSpectron:
        async with AsyncSpectron("ctx", ENDPOINT, "key") as client:
            pass
        return client

    client = asyncio.run(main())
    assert client._http.is_closed


def test_clients_built_without_an_http_client_share_one_ssl_context() -> None:
    """The CA bundle is loaded once per process, not once per client."""
    first, second = (
        Spectron("ctx", "https://a.test", "key"),
        AsyncSpectron("ctx", "https://b.test", "key"),
    )
    sync_transport, async_transport = first._http._transport, second._http._transport
    assert isinstance(sync_transport, httpx.HTTPTransport)
    assert isinstance(async_transport, httpx.AsyncHTTPTransport)
    contexts = {id(sync_transport._pool._ssl_context), id(async_transport._pool._ssl_context)}
    assert len(contexts) == 1
    first.close()
