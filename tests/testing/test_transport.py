"""The in-process transport and respx side effect, driven by the real Spectron clients."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from pytest_spectron.client import (
    AsyncSpectron,
    Spectron,
    SpectronConnectionError,
    SpectronDecodeError,
    SpectronServerError,
    SpectronStreamError,
    SpectronTimeoutError,
)
from pytest_spectron.testing.fake import FakeSpectron
from pytest_spectron.testing.faults._outcomes import Latency, StreamCut
from pytest_spectron.testing.http._exchange import (
    NetworkFailure,
    ServiceRequest,
    ServiceResponse,
)
from pytest_spectron.testing.http._routing import Route
from pytest_spectron.testing.service._clock import VirtualClock
from pytest_spectron.testing.service._service import SpectronService, UnroutableRequest
from pytest_spectron.testing.transports._in_process import (
    STREAM_CUT_MESSAGE,
    network_error,
    service_handler,
    to_service_request,
)

ENDPOINT = "http://spectron.test"
CONTEXT = "ctx"
API_KEY = "sk-transport-test"
EMPTY_GRAPH: dict[str, list[Any]] = {"attributes": [], "entities": [], "relations": []}
ANSWERS: dict[str, Any] = {
    "state": {
        "context": EMPTY_GRAPH,
        "identity": EMPTY_GRAPH,
        "knowledge": EMPTY_GRAPH,
        "instructions": [],
        "unknowns": [],
    },
    "remember": {"mode": "full", "sessionId": "s-1"},
    "forget": {"deleted": 1},
}
FRAMES = (
    b'data: {"delta": "Hel"}\n\n',
    b'data: {"delta": "lo", "done": true}\n\n',
    b"data: [DONE]\n\n",
)


class CannedFake:
    """Stands in for the fake: a valid answer for state, remember and forget; chat streams."""

    def handle(self, route: Route, request: ServiceRequest) -> ServiceResponse:
        """The canned answer of the routed operation."""
        if route.operation.name == "chat":
            return ServiceResponse(
                200, headers=(("content-type", "text/event-stream"),), events=FRAMES
            )
        data = json.dumps(ANSWERS[route.operation.name]).encode()
        return ServiceResponse(200, headers=(("content-type", "application/json"),), body=data)

    def reset(self) -> None:
        """Nothing to forget."""


@pytest.fixture
def clock() -> Iterator[VirtualClock]:
    """A virtual clock catching every client's retry waits."""
    clock = VirtualClock()
    with clock.install():
        yield clock


@pytest.fixture
def service(clock: VirtualClock) -> SpectronService:
    """A service over the canned fake, sharing the test's clock; strict about routes."""
    return SpectronService(CannedFake(), clock=clock, on_unroutable="raise")


@pytest.fixture
def client(service: SpectronService) -> Iterator[Spectron]:
    """A sync client served in-process by the transport."""
    with Spectron(
        CONTEXT, ENDPOINT, API_KEY, transport=httpx.MockTransport(service_handler(service))
    ) as client:
        yield client


def async_client(service: SpectronService, **options: Any) -> AsyncSpectron:
    """An async client served in-process by the transport."""
    return AsyncSpectron(
        CONTEXT,
        ENDPOINT,
        API_KEY,
        transport=httpx.MockTransport(service_handler(service)),
        **options,
    )


def outcomes(service: SpectronService, operation: str) -> list[str]:
    """The journal's outcomes for one operation."""
    return [attempt.outcome for attempt in service.journal.attempts(operation)]


# -- Requests and answers ----------------------------------------------------------------------


def test_request_conversion_keeps_path_query_headers_body_and_read_timeout() -> None:
    """An httpx request becomes a service request with the raw path and the read timeout."""
    request = httpx.Request(
        "POST",
        "http://h/api/v1/a%2Fb/facts?k=1&k=2",
        headers={"X-Thing": "yes"},
        content=b"{}",
        extensions={"timeout": {"connect": 1.0, "read": 7.5, "write": 1.0, "pool": 1.0}},
    )
    converted = to_service_request(request)
    assert (converted.method, converted.path, converted.query) == (
        "POST",
        "/api/v1/a%2Fb/facts",
        (("k", "1"), ("k", "2")),
    )
    assert (converted.header("x-thing"), converted.body, converted.timeout) == ("yes", b"{}", 7.5)


def test_request_without_a_read_timeout_has_none() -> None:
    """No timeout extension, or a disabled read timeout, is None."""
    disabled = httpx.Request("GET", "http://h/x", extensions={"timeout": {"read": None}})
    missing = httpx.Request("GET", "http://h/x")
    assert [to_service_request(r).timeout for r in (disabled, missing)] == [None, None]


