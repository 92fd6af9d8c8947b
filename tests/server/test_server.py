"""The loopback server: HTTP/1.1 over real sockets on 127.0.0.1, faults as socket behaviour."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import aiohttp
import httpx
import pytest

from pytest_spectron.client import (
    Spectron,
    SpectronServerError,
    SpectronStreamError,
)
from pytest_spectron.testing.fake import FakeSpectron
from pytest_spectron.testing.http._exchange import NetworkFailure, ServiceRequest, ServiceResponse
from pytest_spectron.testing.service._clock import VirtualClock
from pytest_spectron.testing.service._service import SpectronService
from pytest_spectron.testing.transports.loopback import (
    CLIENT_TIMEOUT,
    LoopbackServer,
    NonLoopbackBindWarning,
)

Answer = ServiceResponse | NetworkFailure | Exception

FRAMES = (b'data: {"delta": "Hel"}\n\n', b'data: {"delta": "lo"}\n\n', b"data: [DONE]\n\n")
Exchange = Callable[[LoopbackServer, bytes], bytes]
"""The ``exchange`` fixture (tests/server/conftest.py): raw bytes in, the whole answer out."""

WAIT = 5.0
"""Seconds a test waits at most for anything that should happen at once."""
HELD = 0.2
"""The client timeout where a held connection must time out."""
CONTEXT = "ctx"
API_KEY = "sk-server-test"


class ScriptedService:
    """A test double: answers from a script in order (the last answer repeats), or raises."""

    def __init__(self, *answers: Answer) -> None:
        self.answers: list[Answer] = list(answers) or [text_answer("ok")]
        self.requests: list[ServiceRequest] = []
        self._seen = threading.Condition()

    def dispatch(self, request: ServiceRequest) -> ServiceResponse | NetworkFailure:
        """Record the request, then give the next scripted answer."""
        with self._seen:
            self.requests.append(request)
            self._seen.notify_all()
            answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    def wait_for_requests(self, count: int) -> None:
        """Block until ``count`` requests have been dispatched (at most ``WAIT`` seconds)."""
        with self._seen:
            assert self._seen.wait_for(lambda: len(self.requests) >= count, timeout=WAIT)


def text_answer(text: str, status: int = 200) -> ServiceResponse:
    """A plain-text answer."""
    return ServiceResponse(status, headers=(("content-type", "text/plain"),), body=text.encode())


def event_answer(cut_after: int | None = None) -> ServiceResponse:
    """An SSE answer of ``FRAMES``, cut after ``cut_after`` of them."""
    return ServiceResponse(
        200, headers=(("content-type", "text/event-stream"),), events=FRAMES, cut_after=cut_after
    )


Serve = Callable[..., tuple[LoopbackServer, ScriptedService]]


@pytest.fixture
def serve() -> Iterator[Serve]:
    """Serve scripted answers on a loopback port; every server is stopped after the test."""
    servers: list[LoopbackServer] = []

    def start(*answers: Answer) -> tuple[LoopbackServer, ScriptedService]:
        service = ScriptedService(*answers)
        server = LoopbackServer(service).start()
        servers.append(server)
        return server, service

    yield start
    for server in servers:
        server.stop()


def client_address(answer: httpx.Response) -> tuple[str, int]:
    """The local address of the connection an answer came on (read while it is open)."""
    address: tuple[str, int] = answer.extensions["network_stream"].get_extra_info("client_addr")
    return address


def open_descriptors() -> int:
    """How many file descriptors this process holds."""
    folder = "/proc/self/fd" if os.path.isdir("/proc/self/fd") else "/dev/fd"
    return len(os.listdir(folder))


# -- Answers --------------------------------------------------------------------------------


def test_url_names_the_loopback_port(serve: Serve) -> None:
    """``url`` is ``http://127.0.0.1:PORT`` with the free port the server picked."""
    server, _ = serve()
    assert (server.url, server.host) == (f"http://127.0.0.1:{server.port}", "127.0.0.1")
    assert server.port > 0


