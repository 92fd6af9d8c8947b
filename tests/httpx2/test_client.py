"""The typed client sends through an ``httpx2`` client passed as ``http_client``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx

import pytest_spectron
from pytest_spectron.client import (
    AsyncSpectron,
    Spectron,
    SpectronStreamError,
    SpectronTimeoutError,
)
from pytest_spectron.testing import SpectronMock, VirtualClock

httpx2 = pytest.importorskip("httpx2", reason="httpx2 is not installed (Python 3.11+, test extra)")

ENDPOINT = "https://spectron.test"
EMPTY_GRAPH: dict[str, list[Any]] = {"attributes": [], "entities": [], "relations": []}
STATE = {
    "context": EMPTY_GRAPH,
    "identity": EMPTY_GRAPH,
    "knowledge": EMPTY_GRAPH,
    "instructions": [],
    "unknowns": [],
}


def answering(seen: list[Any], status: int = 200) -> Any:
    """An httpx2 transport that answers every request with ``STATE`` and keeps it in ``seen``."""

    def handler(request: Any) -> Any:
        seen.append(request)
        return httpx2.Response(status, json=STATE)

    return httpx2.MockTransport(handler)


def test_sync_client_sends_through_the_httpx2_client() -> None:
    """``Spectron(http_client=httpx2.Client(...))``: the httpx2 client's transport answers."""
    seen: list[Any] = []
    with httpx2.Client(transport=answering(seen)) as http:
        state = Spectron("ctx", ENDPOINT, "key", http_client=http).state()

    assert state.instructions == []
    assert [str(request.url) for request in seen] == [ENDPOINT + "/api/v1/ctx/state"]
    assert seen[0].headers["Authorization"] == "Bearer key"


def test_async_client_sends_through_the_httpx2_async_client() -> None:
    """``AsyncSpectron(http_client=httpx2.AsyncClient(...))`` likewise."""
    seen: list[Any] = []

    async def main() -> None:
        async with httpx2.AsyncClient(transport=answering(seen)) as http:
            await AsyncSpectron("ctx", ENDPOINT, "key", http_client=http).state()

    asyncio.run(main())
    assert len(seen) == 1


def test_httpx2_client_defaults_are_sent() -> None:
    """The httpx2 client's own headers and query parameters go with every request."""
    seen: list[Any] = []
    with httpx2.Client(
        transport=answering(seen), headers={"X-App": "notes"}, params={"tenant": "t1"}
    ) as http:
        Spectron("ctx", ENDPOINT, "key", http_client=http).state()

    assert seen[0].headers["X-App"] == "notes"
    assert seen[0].url.params["tenant"] == "t1"


@pytest.mark.parametrize(
    ("own", "sent"),
    [
        (None, "{ours}"),
        ("notes-app/1.0", "notes-app/1.0 {ours}"),
    ],
)
def test_user_agent_is_ours_after_the_httpx2_clients_own(own: str | None, sent: str) -> None:
    """httpx2's default User-Agent gives way to ours; an application's own goes first."""
    seen: list[Any] = []
    headers = {} if own is None else {"User-Agent": own}
    with httpx2.Client(transport=answering(seen), headers=headers) as http:
        Spectron("ctx", ENDPOINT, "key", http_client=http).state()

    ours = f"pytest-spectron/{pytest_spectron.__version__} python-httpx/{httpx.__version__}"
    assert seen[0].headers["User-Agent"] == sent.format(ours=ours)


def test_timeout_reaches_the_httpx2_transport() -> None:
    """The client's timeout, not the httpx2 client's, bounds each request."""
    seen: list[Any] = []
    with httpx2.Client(transport=answering(seen), timeout=99) as http:
        Spectron("ctx", ENDPOINT, "key", timeout=7, http_client=http).state()

    assert seen[0].extensions["timeout"] == {"connect": 7, "read": 7, "write": 7, "pool": 7}


def test_httpx2_client_is_left_open() -> None:
    """Closing the Spectron client leaves the caller's httpx2 client open."""
    with httpx2.Client(transport=answering([])) as http:
        with Spectron("ctx", ENDPOINT, "key", http_client=http):
            pass
        assert not http.is_closed