@pytest.mark.parametrize(
    ("kind", "error_type"),
    [
        ("connect", httpx.ConnectError),
        ("connect_timeout", httpx.ConnectTimeout),
        ("read_timeout", httpx.ReadTimeout),
        ("reset", httpx.ReadError),
    ],
)
def test_network_failures_become_the_matching_httpx_errors(
    kind: Any, error_type: type[Exception]
) -> None:
    """Each failure kind maps to the httpx exception a real network raises, naming the fault."""
    error = network_error(NetworkFailure(kind, "via state=x"), httpx.Request("GET", "http://h/"))
    assert type(error) is error_type
    assert "via state=x" in str(error)


def test_sse_answer_streams_frame_by_frame(service: SpectronService) -> None:
    """An SSE answer reaches httpx one frame per chunk."""
    with httpx.Client(transport=httpx.MockTransport(service_handler(service))) as http:
        body = json.dumps({"message": "hi", "stream": True}).encode()
        with http.stream("POST", f"{ENDPOINT}/api/v1/ctx/chat", content=body) as response:
            assert tuple(response.iter_raw()) == FRAMES


def test_cut_stream_raises_remote_protocol_error_after_n_frames(service: SpectronService) -> None:
    """A cut stream yields N frames, then httpx's "peer closed connection" error."""
    service.faults.add("chat", "stream_cut:1")
    received: list[bytes] = []
    with (
        httpx.Client(transport=httpx.MockTransport(service_handler(service))) as http,
        http.stream("POST", f"{ENDPOINT}/api/v1/ctx/chat", content=b"{}") as response,
        pytest.raises(httpx.RemoteProtocolError, match=STREAM_CUT_MESSAGE),
    ):
        received.extend(response.iter_raw())
    assert received == [FRAMES[0]]


# -- Through the real clients ------------------------------------------------------------------


def test_two_503s_are_retried_with_backoff(
    client: Spectron, service: SpectronService, clock: VirtualClock
) -> None:
    """``state`` with 503x2: three attempts, waits of 0.25 s and 0.5 s, then the answer."""
    service.faults.add_spec("state=503x2")
    client.state()
    assert outcomes(service, "state") == ["503", "503", "200"]
    assert clock.sleeps == [0.25, 0.5]


def test_latency_beyond_the_timeout_is_a_timeout_error(
    service: SpectronService, clock: VirtualClock
) -> None:
    """Latency past the client's timeout: every attempt times out, on virtual time only."""
    service.faults.add("state", "latency:5")
    transport = httpx.MockTransport(service_handler(service))
    with (
        Spectron(CONTEXT, ENDPOINT, API_KEY, timeout=2.0, transport=transport) as client,
        pytest.raises(SpectronTimeoutError) as caught,
    ):
        client.state()
    assert isinstance(caught.value.__cause__, httpx.ReadTimeout)
    assert outcomes(service, "state") == ["read_timeout"] * 4
    assert clock.now == 4 * 2.0 + 0.25 + 0.5 + 1.0


def test_reset_is_a_connection_error_and_a_write_is_not_retried(
    client: Spectron, service: SpectronService
) -> None:
    """A reset write raises SpectronConnectionError chained to ReadError, after one attempt."""
    service.faults.add("forget", "reset")
    with pytest.raises(SpectronConnectionError) as caught:
        client.forget("anything")
    assert not isinstance(caught.value, SpectronTimeoutError)
    assert isinstance(caught.value.__cause__, httpx.ReadError)
    assert "connection reset by peer" in str(caught.value)
    assert outcomes(service, "forget") == ["reset"]


def test_remember_retries_under_one_idempotency_key(
    client: Spectron, service: SpectronService, clock: VirtualClock
) -> None:
    """``connect`` then 503 on remember: three attempts sharing one Idempotency-Key."""
    service.faults.add("remember", "connect", 503)
    client.remember("tea")
    attempts = service.journal.attempts("remember")
    assert [a.outcome for a in attempts] == ["connect", "503", "200"]
    assert len({a.idempotency_key for a in attempts}) == 1
    assert attempts[0].idempotency_key is not None


def test_stream_cut_raises_stream_error(client: Spectron, service: SpectronService) -> None:
    """A streamed chat cut after one frame gives that chunk, then SpectronStreamError."""
    service.faults.add("chat", "stream_cut:1")
    deltas: list[str] = []
    with pytest.raises(SpectronStreamError), client.chat("hi", stream=True) as stream:
        deltas.extend(chunk.delta for chunk in stream)
    assert deltas == ["Hel"]
    assert outcomes(service, "chat") == ["stream_cut"]