def test_plain_answer_reaches_httpx(serve: Serve) -> None:
    """Status, headers and body of a plain answer arrive as the service gave them."""
    server, _ = serve(text_answer("hello", status=201))
    answer = httpx.get(f"{server.url}/anything", timeout=WAIT)
    assert (answer.status_code, answer.text) == (201, "hello")
    assert answer.headers["content-type"] == "text/plain"
    assert answer.headers["content-length"] == "5"


def test_service_sees_the_request_as_sent(serve: Serve) -> None:
    """Method, raw path, decoded query, lower-case headers and body reach the service."""
    server, service = serve()
    httpx.post(
        f"{server.url}/api/v1/a%2Fb/facts?k=3&q=green%20tea",
        headers={"X-Trace": "t-1"},
        content=b'{"text": "tea"}',
        timeout=WAIT,
    )
    [seen] = service.requests
    assert (seen.method, seen.path, seen.query) == (
        "POST",
        "/api/v1/a%2Fb/facts",
        (("k", "3"), ("q", "green tea")),
    )
    assert (seen.header("x-trace"), seen.body, seen.timeout) == (
        "t-1",
        b'{"text": "tea"}',
        CLIENT_TIMEOUT,
    )


def test_chunked_request_body_is_joined(serve: Serve) -> None:
    """A chunked request body reaches the service whole."""
    server, service = serve()
    parts = iter([b"Hello, ", b"chunked ", b"world"])
    httpx.post(server.url, content=parts, timeout=WAIT)
    assert service.requests[0].body == b"Hello, chunked world"


def test_expect_100_continue_is_honoured(serve: Serve) -> None:
    """A client that waits for ``100 Continue`` gets it, then sends its body."""
    server, service = serve()
    with socket.create_connection((server.host, server.port), timeout=WAIT) as connection:
        connection.sendall(
            b"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"
        )
        assert connection.recv(1024) == b"HTTP/1.1 100 Continue\r\n\r\n"
        connection.sendall(b"body")
        assert connection.recv(1024).startswith(b"HTTP/1.1 200 OK\r\n")
    assert service.requests[0].body == b"body"


def test_keep_alive_serves_two_requests_on_one_connection(serve: Serve) -> None:
    """Two requests from one httpx.Client travel on the same connection."""
    server, service = serve(text_answer("one"), text_answer("two"))
    with httpx.Client(base_url=server.url, timeout=WAIT) as client:
        first = client.get("/1")
        first_end = client_address(first)
        second = client.get("/2")
        second_end = client_address(second)
    assert (first.text, second.text, len(service.requests)) == ("one", "two", 2)
    assert first_end == second_end


def test_urllib_is_served(serve: Serve) -> None:
    """A client that is not httpx (urllib) gets the answer."""
    server, service = serve(text_answer("from urllib"))
    request = urllib.request.Request(f"{server.url}/u", data=b"payload", method="PUT")
    with urllib.request.urlopen(request, timeout=WAIT) as answer:
        assert (answer.status, answer.read()) == (200, b"from urllib")
    assert (service.requests[0].method, service.requests[0].body) == ("PUT", b"payload")


def test_head_answer_has_no_body(serve: Serve) -> None:
    """A HEAD request gets the headers, with the body's length, and no body."""
    server, _ = serve(text_answer("twelve bytes"))
    with httpx.Client(base_url=server.url, timeout=WAIT) as client:
        head, after = client.head("/h"), client.get("/h")
    assert (head.headers["content-length"], head.content) == ("12", b"")
    assert after.text == "twelve bytes"  # the connection was left in a clean state


# -- Server-sent events ---------------------------------------------------------------------


def test_event_stream_frames_arrive_in_order(serve: Serve) -> None:
    """An SSE answer streams its frames in order, chunked."""
    server, _ = serve(event_answer())
    with httpx.Client(timeout=WAIT) as client, client.stream("GET", server.url) as answer:
        received = b"".join(answer.iter_bytes())
    assert answer.headers["transfer-encoding"] == "chunked"
    assert received == b"".join(FRAMES)


