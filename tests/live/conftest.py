"""Live mode's fixtures: ``serve`` in a subprocess, and upstreams a test controls.

Every subprocess and server started here is stopped when its test ends. Test modules import
this file's types for their annotations only (``--import-mode=importlib`` puts no test folder
on ``sys.path``); everything they use at run time comes as a fixture.
"""

from __future__ import annotations

import json
import select
import shutil
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pytest_spectron.testing import FakeSpectron, LoopbackServer, SpectronService
from pytest_spectron.testing.http._exchange import (
    RelayedFrames,
    ServiceRequest,
    ServiceResponse,
)

WAIT = 30.0
"""Seconds a test waits at most for a subprocess to start (a cold interpreter included)."""
COMMAND = (sys.executable, "-m", "pytest_spectron", "serve")


@dataclass
class Served:
    """A running ``serve`` command and the URL it printed first."""

    process: subprocess.Popen[str]
    url: str

    def stop(self) -> tuple[str, str]:
        """Stop it (SIGTERM) and wait; what it wrote to stdout and stderr."""
        if self.process.poll() is None:
            self.process.terminate()
        out, errors = self.process.communicate(timeout=WAIT)
        return self.url + "\n" + out, errors


Serve = Callable[..., Served]


@pytest.fixture
def serve() -> Iterator[Serve]:
    """Start ``python -m pytest_spectron serve --port 0`` with extra arguments; its URL."""
    started: list[Served] = []

    def start(*arguments: str) -> Served:
        process = subprocess.Popen(
            [*COMMAND, "--port", "0", *arguments],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], WAIT)
        assert ready, f"serve printed nothing within {WAIT:g} s"
        served = Served(process, process.stdout.readline().rstrip("\n"))
        started.append(served)
        assert served.url.startswith("http://127.0.0.1:"), served.stop()
        return served

    yield start
    for served in started:
        if served.process.poll() is None:
            served.process.kill()
        served.process.communicate(timeout=WAIT)


@pytest.fixture
def upstream(serve: Serve) -> Served:
    """The Spectron fake, served by ``serve`` in its own process: the upstream of a proxy."""
    return serve()


# -- Upstreams a test controls, in this process ---------------------------------------------


class _Scripted:
    """A service answering every request with ``answer(request)``; it keeps what it was sent."""

    def __init__(self, answer: Callable[[ServiceRequest], ServiceResponse]) -> None:
        self.answer = answer
        self.requests: list[ServiceRequest] = []

    def dispatch(self, request: ServiceRequest) -> ServiceResponse:
        self.requests.append(request)
        return self.answer(request)


@dataclass
class Scripted:
    """A loopback server whose answers a test writes; ``.requests`` is what reached it."""

    server: LoopbackServer
    service: _Scripted

    @property
    def url(self) -> str:
        """Its base URL."""
        return self.server.url

    @property
    def requests(self) -> list[ServiceRequest]:
        """Every request it received, in order."""
        return self.service.requests


Script = Callable[[Callable[[ServiceRequest], ServiceResponse]], Scripted]


@pytest.fixture
def scripted() -> Iterator[Script]:
    """Start a loopback server answering with a function of the request; stopped at the end."""
    servers: list[LoopbackServer] = []

    def start(answer: Callable[[ServiceRequest], ServiceResponse]) -> Scripted:
        service = _Scripted(answer)
        server = LoopbackServer(service).start()
        servers.append(server)
        return Scripted(server, service)

    yield start
    for server in servers:
        server.stop()


def _echo(request: ServiceRequest) -> ServiceResponse:
    """An answer that describes the request: method, path, query, headers and body."""
    described = {
        "method": request.method,
        "path": request.path,
        "query": [list(pair) for pair in request.query],
        "headers": dict(request.headers),
        "body": request.body.decode("latin-1"),
    }
    return ServiceResponse(
        200,
        headers=(("content-type", "application/json"), ("x-upstream", "echo")),
        body=json.dumps(described).encode(),
    )


@pytest.fixture
def echoing(scripted: Script) -> Scripted:
    """An upstream that answers 200 with a description of the request (``x-upstream: echo``)."""
    return scripted(_echo)


@dataclass
class Paced:
    """An event stream whose frames after the first wait for the test's ``release()``."""

    frames: tuple[bytes, ...]
    released: threading.Event = field(default_factory=threading.Event)
    closed: threading.Event = field(default_factory=threading.Event)

    def release(self) -> None:
        """Let the rest of the frames go."""
        self.released.set()

    def answer(self, request: ServiceRequest) -> ServiceResponse:
        """The stream as a relayed answer (the loopback server sends each frame as it comes)."""

        def frames() -> Iterator[bytes]:
            yield self.frames[0]
            # Bounded: a test that never releases fails instead of hanging.
            if not self.released.wait(WAIT):
                return
            yield from self.frames[1:]

        return ServiceResponse(
            200,
            headers=(("content-type", "text/event-stream"),),
            relayed=RelayedFrames(frames(), self.closed.set),
        )


@pytest.fixture
def paced(scripted: Script) -> Iterator[Paced]:
    """A chat stream that sends its first frame, then waits for ``release()``.

    Released at the end in any case (before ``scripted`` stops its servers), so a failing test
    leaves no upstream thread waiting.
    """
    paced = Paced(
        (
            b'data: {"delta": "Hello", "done": false}\n\n',
            b'data: {"delta": " world", "done": true}\n\n',
            b"data: [DONE]\n\n",
        )
    )
    yield paced
    paced.release()


@pytest.fixture
def fake_upstream() -> Iterator[tuple[FakeSpectron, LoopbackServer]]:
    """The fake on a loopback server in this process, to seed and inspect directly."""
    fake = FakeSpectron()
    with LoopbackServer(SpectronService(fake)) as server:
        yield fake, server


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port nothing listens on (held bound, so nothing else takes it)."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port that accepts connections and never answers."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        yield listener.getsockname()[1]


# -- TLS ---------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key (made with the openssl command)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    command = [
        "openssl",
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
    ]
    subprocess.run(
        [*command, "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
        timeout=WAIT,
    )
    return cert, key


@pytest.fixture
def tls_upstream(certificate: tuple[Path, Path]) -> Iterator[str]:
    """An https server on loopback, with the self-signed certificate, answering ``{"ok": true}``."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve_forever() -> None:
        while True:
            connection, _ = listener.accept()
            with connection:
                if stop.is_set():
                    return  # woken by the fixture's own connection: the test is over
                try:
                    with context.wrap_socket(connection, server_side=True) as tls:
                        tls.settimeout(WAIT)
                        received = b""
                        while b"\r\n\r\n" not in received:
                            chunk = tls.recv(65536)
                            if not chunk:
                                break
                            received += chunk
                        body = b'{"ok": true}'
                        tls.sendall(
                            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                            b"content-length: %d\r\nconnection: close\r\n\r\n%b" % (len(body), body)
                        )
                except (ssl.SSLError, OSError):
                    pass  # a client that refused the certificate

    thread = threading.Thread(target=serve_forever, daemon=True)
    thread.start()
    address = listener.getsockname()
    try:
        yield f"https://127.0.0.1:{address[1]}"
    finally:
        stop.set()
        socket.create_connection(address, timeout=WAIT).close()
        thread.join(WAIT)
        listener.close()