@pytest.mark.parametrize(
    ("client", "http_client", "expected"),
    [
        (Spectron, lambda: httpx2.AsyncClient(), "httpx.Client"),
        (AsyncSpectron, lambda: httpx2.Client(), "httpx.AsyncClient"),
    ],
)
def test_httpx2_client_of_the_other_flavour_is_a_type_error(
    client: type[Any], http_client: Callable[[], Any], expected: str
) -> None:
    """A sync client refuses an ``httpx2.AsyncClient``, an async one an ``httpx2.Client``."""
    with pytest.raises(TypeError, match=f"^http_client must be an {expected}, got httpx2\\."):
        client("ctx", ENDPOINT, "key", http_client=http_client())


def test_respx_mocks_of_httpx_do_not_answer_for_an_httpx2_client() -> None:
    """An httpx2 client is used as given: respx, which patches httpx only, never answers it."""
    seen: list[Any] = []
    with (
        respx.mock(using="httpx", assert_all_called=False) as router,
        httpx2.Client(transport=answering(seen)) as http,
    ):
        router.get(ENDPOINT + "/api/v1/ctx/state").respond(500)
        Spectron("ctx", ENDPOINT, "key", http_client=http).state()

    assert len(seen) == 1
    assert not router.calls


def test_retries_run_on_the_virtual_clock(
    spectron_mock: SpectronMock, spectron_clock: VirtualClock
) -> None:
    """Two 503s, three attempts through the httpx2 client, waits of 0.25 s and 0.5 s."""
    spectron_mock.fail("state", 503, 503)
    with httpx2.Client() as http:
        Spectron("ctx", spectron_mock.endpoint, spectron_mock.api_key, http_client=http).state()

    spectron_mock.assert_attempts("state", 3)
    assert spectron_clock.sleeps == [0.25, 0.5]


def test_timeout_is_a_spectron_timeout_error_from_httpx2s(spectron_mock: SpectronMock) -> None:
    """httpx2's ReadTimeout becomes SpectronTimeoutError, chained through httpx's."""
    spectron_mock.fail("state", "read_timeout")
    with httpx2.Client() as http:
        client = Spectron(
            "ctx", spectron_mock.endpoint, spectron_mock.api_key, max_retries=0, http_client=http
        )
        with pytest.raises(SpectronTimeoutError) as raised:
            client.state()

    assert isinstance(raised.value.__cause__, httpx.ReadTimeout)
    assert isinstance(raised.value.__cause__.__cause__, httpx2.ReadTimeout)


def test_streamed_chat_arrives_chunk_by_chunk(spectron_mock: SpectronMock) -> None:
    """SSE through an httpx2 client: chunks, ending with ``done``."""
    with httpx2.Client() as http:
        client = Spectron("ctx", spectron_mock.endpoint, spectron_mock.api_key, http_client=http)
        with client.chat("hello", stream=True) as stream:
            chunks = list(stream)

    assert chunks[-1].done
    assert len(chunks) > 1


def test_async_streamed_chat_cut_is_a_stream_error(spectron_mock: SpectronMock) -> None:
    """A stream cut reaching an httpx2.AsyncClient raises SpectronStreamError, as with httpx."""
    spectron_mock.fail("chat", "stream_cut:1")
    chunks: list[Any] = []

    async def main() -> None:
        async with httpx2.AsyncClient() as http:
            client = AsyncSpectron(
                "ctx", spectron_mock.endpoint, spectron_mock.api_key, http_client=http
            )
            async with await client.chat("hello", stream=True) as stream:
                async for chunk in stream:
                    chunks.append(chunk)

    with pytest.raises(SpectronStreamError, match="cut"):
        asyncio.run(main())
    assert len(chunks) == 1


def test_httpx2_error_without_an_httpx_twin_becomes_its_nearest_base() -> None:
    """httpx2's ``SSEError`` has no httpx namesake: it becomes httpx's ``TransportError``."""
    from pytest_spectron.client._httpx2 import _to_httpx_error  # imports httpx2

    request = httpx.Request("GET", ENDPOINT)

    error = _to_httpx_error(httpx2.SSEError("bad frame"), request)

    assert type(error) is httpx.TransportError
    assert str(error) == "bad frame"
    assert error.request is request
