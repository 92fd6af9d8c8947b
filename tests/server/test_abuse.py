"""The loopback server under abuse: every bad request gets a clear answer, over real sockets.

The ``server-`` rows of docs/bad-input.md are the rows tested here (a test below keeps the two
in step): raw requests in ``ABUSES``, and the rows that need their own set-up in ``SET_UP_ROWS``.
"""

from __future__ import annotations

import json
import os
import re
import resource
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from pytest_spectron.testing.http._exchange import ServiceRequest
from pytest_spectron.testing.service._service import SpectronService
from pytest_spectron.testing.transports.loopback import LoopbackServer, _http_reader, admin_refusal

Exchange = Callable[[LoopbackServer, bytes], bytes]
"""The ``exchange`` fixture (tests/server/conftest.py): raw bytes in, the whole answer out."""

WAIT = 5.0
"""Seconds a test waits at most for anything that should happen at once."""
IDLE = 0.2
"""The idle timeout of the servers that test it."""
INVENTORY = Path(__file__).resolve().parents[2] / "docs" / "bad-input.md"
AUTHORIZATION = b"Authorization: Bearer sk-abuse\r\n"
DEEP = b"[" * 100_000 + b"]" * 100_000


def post(path: str, body: bytes) -> bytes:
    """A whole HTTP/1.1 POST to 127.0.0.1 that asks the server to close after answering."""
    return (
        b"POST %b HTTP/1.1\r\nHost: 127.0.0.1\r\n%bContent-Type: application/json\r\n"
        b"Content-Length: %d\r\nConnection: close\r\n\r\n%b"
    ) % (path.encode(), AUTHORIZATION, len(body), body)


def with_length(length: bytes) -> bytes:
    """A POST whose Content-Length header says ``length``."""
    return b"POST /x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %b\r\n\r\nbody" % length


def chunked(size_line: bytes) -> bytes:
    """A chunked POST whose first chunk size line is ``size_line``."""
    head = b"POST /x HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    return head + size_line + b"\r\nabcde\r\n0\r\n\r\n"


def admin(*headers: bytes) -> bytes:
    """A ``POST /__spectron/reset`` with these header lines (and no Host unless given)."""
    return (
        b"POST /__spectron/reset HTTP/1.1\r\n%bContent-Length: 0\r\nConnection: close\r\n\r\n"
        % (b"".join(headers))
    )


@dataclass(frozen=True)
class Abuse:
    """Raw requests, each sent on a fresh connection, and the problem answer each must get."""

    raws: tuple[bytes, ...]
    status: int
    detail: str
    """A fragment of the problem's ``detail``."""