def test_event_stream_is_one_chunk_per_frame(serve: Serve, exchange: Exchange) -> None:
    """On the wire, each frame is a chunk of its own, then the terminating chunk."""
    server, _ = serve(event_answer())
    raw = exchange(server, b"GET /s HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
    body = raw.partition(b"\r\n\r\n")[2]
    expected = b"".join(b"%x\r\n%b\r\n" % (len(frame), frame) for frame in FRAMES)
    assert body == expected + b"0\r\n\r\n"


def test_event_stream_to_http10_client_ends_with_the_connection(
    serve: Serve, exchange: Exchange
) -> None:
    """An HTTP/1.0 client gets the frames unchunked, ended by the close."""
    server, _ = serve(event_answer())
    raw = exchange(server, b"GET /s HTTP/1.0\r\n\r\n")
    head, _, body = raw.partition(b"\r\n\r\n")
    assert b"Transfer-Encoding" not in head
    assert body == b"".join(FRAMES)


def test_connection_is_reused_after_a_stream(serve: Serve) -> None:
    """A complete stream leaves the connection open for the next request."""
    server, _ = serve(event_answer(), text_answer("next"))
    with httpx.Client(base_url=server.url, timeout=WAIT) as client:
        with client.stream("GET", "/s") as answer:
            answer.read()
            streamed_end = client_address(answer)
        following = client.get("/n")
        following_end = client_address(following)
    assert (following.text, streamed_end) == ("next", following_end)


def test_cut_stream_raises_remote_protocol_error(serve: Serve) -> None:
    """A stream cut after one frame delivers it, then httpx raises RemoteProtocolError."""
    server, _ = serve(event_answer(cut_after=1))
    received: list[bytes] = []
    with (
        httpx.Client(timeout=WAIT) as client,
        client.stream("GET", server.url) as answer,
        pytest.raises(httpx.RemoteProtocolError, match="incomplete chunked read"),
    ):
        received.extend(answer.iter_bytes())
    assert b"".join(received) == FRAMES[0]


def test_cut_stream_raises_incomplete_read_in_urllib(serve: Serve) -> None:
    """urllib sees a cut stream as ``http.client.IncompleteRead``."""
    server, _ = serve(event_answer(cut_after=2))
    with (
        urllib.request.urlopen(server.url, timeout=WAIT) as answer,
        pytest.raises(Exception, match="IncompleteRead") as caught,
    ):
        answer.read()
    assert type(caught.value).__name__ == "IncompleteRead"


# -- Network failures -----------------------------------------------------------------------


def test_reset_raises_read_error(serve: Serve) -> None:
    """``reset`` closes with a TCP RST after the request: httpx raises ReadError."""
    server, _ = serve(NetworkFailure("reset"))
    with pytest.raises(httpx.ReadError, match="reset"):
        httpx.get(server.url, timeout=WAIT)


def test_connect_raises_read_error_not_connect_error(serve: Serve) -> None:
    """``connect`` is an RST too: a listening server cannot refuse, so httpx raises ReadError."""
    server, _ = serve(NetworkFailure("connect"))
    with pytest.raises(httpx.ReadError) as caught:
        httpx.get(server.url, timeout=WAIT)
    assert not isinstance(caught.value, httpx.ConnectError)


def test_reset_raises_connection_reset_in_urllib(serve: Serve) -> None:
    """urllib sees ``reset`` as ConnectionResetError."""
    server, _ = serve(NetworkFailure("reset"))
    with pytest.raises(ConnectionResetError):
        urllib.request.urlopen(server.url, timeout=WAIT)


def test_reset_on_a_reused_connection_raises_read_error(serve: Serve) -> None:
    """A reset on a kept-alive connection is a ReadError, and the client recovers after it."""
    server, _ = serve(text_answer("first"), NetworkFailure("reset"), text_answer("third"))
    with httpx.Client(base_url=server.url, timeout=WAIT) as client:
        assert client.get("/1").text == "first"
        with pytest.raises(httpx.ReadError):
            client.get("/2")
        assert client.get("/3").text == "third"


@pytest.mark.parametrize("kind", ["read_timeout", "connect_timeout"])
def test_timeouts_hold_until_the_client_read_timeout(serve: Serve, kind: Any) -> None:
    """A held connection times the client out on its own read timeout: httpx.ReadTimeout."""
    server, _ = serve(NetworkFailure(kind))
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(server.url, timeout=HELD)


def test_read_timeout_raises_timeout_error_in_urllib(serve: Serve) -> None:
    """urllib sees a held connection as TimeoutError."""
    server, _ = serve(NetworkFailure("read_timeout"))
    with pytest.raises(TimeoutError):
        urllib.request.urlopen(server.url, timeout=HELD)


def test_stop_releases_a_held_connection(serve: Serve) -> None:
    """Stopping the server closes a connection it holds silent; the client sees the close."""
    server, service = serve(NetworkFailure("read_timeout"))
    with socket.create_connection((server.host, server.port), timeout=WAIT) as connection:
        connection.sendall(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        service.wait_for_requests(1)
        server.stop()
        assert connection.recv(1024) == b""


# -- Errors ---------------------------------------------------------------------------------


def test_service_exception_is_a_500_problem_and_the_server_keeps_serving(serve: Serve) -> None:
    """A service that raises gets a 500 problem; the next request is answered."""
    server, _ = serve(RuntimeError("boom"), text_answer("still here"))
    with httpx.Client(base_url=server.url, timeout=WAIT) as client:
        failed, after = client.get("/1"), client.get("/2")
    assert (failed.status_code, failed.headers["content-type"]) == (
        500,
        "application/json",
    )
    assert "RuntimeError: boom" in failed.json()["detail"]
    assert after.text == "still here"


def test_unsendable_answer_is_a_500_problem(serve: Serve) -> None:
    """An answer with a header that cannot be sent becomes a 500 problem."""
    bad = ServiceResponse(200, headers=(("x-bad", "line\r\nbreak"),), body=b"x")
    server, _ = serve(bad)
    answer = httpx.get(server.url, timeout=WAIT)
    assert answer.status_code == 500
    assert "cannot be sent" in answer.json()["detail"]


# -- Warnings, lifecycle, load --------------------------------------------------------------


def test_binding_beyond_loopback_warns() -> None:
    """Asking for 0.0.0.0 warns NonLoopbackBindWarning (checked without binding)."""
    with pytest.warns(NonLoopbackBindWarning, match="beyond the loopback"):
        LoopbackServer(ScriptedService(), host="0.0.0.0")


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1"])
def test_loopback_hosts_do_not_warn(host: str) -> None:
    """Loopback addresses and ``localhost`` raise no warning."""
    LoopbackServer(ScriptedService(), host=host)  # filterwarnings=error turns one into a failure


def test_stop_leaves_no_threads_or_sockets() -> None:
    """After stop(), the thread count and open descriptors are back to where they were."""
    threads, descriptors = threading.active_count(), open_descriptors()
    service = ScriptedService(text_answer("ok"), NetworkFailure("read_timeout"))
    server = LoopbackServer(service).start()
    idle = httpx.Client(base_url=server.url, timeout=WAIT)
    idle.get("/kept-alive")  # its connection now waits, idle, for a next request
    held = socket.create_connection((server.host, server.port), timeout=WAIT)
    held.sendall(b"GET /held HTTP/1.1\r\nHost: h\r\n\r\n")
    service.wait_for_requests(2)  # the second connection is now held, silent
    server.stop()
    idle.close()
    held.close()
    assert (threading.active_count(), open_descriptors()) == (threads, descriptors)


def test_stop_twice_and_restart() -> None:
    """stop() is idempotent, and a stopped server can start again."""
    server = LoopbackServer(ScriptedService(text_answer("again")))
    with server:
        pass
    server.stop()
    with server:
        assert httpx.get(server.url, timeout=WAIT).text == "again"


def test_fifty_concurrent_clients_are_all_answered(serve: Serve) -> None:
    """Fifty clients on fifty threads, all connected at once, each get their answer."""
    server, service = serve(text_answer("ok"))
    clients = 50
    together = threading.Barrier(clients, timeout=WAIT)

    def one(number: int) -> int:
        together.wait()
        with urllib.request.urlopen(f"{server.url}/client/{number}", timeout=WAIT) as answer:
            return int(answer.status)

    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        statuses = list(pool.map(one, range(clients)))
    assert statuses == [200] * clients
    assert sorted(request.path for request in service.requests) == sorted(
        f"/client/{number}" for number in range(clients)
    )


# -- With the real fake and service ---------------------------------------------------------


@pytest.fixture
def real_server(service: SpectronService) -> Iterator[LoopbackServer]:
    """The real service on a loopback port."""
    with LoopbackServer(service) as server:
        yield server


def test_spectron_client_remembers_and_recalls(real_server: LoopbackServer) -> None:
    """The real client over the socket: remember stores, recall finds it, state answers."""
    with Spectron(CONTEXT, real_server.url, API_KEY, timeout=WAIT) as client:
        client.remember("Alice likes green tea")
        hits = client.recall("green tea").hits
        client.state()
    assert [hit.text for hit in hits] == ["Alice likes green tea"]


def test_status_fault_is_retried_through_the_server(
    real_server: LoopbackServer, service: SpectronService, clock: VirtualClock
) -> None:
    """``state=503x2``: two 503s over the socket, retried after 0.25 s and 0.5 s, then 200."""
    service.faults.add_spec("state=503x2")
    with Spectron(CONTEXT, real_server.url, API_KEY, timeout=WAIT) as client:
        client.state()
    assert [attempt.outcome for attempt in service.journal.attempts("state")] == [
        "503",
        "503",
        "200",
    ]
    assert clock.sleeps == [0.25, 0.5]


def test_network_faults_are_retried_through_the_server(
    real_server: LoopbackServer, service: SpectronService, fake: FakeSpectron
) -> None:
    """``remember=reset,connect``: two real connection failures, then one fact stored."""
    service.faults.add_spec("remember=reset,connect")
    with Spectron(CONTEXT, real_server.url, API_KEY, timeout=WAIT) as client:
        client.remember("stored once")
    outcomes = [attempt.outcome for attempt in service.journal.attempts("remember")]
    assert (outcomes, len(fake.facts(CONTEXT))) == (["reset", "connect", "200"], 1)


def aiohttp_outcome(url: str) -> str:
    """GET ``url`` with aiohttp (which re-sends an idempotent request once on a dropped
    connection); the status, or the name of the error it raised."""

    async def main() -> str:
        async with aiohttp.ClientSession() as session:
            try:
                async with session.get(url, headers={"authorization": f"Bearer {API_KEY}"}) as got:
                    return str(got.status)
            except aiohttp.ClientError as error:
                return type(error).__name__

    return asyncio.run(main())


def test_connect_fault_is_one_attempt_for_aiohttp(
    real_server: LoopbackServer, service: SpectronService
) -> None:
    """A ``connect`` fault refuses aiohttp's own re-send too: one attempt, one fault's turn.

    aiohttp re-sends an idempotent request once when its connection drops before the answer
    (aiohttp/client.py: "# https://www.rfc-editor.org/rfc/rfc9112.html#name-retrying-requests",
    on ClientOSError or ServerDisconnectedError); a refused connection (ClientConnectorError)
    is never re-sent. So the official SDK's 4 attempts are 4 attempts here, not 8.
    """
    service.faults.add_spec("state=connect,ok")

    refused = aiohttp_outcome(f"{real_server.url}/api/v1/{CONTEXT}/state")
    answered = aiohttp_outcome(f"{real_server.url}/api/v1/{CONTEXT}/state")

    assert (refused, answered) == ("ClientOSError", "200")
    assert [attempt.outcome for attempt in service.journal.attempts("state")] == ["connect", "200"]


def test_a_reset_is_still_re_sent_by_aiohttp(
    real_server: LoopbackServer, service: SpectronService
) -> None:
    """A ``reset`` (the connection dropped after the request arrived) lets aiohttp's re-send in,
    as a real dropped connection would: two attempts, the second answered."""
    service.faults.add_spec("state=reset,ok")

    assert aiohttp_outcome(f"{real_server.url}/api/v1/{CONTEXT}/state") == "200"
    assert [attempt.outcome for attempt in service.journal.attempts("state")] == ["reset", "200"]


def test_a_clients_own_retries_after_connect_are_attempts(
    real_server: LoopbackServer, service: SpectronService, clock: VirtualClock
) -> None:
    """Retries after a backoff (virtual here, so at once in real time) are never taken for a
    re-send: each is journaled and takes the fault's next turn."""
    service.faults.add_spec("state=connectx2")
    with Spectron(CONTEXT, real_server.url, API_KEY, timeout=WAIT) as client:
        client.state()

    outcomes = [attempt.outcome for attempt in service.journal.attempts("state")]
    assert (outcomes, clock.sleeps) == (["connect", "connect", "200"], [0.25, 0.5])


def test_read_timeout_fault_times_the_client_out(
    real_server: LoopbackServer, service: SpectronService
) -> None:
    """``state=read_timeout``: the client's own 0.2 s read timeout fires, then it retries."""
    service.faults.add_spec("state=read_timeout,ok")
    with Spectron(CONTEXT, real_server.url, API_KEY, timeout=HELD) as client:
        client.state()
    outcomes = [attempt.outcome for attempt in service.journal.attempts("state")]
    assert outcomes == ["read_timeout", "200"]


def test_chat_streams_over_the_server(real_server: LoopbackServer) -> None:
    """A streamed chat arrives chunk by chunk over the socket, ending with ``done``."""
    with (
        Spectron(CONTEXT, real_server.url, API_KEY, timeout=WAIT) as client,
        client.chat("what do I like?", stream=True) as stream,
    ):
        chunks = list(stream)
    assert chunks
    assert chunks[-1].done


def test_stream_cut_fault_through_the_server(
    real_server: LoopbackServer, service: SpectronService
) -> None:
    """``chat=stream_cut:1``: one chunk arrives, then SpectronStreamError."""
    service.faults.add_spec("chat=stream_cut:1")
    deltas: list[str] = []
    with (
        Spectron(CONTEXT, real_server.url, API_KEY, timeout=WAIT) as client,
        pytest.raises(SpectronStreamError),
        client.chat("hi", stream=True) as stream,
    ):
        deltas.extend(chunk.delta for chunk in stream)
    assert len(deltas) == 1


def test_admin_endpoints_over_the_server(real_server: LoopbackServer) -> None:
    """Faults posted to /__spectron/faults apply; the journal shows them; reset clears all."""
    headers = {"Authorization": f"Bearer {API_KEY}"}
    with httpx.Client(base_url=real_server.url, timeout=WAIT) as admin:
        added = admin.post("/__spectron/faults", json={"spec": "state=503x1"})
        listed = admin.get("/__spectron/faults").json()["faults"]
        failed = admin.get(f"/api/v1/{CONTEXT}/state", headers=headers)
        journal = admin.get("/__spectron/journal").json()["attempts"]
        reset = admin.post("/__spectron/reset")
        after = admin.get("/__spectron/journal").json()["attempts"]
    assert (added.status_code, len(listed), failed.status_code) == (201, 1, 503)
    assert [(entry["operation"], entry["outcome"]) for entry in journal] == [("state", "503")]
    assert (reset.status_code, after) == (200, [])


def test_server_error_from_a_fault_reaches_the_client_typed(
    real_server: LoopbackServer, service: SpectronService
) -> None:
    """A write (``forget``) failing with 503 over the socket raises SpectronServerError once."""
    service.faults.add_spec("forget=503")
    with (
        Spectron(CONTEXT, real_server.url, API_KEY, timeout=WAIT) as client,
        pytest.raises(SpectronServerError),
    ):
        client.forget("anything")
    assert len(service.journal.attempts("forget")) == 1