def test_truncated_json_on_200_is_a_decode_error(
    client: Spectron, service: SpectronService
) -> None:
    """A 200 whose JSON is cut raises SpectronDecodeError, not retried."""
    service.faults.add("state", "truncated_json")
    with pytest.raises(SpectronDecodeError):
        client.state()
    assert outcomes(service, "state") == ["200"]


def test_html_502_is_a_server_error_carrying_the_page(
    client: Spectron, service: SpectronService
) -> None:
    """An HTML 502 raises SpectronServerError whose ``.body`` is the page's text."""
    service.faults.add("forget", "html")
    with pytest.raises(SpectronServerError) as caught:
        client.forget("anything")
    assert caught.value.status_code == 502
    assert isinstance(caught.value.body, str)
    assert "<title>502 Bad Gateway</title>" in caught.value.body


def test_unroutable_request_fails_loudly_through_httpx(service: SpectronService) -> None:
    """In raise mode the AssertionError escapes httpx instead of becoming a network error."""
    with (
        httpx.Client(transport=httpx.MockTransport(service_handler(service))) as http,
        pytest.raises(UnroutableRequest, match="nearest: state"),
    ):
        http.get(f"{ENDPOINT}/api/v1/ctx/stat")


def test_async_client_retries_with_backoff(service: SpectronService, clock: VirtualClock) -> None:
    """The async client goes through the same transport, faults and virtual clock."""
    service.faults.add("state", 503, times=2)

    async def main() -> None:
        async with async_client(service) as client:
            await client.state()

    asyncio.run(main())
    assert (outcomes(service, "state"), clock.sleeps) == (["503", "503", "200"], [0.25, 0.5])


def test_async_stream_cut_raises_stream_error(service: SpectronService) -> None:
    """An async streamed chat cut after one frame raises SpectronStreamError."""
    service.faults.add("chat", "stream_cut:1")
    deltas: list[str] = []

    async def main() -> None:
        async with async_client(service) as client:
            stream = await client.chat("hi", stream=True)
            async with stream:
                async for chunk in stream:
                    deltas.append(chunk.delta)

    with pytest.raises(SpectronStreamError):
        asyncio.run(main())
    assert deltas == ["Hel"]


# -- Through respx -----------------------------------------------------------------------------


@pytest.fixture
def mocked(service: SpectronService) -> Iterator[respx.MockRouter]:
    """A respx router answering the endpoint from the service; other hosts are unmocked."""
    with respx.mock(assert_all_called=False) as router:
        router.route(host="spectron.test").mock(side_effect=service_handler(service))
        yield router


@pytest.mark.usefixtures("mocked")
def test_respx_serves_a_client_with_its_default_transport(
    service: SpectronService, clock: VirtualClock
) -> None:
    """A client built without a transport reaches the service through respx."""
    service.faults.add("state", 503, times=1)
    with Spectron(CONTEXT, ENDPOINT, API_KEY) as client:
        client.state()
    assert (outcomes(service, "state"), clock.sleeps) == (["503", "200"], [0.25])


@pytest.mark.usefixtures("mocked")
def test_respx_passes_the_read_timeout(service: SpectronService) -> None:
    """The client's read timeout reaches the service through respx."""
    service.faults.add("state", "latency:5")
    with (
        Spectron(CONTEXT, ENDPOINT, API_KEY, timeout=1.0, max_retries=0) as client,
        pytest.raises(SpectronTimeoutError),
    ):
        client.state()


@pytest.mark.usefixtures("mocked")
def test_respx_raises_network_failures(service: SpectronService) -> None:
    """A network fault surfaces as the client's connection error through respx."""
    service.faults.add("forget", "connect")
    with Spectron(CONTEXT, ENDPOINT, API_KEY) as client, pytest.raises(SpectronConnectionError):
        client.forget("x")


@pytest.mark.usefixtures("mocked")
def test_respx_streams_and_cuts_sync(service: SpectronService) -> None:
    """Through respx a sync streamed chat gets its frames, then the cut."""
    service.faults.add("chat", "stream_cut:1")
    deltas: list[str] = []
    with (
        Spectron(CONTEXT, ENDPOINT, API_KEY) as client,
        pytest.raises(SpectronStreamError),
        client.chat("hi", stream=True) as stream,
    ):
        deltas.extend(chunk.delta for chunk in stream)
    assert deltas == ["Hel"]