ABUSES: dict[str, Abuse] = {
    "server-garbage-request-line": Abuse(
        (
            b"NONSENSE\r\n\r\n",
            b"GET /x HTTP/1.1 extra\r\n\r\n",
            b"\x16\x03\x01\x02\x00\r\n\r\n",
            b"GET /x HTTP/1.1\r\r\n\r\n",
        ),
        400,
        "expected METHOD TARGET HTTP/1.1",
    ),
    "server-request-target-malformed": Abuse(
        (
            b"GET nowhere HTTP/1.1\r\n\r\n",
            b"GET http://[::1/x HTTP/1.1\r\n\r\n",
            b"GET /a\tb HTTP/1.1\r\n\r\n",
        ),
        400,
        "malformed request target",
    ),
    "server-http-version": Abuse((b"GET /x HTTP/2.0\r\n\r\n",), 505, "use HTTP/1.1"),
    "server-request-line-too-long": Abuse(
        (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n",), 414, "longer than 65536 bytes"
    ),
    "server-malformed-header": Abuse(
        (
            b"GET /x HTTP/1.1\r\nno colon here\r\n\r\n",
            b"GET /x HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n",
            b"GET /x HTTP/1.1\r\nHost: h\r\nX-Nul: a\x00b\r\n\r\n",
            b"GET /x HTTP/1.1\r\nHost: h\r\nX-Cr: a\rb\r\n\r\n",
        ),
        400,
        "header",
    ),
    "server-header-too-long": Abuse(
        (b"GET /x HTTP/1.1\r\nX-Big: " + b"b" * 70_000 + b"\r\n\r\n",),
        431,
        "longer than 65536 bytes",
    ),
    "server-too-many-headers": Abuse(
        (b"GET /x HTTP/1.1\r\n" + b"X-Many: 1\r\n" * 101 + b"\r\n",), 431, "more than 100"
    ),
    "server-content-length-not-a-number": Abuse(
        tuple(
            with_length(value)
            for value in (
                b"many",
                "²".encode(),
                "٣".encode(),
                b"+4",
                b"-4",
                b"0x4",
                b"4_0",
                b"9" * 5000,
                b"4, 5",
                b"",
            )
        ),
        400,
        "is not one whole number of bytes",
    ),
    "server-content-length-and-chunked": Abuse(
        (
            b"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n0\r\n\r\n",
        ),
        400,
        "both Content-Length and Transfer-Encoding",
    ),
    "server-transfer-encoding-unknown": Abuse(
        (b"POST /x HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",), 501, "send chunked"
    ),
    "server-chunk-size-not-hex": Abuse(
        tuple(chunked(size) for size in (b"zz", "\uff15".encode(), b"+5", b"-5", b"0x5", b"")),
        400,
        "chunk size",
    ),
    "server-chunk-overrun": Abuse(
        (chunked(b"3"), chunked(b"5").replace(b"abcde", b"abcdefGET /smuggled HTTP/1.1")),
        400,
        "a chunk does not end with CRLF where its size says",
    ),
    "server-too-many-trailers": Abuse(
        (chunked(b"5").removesuffix(b"\r\n") + b"X-Trailer: 1\r\n" * 101 + b"\r\n",),
        431,
        "more than 100 trailer lines",
    ),
    "server-body-too-large": Abuse((with_length(b"99999999999"),), 413, "larger than"),
    "server-json-too-deep": Abuse(
        (
            post("/api/v1/ctx/facts", DEEP),
            post("/api/v1/ctx/chat", b'{"stream": true, "x": ' + DEEP + b"}"),
            post("/__spectron/faults", DEEP),
        ),
        400,
        "more than 200 levels deep",
    ),
    "server-fault-spec-bad-number": Abuse(
        tuple(
            post("/__spectron/faults", json.dumps({"spec": spec}).encode())
            for spec in ("state=503x²", "state=stream_cut:²", "state=latency:٢", "state=503x99999")
        ),
        422,
        "bad fault spec",
    ),
    "server-admin-foreign-host": Abuse(
        tuple(
            admin(b"Host: %b\r\n" % host)
            for host in (b"evil.example", b"evil.example:8765", b"127.0.0.1.nip.io", b"0.0.0.0")
        ),
        403,
        "Host header",
    ),
    "server-admin-foreign-target": Abuse(
        tuple(
            b"GET %b/__spectron/journal HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
            % target
            for target in (b"http://evil.example", b"https://evil.example:8765", b"http://0.0.0.0")
        ),
        403,
        "its request target names the host",
    ),
    "server-admin-foreign-origin": Abuse(
        tuple(
            admin(b"Host: 127.0.0.1\r\n", b"Origin: %b\r\n" % origin)
            for origin in (b"https://evil.example", b"null", b"http://0.0.0.0:8765")
        ),
        403,
        "Origin header",
    ),
}


@pytest.fixture
def server(service: SpectronService) -> Iterator[LoopbackServer]:
    """The real service on a loopback port, with the default settings."""
    with LoopbackServer(service) as running:
        yield running


def problem(answer: bytes) -> tuple[int, dict[str, Any]]:
    """The status of a raw answer and its problem body (one answer, then the close)."""
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    decoded: dict[str, Any] = json.loads(body)
    return status, decoded


@pytest.mark.parametrize(
    ("row_id", "raw"),
    [
        pytest.param(row_id, raw, id=f"{row_id}-{number}")
        for row_id, abuse in ABUSES.items()
        for number, raw in enumerate(abuse.raws)
    ],
)
def test_abusive_request_gets_a_clear_problem(
    server: LoopbackServer, service: SpectronService, row_id: str, raw: bytes, exchange: Exchange
) -> None:
    """Each abusive request gets its status, a problem saying why and a close; nothing changes."""
    abuse = ABUSES[row_id]
    service.faults.add_spec("whoami=503")  # a reset or a fault list change would show
    answer = exchange(server, raw)
    status, body = problem(answer)
    assert (status, body["status"]) == (abuse.status, abuse.status)
    assert abuse.detail in body["detail"]
    assert b"Connection: close" in answer.partition(b"\r\n\r\n")[0].split(b"\r\n")
    assert service.journal.attempts() == []
    assert [fault.spec() for fault in service.faults.faults()] == ["whoami=503"]


def test_a_bug_while_reading_still_gets_a_500(
    server: LoopbackServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    exchange: Exchange,
) -> None:
    """Should reading a request ever raise, the client gets a 500 naming the error, not a hang."""

    def broken(line: bytes) -> None:
        raise ValueError("a reading bug")

    monkeypatch.setattr(_http_reader, "parse_request_line", broken)
    status, body = problem(exchange(server, b"GET /x HTTP/1.1\r\n\r\n"))
    assert (status, body["detail"]) == (
        500,
        "the loopback server failed to read the request: ValueError('a reading bug')",
    )
    assert "failed to read a request" in caplog.text


def test_silent_connection_is_closed_after_the_idle_timeout(service: SpectronService) -> None:
    """A connection that sends nothing is closed, with no answer, once idle_timeout passes."""
    with (
        LoopbackServer(service, idle_timeout=IDLE) as server,
        socket.create_connection((server.host, server.port), timeout=WAIT) as connection,
    ):
        started = time.monotonic()
        assert connection.recv(1024) == b""
        assert time.monotonic() - started < WAIT / 2


def test_kept_alive_connection_is_closed_once_idle(
    service: SpectronService, exchange: Exchange
) -> None:
    """After an answer, a kept-alive connection that sends nothing more is closed."""
    with LoopbackServer(service, idle_timeout=IDLE) as server:
        answer = exchange(server, b"GET /__spectron/faults HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"Connection: close" not in answer


def test_stalled_request_gets_a_408(service: SpectronService, exchange: Exchange) -> None:
    """Half a request, then silence: a 408 problem naming the idle timeout, then the close."""
    with LoopbackServer(service, idle_timeout=IDLE) as server:
        answer = exchange(server, b"GET /api/v1/ctx/state HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    status, body = problem(answer)
    assert status == 408
    assert "0.2 s" in body["detail"]


def test_held_connection_outlives_the_idle_timeout(service: SpectronService) -> None:
    """A ``read_timeout`` fault holds the connection silent past the idle timeout, unclosed."""
    service.faults.add_spec("state=read_timeout")
    with (
        LoopbackServer(service, idle_timeout=0.1) as server,
        socket.create_connection((server.host, server.port), timeout=0.3) as connection,
    ):
        connection.sendall(b"GET /api/v1/ctx/state HTTP/1.1\r\nHost: h\r\n%b\r\n" % AUTHORIZATION)
        with pytest.raises(TimeoutError):
            connection.recv(1024)


def test_connection_over_the_cap_gets_a_503(service: SpectronService, exchange: Exchange) -> None:
    """With max_connections=1 and one client connected, a second connection gets a 503 problem."""
    with (
        LoopbackServer(service, max_connections=1) as server,
        httpx.Client(base_url=server.url, timeout=WAIT) as first,
    ):
        assert first.get("/api/v1/ctx/state", headers={"Authorization": "Bearer k"}).is_success
        status, body = problem(exchange(server, b"GET /api/v1/ctx/state HTTP/1.1\r\n\r\n"))
    assert status == 503
    assert "max_connections" in body["detail"]


@pytest.fixture
def descriptors_above_1024() -> Iterator[None]:
    """Hold the descriptors up to 1030, so every socket opened next is numbered above them."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = 2048  # the 1030 held, whatever the process holds already, and the server's own
    if hard != resource.RLIM_INFINITY and hard < needed:
        pytest.skip(f"the hard RLIMIT_NOFILE is {hard}: descriptors above 1024 cannot be opened")
    if soft != resource.RLIM_INFINITY and soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
    held: list[int] = []
    try:
        # The lowest free number is handed out first: these fill every gap below 1030.
        while not held or held[-1] < 1030:
            held.append(os.open(os.devnull, os.O_RDONLY))
        yield
    finally:
        for descriptor in held:
            os.close(descriptor)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.usefixtures("descriptors_above_1024")
def test_server_answers_on_descriptors_above_1024(
    service: SpectronService, exchange: Exchange
) -> None:
    """With every socket numbered above 1024 (beyond select()), the server still answers."""
    with LoopbackServer(service) as server:
        answer = exchange(server, b"GET /__spectron/faults HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")


@pytest.mark.parametrize(
    "headers",
    [
        b"Host: 127.0.0.1\r\n",
        b"Host: 127.0.0.1:8765\r\n",
        b"Host: LOCALHOST:8765\r\n",
        b"Host: [::1]:8765\r\n",
        b"Host: localhost\r\nOrigin: http://localhost:3000\r\n",
        b"",
    ],
    ids=["ip", "ip-port", "localhost", "ipv6", "loopback-origin", "no-host"],
)
def test_admin_request_from_this_machine_is_served(
    server: LoopbackServer, headers: bytes, exchange: Exchange
) -> None:
    """A loopback Host (any port, or none) and a loopback Origin reach the admin endpoints."""
    status, _ = problem(exchange(server, admin(headers)))
    assert status == 200


def test_an_absolute_form_admin_request_to_this_machine_is_served(
    server: LoopbackServer, exchange: Exchange
) -> None:
    """An absolute-form target naming the loopback interface reaches the admin endpoints."""
    raw = b"POST http://127.0.0.1:8765/__spectron/reset HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    status, _ = problem(exchange(server, raw + b"Content-Length: 0\r\nConnection: close\r\n\r\n"))
    assert status == 200


def test_api_requests_are_served_for_any_host(server: LoopbackServer, exchange: Exchange) -> None:
    """Only the admin endpoints check Host: the fake's own API answers any Host header."""
    raw = b"GET /api/v1/ctx/state HTTP/1.1\r\nHost: spectron.test\r\n%bConnection: close\r\n\r\n"
    assert exchange(server, raw % AUTHORIZATION).startswith(b"HTTP/1.1 200 OK\r\n")


@pytest.mark.parametrize(
    ("bound", "host", "allowed"),
    [
        ("192.0.2.7", "192.0.2.7:8765", True),
        ("192.0.2.7", "192.0.2.8:8765", False),
        ("2001:db8::7", "[2001:db8::7]:8765", True),
        ("0.0.0.0", "0.0.0.0:8765", False),
        ("::", "[::]:8765", False),
        ("0.0.0.0", "127.0.0.1:8765", True),
    ],
)
def test_admin_host_may_name_the_bound_address(bound: str, host: str, allowed: bool) -> None:
    """A server bound beyond loopback also serves admin requests to its own specific address."""
    request = ServiceRequest("POST", "/__spectron/reset", headers={"host": host})
    assert (admin_refusal(request, bound) is None) == allowed


SET_UP_ROWS: dict[str, Callable[..., None]] = {
    "server-silent-connection": test_silent_connection_is_closed_after_the_idle_timeout,
    "server-stalled-request": test_stalled_request_gets_a_408,
    "server-too-many-connections": test_connection_over_the_cap_gets_a_503,
}


def test_inventory_documents_every_server_row() -> None:
    """docs/bad-input.md lists exactly the ``server-`` rows tested here."""
    documented = set(re.findall(r"^\| `(server-[a-z0-9-]+)` \|", INVENTORY.read_text(), re.M))
    assert documented == set(ABUSES) | set(SET_UP_ROWS)
