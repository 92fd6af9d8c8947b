"""The fail-closed promise, kept whole: outside a running mock, no interception path opens a socket.

For every client the mock intercepts (httpx and httpx2, sync and async; requests and aiohttp;
add each new path to ``SENDERS``), a request to the guarded endpoint before any mock ran, after
the mock stopped, or to a near miss of it (a Spectron route on another origin) raises
``RefusedRequest``; the test's guards on ``socket.getaddrinfo`` and ``socket.socket.connect``
fail it loudly had anything tried to reach the network.
"""

from __future__ import annotations

import asyncio
import importlib.util
import socket
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import httpx
import pytest

from pytest_spectron import RefusedRequest, SpectronMock
from pytest_spectron.testing.transports._intercept_httpx import (
    AsyncNetworkWhenReached,
    NetworkWhenReached,
    intercepting,
)
from pytest_spectron.testing.transports._registry import Origin, guarding

ENDPOINT = "http://fail-closed.test"
STATE = "/api/v1/ctx/state"


def httpx_sync(url: str) -> object:
    """An httpx.Client request."""
    with httpx.Client() as client:
        return client.get(url)


def httpx_async(url: str) -> object:
    """An httpx.AsyncClient request."""

    async def send() -> object:
        async with httpx.AsyncClient() as client:
            return await client.get(url)

    return asyncio.run(send())


def bound_sync(url: str) -> object:
    """A request of a mock's bound client (``spectron_mock.client()``), kept past its mock."""
    with httpx.Client(transport=NetworkWhenReached(), trust_env=False) as client:
        return client.get(url)


def bound_async(url: str) -> object:
    """A request of a mock's bound async client, kept past its mock."""

    async def send() -> object:
        transport = AsyncNetworkWhenReached()
        async with httpx.AsyncClient(transport=transport, trust_env=False) as client:
            return await client.get(url)

    return asyncio.run(send())


def httpx2_sync(url: str) -> object:
    """An httpx2.Client request."""
    import httpx2

    with httpx2.Client() as client:
        return client.get(url)


def httpx2_async(url: str) -> object:
    """An httpx2.AsyncClient request."""
    import httpx2

    async def send() -> object:
        async with httpx2.AsyncClient() as client:
            return await client.get(url)

    return asyncio.run(send())


def requests_session(url: str) -> object:
    """A requests.Session request (the official SDK's sync client sends this way)."""
    import requests

    with requests.Session() as session:
        return session.get(url, timeout=5)


def requests_function(url: str) -> object:
    """A request of requests' module functions."""
    import requests

    return requests.get(url, timeout=5)


def aiohttp_session(url: str) -> object:
    """An aiohttp.ClientSession request (the official SDK's async client sends this way)."""
    import aiohttp

    async def send() -> object:
        async with aiohttp.ClientSession() as session, session.get(url) as answer:
            return await answer.read()

    return asyncio.run(send())


_NO_HTTPX2 = pytest.mark.skipif(
    importlib.util.find_spec("httpx2") is None, reason="httpx2 is not installed"
)
SENDERS = [
    pytest.param(httpx_sync, id="httpx-sync"),
    pytest.param(httpx_async, id="httpx-async"),
    pytest.param(bound_sync, id="bound-client-sync"),
    pytest.param(bound_async, id="bound-client-async"),
    pytest.param(httpx2_sync, id="httpx2-sync", marks=_NO_HTTPX2),
    pytest.param(httpx2_async, id="httpx2-async", marks=_NO_HTTPX2),
    pytest.param(requests_session, id="requests-session"),
    pytest.param(requests_function, id="requests-function"),
    pytest.param(aiohttp_session, id="aiohttp-session"),
]
Sender = Callable[[str], object]


@pytest.fixture
def guarded() -> Iterator[None]:
    """The plugin's session hold, on ``ENDPOINT``: interception started, its origin guarded."""
    with ExitStack() as held:
        held.enter_context(intercepting())
        held.enter_context(guarding(Origin.of(httpx.URL(ENDPOINT)), ENDPOINT))
        yield


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Fail loudly on any DNS lookup or connection; the list records each attempt."""
    tried: list[str] = []

    def refuse(*args: object, **kwargs: object) -> None:
        tried.append(repr(args[:2]))
        raise AssertionError(f"the network was touched: {args[:2]!r}")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return tried


@pytest.mark.parametrize("send", SENDERS)
def test_before_any_mock_nothing_connects(
    guarded: None, no_network: list[str], send: Sender
) -> None:
    """No mock ran yet: the request is refused as such, and no socket opens."""
    with pytest.raises(RefusedRequest) as refused:
        send(ENDPOINT + STATE)
    assert refused.value.reason == "no_mock"
    assert no_network == []


@pytest.mark.parametrize("send", SENDERS)
def test_after_the_mock_stopped_nothing_connects(
    guarded: None, no_network: list[str], send: Sender
) -> None:
    """The mock answered, then stopped: the same request is refused, and no socket opens."""
    with SpectronMock(endpoint=ENDPOINT, label="the test before") as mock:
        send(ENDPOINT + STATE)
        mock.assert_attempts("state", 1)
    with pytest.raises(RefusedRequest, match="it stopped when the test before ended") as refused:
        send(ENDPOINT + STATE)
    assert refused.value.reason == "mock_stopped"
    assert no_network == []


@pytest.mark.parametrize("send", SENDERS)
@pytest.mark.parametrize(
    "origin", ["https://fail-closed.test", "http://fail-closed.test.example", "http://10.9.8.7"]
)
def test_a_near_miss_never_connects(
    guarded: None, no_network: list[str], send: Sender, origin: str
) -> None:
    """A Spectron route on another scheme, host or address is refused before any DNS lookup."""
    with pytest.raises(RefusedRequest) as refused:
        send(origin + STATE)
    assert refused.value.reason == "near_miss"
    assert no_network == []


@pytest.mark.parametrize("send", SENDERS)
def test_the_guard_sees_a_request_that_goes_on(
    guarded: None, no_network: list[str], send: Sender
) -> None:
    """The control: a request the registry lets go on is caught by this module's guard."""
    with pytest.raises(Exception, match="the network was touched"):
        send("http://unrelated.test/weather")
    assert no_network != []