@pytest.mark.usefixtures("mocked")
def test_respx_streams_and_cuts_async(service: SpectronService) -> None:
    """Through respx an async streamed chat gets its frames, then the cut."""
    service.faults.add("chat", "stream_cut:1")
    deltas: list[str] = []

    async def main() -> None:
        async with AsyncSpectron(CONTEXT, ENDPOINT, API_KEY) as client:
            stream = await client.chat("hi", stream=True)
            async with stream:
                async for chunk in stream:
                    deltas.append(chunk.delta)

    with pytest.raises(SpectronStreamError):
        asyncio.run(main())
    assert deltas == ["Hel"]


@pytest.mark.usefixtures("mocked")
def test_respx_complete_stream_arrives_whole(service: SpectronService) -> None:
    """Without a cut, every chunk arrives and the stream completes."""
    with Spectron(CONTEXT, ENDPOINT, API_KEY) as client, client.chat("hi", stream=True) as stream:
        deltas = [chunk.delta for chunk in stream]
    assert (deltas, stream.completed) == (["Hel", "lo"], True)


@pytest.mark.usefixtures("mocked")
def test_respx_unroutable_request_fails_loudly() -> None:
    """In raise mode the AssertionError escapes respx and httpx untouched."""
    with pytest.raises(UnroutableRequest):
        httpx.get(f"{ENDPOINT}/api/v1/ctx/stat")


# -- With the real fake ------------------------------------------------------------------------


@pytest.fixture
def real_fake(clock: VirtualClock) -> FakeSpectron:
    """The real FakeSpectron, on the test's virtual clock."""
    return FakeSpectron(clock=lambda: clock.now)


@pytest.fixture
def real(real_fake: FakeSpectron, clock: VirtualClock) -> SpectronService:
    """A strict service over the real fake."""
    return SpectronService(real_fake, clock=clock, on_unroutable="raise")


def test_real_fake_remember_survives_faults_and_is_recalled(
    real: SpectronService, real_fake: FakeSpectron, clock: VirtualClock
) -> None:
    """Through connect and 503 faults one fact is stored, and recall finds it."""
    real.faults.add_spec("remember=connect,503")
    with Spectron(
        CONTEXT, ENDPOINT, API_KEY, transport=httpx.MockTransport(service_handler(real))
    ) as client:
        client.remember("Alice likes green tea")
        hits = client.recall("tea").hits
    assert (len(real_fake.facts(CONTEXT)), len(hits)) == (1, 1)
    assert clock.sleeps == [0.25, 0.5]


def test_real_fake_timed_out_remember_is_replayed_not_duplicated(
    real: SpectronService, real_fake: FakeSpectron
) -> None:
    """A slow first attempt times out after storing; the retry replays it: one fact."""
    real.faults.add("remember", Latency(10), times=1)
    transport = httpx.MockTransport(service_handler(real))
    with Spectron(CONTEXT, ENDPOINT, API_KEY, timeout=2.0, transport=transport) as client:
        client.remember("stored once")
    assert [a.outcome for a in real.journal.attempts("remember")] == ["read_timeout", "200"]
    assert len(real_fake.facts(CONTEXT)) == 1


def test_real_fake_stream_cut_mid_answer(real: SpectronService) -> None:
    """The fake's own chat stream, cut after one frame, raises SpectronStreamError."""
    real.faults.add("stream", StreamCut(after=1))
    deltas: list[str] = []
    with (
        Spectron(
            CONTEXT, ENDPOINT, API_KEY, transport=httpx.MockTransport(service_handler(real))
        ) as client,
        pytest.raises(SpectronStreamError),
        client.chat("what do I like?", stream=True) as stream,
    ):
        deltas.extend(chunk.delta for chunk in stream)
    assert len(deltas) == 1
    assert real.journal.attempts("chat")[0].retry_class == "stream"


def test_real_fake_async_client_through_respx(real: SpectronService, clock: VirtualClock) -> None:
    """An async client with no transport of its own reaches the real fake through respx."""
    real.faults.add("remember", "reset", times=1)

    async def main() -> int:
        async with AsyncSpectron(CONTEXT, ENDPOINT, API_KEY) as client:
            await client.remember("async fact")
            return len((await client.recall("async")).hits)

    with respx.mock(assert_all_called=False) as router:
        router.route(host="spectron.test").mock(side_effect=service_handler(real))
        hits = asyncio.run(main())
    assert (hits, clock.sleeps) == (1, [0.25])
