"""The loopback server: the same service over a real socket, for clients that are not httpx.

HTTP/1.1 on plain sockets and threads (one accepting thread, one thread per connection), with
keep-alive, ``Content-Length`` and chunked request bodies, ``Expect: 100-continue``, and SSE
answers as ``Transfer-Encoding: chunked``, one chunk per frame, each sent as it is written.

Why not ``socketserver`` / ``http.server``: the faults need the raw socket (a TCP RST, a silent
held connection, a chunked stream dropped midway), and a clean ``stop()`` must wake and close
every open connection and join every thread at once. ``socketserver`` polls for shutdown every
``poll_interval`` and does not track its connections; ``http.server`` answers errors in HTML and
owns the framing these behaviours must control. Here every wait is a ``select`` that ``stop()``
wakes at once, and nothing polls.

Network failures become real socket behaviour. The server must read a request to know which
operation it is (faults target operations), so each failure happens once the request is read:

- ``reset``: the connection is closed with a TCP RST (``SO_LINGER`` 0) and no answer.
  httpx raises ``httpx.ReadError``; urllib raises ``ConnectionResetError``.
- ``connect``: the same RST. A listening server cannot refuse a connection: the kernel completed
  the TCP handshake before the server saw anything, so the client never gets the
  ``httpx.ConnectError`` of a port nobody listens on; it gets ``httpx.ReadError`` (urllib:
  ``ConnectionResetError``). Spectron's clients treat both as a connection error.
- ``read_timeout`` and ``connect_timeout``: the connection stays open and silent until the client
  gives up and closes it, or the server stops. The client times out on its own read timeout:
  ``httpx.ReadTimeout`` (for ``connect_timeout`` too, for the same reason as ``connect``);
  urllib raises ``TimeoutError``.
- a cut stream (``cut_after``): that many frames, then a clean close without the final chunk.
  httpx raises ``httpx.RemoteProtocolError`` while reading; urllib ``http.client.IncompleteRead``.

A request's ``timeout`` is ``None`` here: the server cannot know how long the client will wait, so
injected latency stays virtual and never becomes a timeout by itself.
"""

from __future__ import annotations

import contextlib
import ipaddress
import itertools
import logging
import re
import select
import socket
import struct
import threading
import time
import warnings
from collections.abc import Iterable
from email.utils import formatdate
from http import HTTPStatus
from types import TracebackType
from typing import BinaryIO, Literal
from urllib.parse import parse_qsl, urlsplit

from pytest_spectron.testing._exchange import (
    NetworkFailure,
    Service,
    ServiceRequest,
    ServiceResponse,
)
from pytest_spectron.testing._problems import problem_response

__all__ = ["MAX_BODY", "STOP_TIMEOUT", "LoopbackServer", "NonLoopbackBindWarning"]

logger = logging.getLogger("pytest_spectron.server")

MAX_LINE = 65_536
"""Longest request line or header line accepted, in bytes."""
MAX_HEADERS = 100
MAX_BODY = 64 * 1024 * 1024
"""Largest request body accepted, in bytes (a document upload is one request)."""
STOP_TIMEOUT = 5.0
"""Seconds ``stop()`` waits for the connection threads, all together."""
_LINGER_SECONDS = 1.0
"""After a closing answer, how long to wait for the client's own close: closing a socket that
holds unread bytes from the client sends an RST, which can destroy the answer in transit."""

_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_TEXT_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_VERSION = re.compile(rb"HTTP/(\d)\.(\d)")
_HEX = re.compile(rb"[0-9A-Fa-f]{1,16}")
_UNSENDABLE = re.compile(r"[\r\n\x00]")
_FRAMING_HEADERS = frozenset(
    {"connection", "content-length", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade"}
)
"""Headers the server writes itself; the service's own values for them are dropped."""
_BODILESS_STATUSES = frozenset({204, 304})
_RST_ON_CLOSE = struct.pack("ii", 1, 0)
"""``SO_LINGER`` on with a zero timeout: ``close()`` sends a TCP RST instead of a FIN."""

_Next = Literal["keep", "close", "abort"]
"""After an answer: serve the next request, close gracefully, or close at once."""


class NonLoopbackBindWarning(UserWarning):
    """The server was asked to listen beyond the loopback interface."""


class LoopbackServer:
    """Serve a ``Service`` over HTTP/1.1 on a loopback port (``port=0`` picks a free one).

    ``start()`` returns once the socket listens; ``stop()`` closes the listening socket and every
    open connection and joins every thread. Also a context manager.
    """

    def __init__(
        self,
        service: Service,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        stop_timeout: float = STOP_TIMEOUT,
    ) -> None:
        if not is_loopback_host(host):
            warnings.warn(
                f"serving the Spectron fake on {host!r}, beyond the loopback interface: other "
                "machines may reach it. Bind to 127.0.0.1 or ::1 unless you mean it.",
                NonLoopbackBindWarning,
                stacklevel=2,
            )
        self.service = service
        self.stop_timeout = stop_timeout
        self._requested = (host, port)
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._wake_reader: socket.socket | None = None
        self._wake_writer: socket.socket | None = None
        self._accepter: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._numbers = itertools.count(1)

    # -- Where -----------------------------------------------------------------------------

    @property
    def host(self) -> str:
        """The address listened on (the one asked for, until started)."""
        if self._listener is None:
            return self._requested[0]
        return str(self._listener.getsockname()[0])

    @property
    def port(self) -> int:
        """The port listened on."""
        return int(self._running().getsockname()[1])

    @property
    def url(self) -> str:
        """The base URL, such as ``http://127.0.0.1:8765``."""
        host = self.host
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.port}"

    # -- Lifecycle -------------------------------------------------------------------------

    def start(self) -> LoopbackServer:
        """Bind and listen, then serve from background threads; ready when this returns."""
        if self._listener is not None:
            raise RuntimeError("the server is already running")
        host, port = self._requested
        family, _, _, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        listener = socket.create_server(address[:2], family=family, backlog=128)
        # Never block in accept(): a client may leave between select() and accept().
        listener.setblocking(False)
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._listener = listener
        self._accepter = threading.Thread(
            target=self._accept_loop,
            args=(listener, self._wake_reader),
            name=f"spectron-server-{self.port}",
            daemon=True,  # a server never stopped must not keep the interpreter from exiting
        )
        self._accepter.start()
        return self

    def stop(self) -> None:
        """Close the listening socket and every connection, and join every thread.

        Waits at most ``stop_timeout`` seconds for the threads (a service call that never
        returns holds its thread) and warns with a ``RuntimeWarning`` if any is left.
        Safe to call twice.
        """
        listener, accepter = self._listener, self._accepter
        wake_reader, wake_writer = self._wake_reader, self._wake_writer
        if listener is None or accepter is None or wake_reader is None or wake_writer is None:
            return
        url = self.url
        # Never read, this byte keeps the wake socket readable: every select() on it returns.
        wake_writer.send(b"\0")
        accepter.join()  # it only ever waits in select() on the wake socket
        listener.close()
        with self._lock:
            # Under the lock: a connection thread forgets its socket before closing it, so this
            # never shuts down a descriptor number the system has handed to someone else.
            for connection in self._connections:
                with contextlib.suppress(OSError):  # the peer is gone already
                    connection.shutdown(socket.SHUT_RDWR)
            threads = list(self._threads)
            self._threads.clear()
        stuck = _join_all(threads, self.stop_timeout)
        self._listener = self._accepter = None
        self._wake_reader = self._wake_writer = None
        if stuck:
            # Their selects still need the wake socket: leave it open.
            warnings.warn(
                f"the loopback server at {url} stopped, but {len(stuck)} connection thread(s) "
                f"did not end within {self.stop_timeout:g} s (a service call that never "
                "returns?); their sockets stay open until they do",
                RuntimeWarning,
                stacklevel=2,
            )
            return
        wake_reader.close()
        wake_writer.close()

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = self.url if self._listener is not None else "stopped"
        return f"<LoopbackServer {state}>"

    def _running(self) -> socket.socket:
        if self._listener is None:
            raise RuntimeError("the server is not running: call start() first")
        return self._listener

    # -- Threads ---------------------------------------------------------------------------

    def _accept_loop(self, listener: socket.socket, wake: socket.socket) -> None:
        while True:
            readable, _, _ = select.select([listener, wake], [], [])
            if wake in readable:
                return
            try:
                connection, _ = listener.accept()
            except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                continue  # the client left before it was taken
            except OSError:
                # Out of descriptors, say: back off briefly rather than spin, unless stopping.
                select.select([wake], [], [], 0.1)
                continue
            # Each SSE frame leaves at once instead of waiting to be merged with the next (an
            # OSError means the client has reset already; its thread will find out).
            with contextlib.suppress(OSError):
                connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            thread = threading.Thread(
                target=self._serve_connection,
                args=(connection, wake),
                name=f"spectron-connection-{next(self._numbers)}",
                daemon=True,
            )
            with self._lock:
                self._connections.add(connection)
                self._threads = [known for known in self._threads if known.is_alive()]
                self._threads.append(thread)
            thread.start()

    def _serve_connection(self, connection: socket.socket, wake: socket.socket) -> None:
        reader = connection.makefile("rb")
        try:
            _Connection(connection, reader, wake, self.service).serve()
        except OSError:
            pass  # the client went away, or stop() shut the connection: nobody to answer
        finally:
            with self._lock:
                self._connections.discard(connection)
            reader.close()
            connection.close()


# -- One connection -------------------------------------------------------------------------


class _Malformed(Exception):
    """The request cannot be understood: answer ``status`` and close the connection."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class _Closed(Exception):
    """The client closed the connection in the middle of a request."""


class _Connection:
    """The HTTP/1.1 exchange on one accepted connection, request after request."""

    def __init__(
        self, connection: socket.socket, reader: BinaryIO, wake: socket.socket, service: Service
    ) -> None:
        self.connection = connection
        self.reader = reader
        self.wake = wake
        self.service = service

    def serve(self) -> None:
        """Answer requests until the client closes or asks to, or an answer closes."""
        after: _Next = "keep"
        while after == "keep":
            try:
                read = self._read_request()
            except _Malformed as error:
                self._send_whole(
                    problem_response(error.status, error.detail), head_only=False, keep=False
                )
                after = "close"
                break
            except _Closed:
                return
            if read is None:
                return  # a clean close between requests
            request, keep, http10 = read
            after = self._answer(request, keep=keep, http10=http10)
        if after == "close":
            self._close_gracefully()

    # -- Reading ---------------------------------------------------------------------------

    def _read_request(self) -> tuple[ServiceRequest, bool, bool] | None:
        """The next request, whether the client keeps the connection, and whether it is 1.0."""
        line = self._line(malformed_status=414, what="request line")
        for _ in range(8):  # RFC 9112: ignore stray empty lines before a request line
            if line not in (b"\r\n", b"\n"):
                break
            line = self._line(malformed_status=414, what="request line")
        if not line:
            return None
        method, path, query, (major, minor) = _parse_request_line(line)
        if major != 1:
            raise _Malformed(505, f"HTTP/{major}.{minor} is not served; use HTTP/1.1")
        http10 = minor == 0
        headers = self._read_headers()
        # HTTP/1.0 clients get one answer per connection; 1.1 ones keep it unless they say not.
        keep = not http10 and "close" not in _tokens(headers.get("connection", ""))
        if not http10 and "100-continue" in _tokens(headers.get("expect", "")):
            self.connection.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = self._read_body(headers)
        request = ServiceRequest(
            method=method,
            path=path,
            query=tuple(parse_qsl(query, keep_blank_values=True)),
            headers=headers,
            body=body,
        )
        return request, keep, http10

    def _line(self, *, malformed_status: int, what: str) -> bytes:
        line = self.reader.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise _Malformed(malformed_status, f"the {what} is longer than {MAX_LINE} bytes")
        if line and not line.endswith(b"\n"):
            raise _Closed
        return line

    def _read_headers(self) -> dict[str, str]:
        fields: dict[str, list[str]] = {}
        for _ in range(MAX_HEADERS + 1):
            line = self._line(malformed_status=431, what="header line")
            if not line:
                raise _Closed
            if line in (b"\r\n", b"\n"):
                return {name: ", ".join(values) for name, values in fields.items()}
            if line[:1] in (b" ", b"\t"):
                raise _Malformed(400, "folded header lines (obs-fold) are not accepted")
            name, colon, value = line.partition(b":")
            if not colon or not _TOKEN.fullmatch(name):
                raise _Malformed(400, f"malformed header line {_shown(line)}")
            text = value.strip(b" \t\r\n").decode("latin-1")
            fields.setdefault(name.decode("ascii").lower(), []).append(text)
        raise _Malformed(431, f"more than {MAX_HEADERS} header lines")

    def _read_body(self, headers: dict[str, str]) -> bytes:
        if "transfer-encoding" in headers:
            if _tokens(headers["transfer-encoding"]) != ["chunked"]:
                raise _Malformed(
                    501,
                    f"Transfer-Encoding {headers['transfer-encoding']!r} is not served; "
                    "send chunked or a Content-Length",
                )
            return self._read_chunked()
        lengths = {value.strip() for value in headers.get("content-length", "").split(",")}
        lengths.discard("")
        if not lengths:
            return b""
        if len(lengths) > 1 or not all(length.isdigit() for length in lengths):
            shown = headers["content-length"]
            raise _Malformed(400, f"Content-Length {shown!r} is not one whole number")
        length = int(lengths.pop())
        if length > MAX_BODY:
            raise _Malformed(413, f"the body ({length} bytes) is larger than {MAX_BODY} bytes")
        return self._exactly(length)

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        received = 0
        while True:
            line = self._line(malformed_status=400, what="chunk size line")
            if not line:
                raise _Closed
            size_text = line.split(b";", 1)[0].strip(b" \t\r\n")
            if not _HEX.fullmatch(size_text):
                raise _Malformed(400, f"malformed chunk size line {_shown(line)}")
            size = int(size_text, 16)
            if size == 0:
                break
            received += size
            if received > MAX_BODY:
                raise _Malformed(413, f"the chunked body is larger than {MAX_BODY} bytes")
            parts.append(self._exactly(size))
            if self._line(malformed_status=400, what="chunk end") not in (b"\r\n", b"\n"):
                raise _Malformed(400, "a chunk does not end with CRLF where its size says")
        while True:  # trailer fields, ignored
            line = self._line(malformed_status=431, what="trailer line")
            if not line:
                raise _Closed
            if line in (b"\r\n", b"\n"):
                return b"".join(parts)

    def _exactly(self, size: int) -> bytes:
        data = self.reader.read(size)
        if len(data) < size:
            raise _Closed
        return data

    # -- Answering -------------------------------------------------------------------------

    def _answer(self, request: ServiceRequest, *, keep: bool, http10: bool) -> _Next:
        try:
            answer = self.service.dispatch(request)
        except Exception as error:  # the server must outlive any bug behind it
            answer = _service_failed(request, error)
        if isinstance(answer, NetworkFailure):
            if answer.kind in ("read_timeout", "connect_timeout"):
                self._hold()
            else:
                self._reset_on_close()
            return "abort"
        head_only = request.method.upper() == "HEAD"
        if answer.events is None or head_only:
            return self._send_whole(answer, head_only=head_only, keep=keep)
        return self._send_stream(answer, keep=keep, chunked=not http10)

    def _send_whole(self, answer: ServiceResponse, *, head_only: bool, keep: bool) -> _Next:
        bodiless = answer.status < 200 or answer.status in _BODILESS_STATUSES
        framing = [] if bodiless else [("Content-Length", str(len(answer.body)))]
        head, sent = _head_or_500(answer, framing, keep=keep)
        if sent is not answer:
            bodiless = False
        self.connection.sendall(head if head_only or bodiless else head + sent.body)
        return "keep" if keep else "close"

    def _send_stream(self, answer: ServiceResponse, *, keep: bool, chunked: bool) -> _Next:
        assert answer.events is not None
        # An HTTP/1.0 client knows no chunks: there, the stream ends when the connection does.
        framing = [("Transfer-Encoding", "chunked")] if chunked else []
        head, sent = _head_or_500(answer, framing, keep=keep)
        if sent is not answer:  # the service's answer could not be sent: a 500 instead
            return self._send_whole(sent, head_only=False, keep=keep)
        self.connection.sendall(head)
        frames = answer.events if answer.cut_after is None else answer.events[: answer.cut_after]
        for frame in frames:
            if frame:  # an empty chunk would end the stream
                self.connection.sendall(b"%x\r\n%b\r\n" % (len(frame), frame) if chunked else frame)
        if answer.cut_after is not None:
            return "close"  # no final chunk: the client sees the stream cut
        if chunked:
            self.connection.sendall(b"0\r\n\r\n")
        return "keep" if keep else "close"

    # -- Closing ---------------------------------------------------------------------------

    def _hold(self) -> None:
        """Stay silent until the client gives up (closes) or the server stops."""
        while True:
            readable, _, _ = select.select([self.connection, self.wake], [], [])
            if self.wake in readable:
                return
            try:
                if not self.connection.recv(65_536):
                    return  # the client closed: it stopped waiting
            except OSError:
                return
            # Whatever else the client sends while it waits goes unanswered too.

    def _reset_on_close(self) -> None:
        """Make the coming close send a TCP RST instead of a FIN."""
        with contextlib.suppress(OSError):  # the peer is gone already
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RST_ON_CLOSE)

    def _close_gracefully(self) -> None:
        """Send a FIN, then give the client time to read the answer and close first."""
        deadline = time.monotonic() + _LINGER_SECONDS
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_WR)
            while (left := deadline - time.monotonic()) > 0:
                readable, _, _ = select.select([self.connection, self.wake], [], [], left)
                if not readable or self.wake in readable:
                    return
                if not self.connection.recv(65_536):
                    return


# -- Helpers --------------------------------------------------------------------------------


def _parse_request_line(line: bytes) -> tuple[str, str, str, tuple[int, int]]:
    """Method, raw path, raw query and (major, minor) version of a request line."""
    malformed = _Malformed(
        400, f"malformed request line {_shown(line)}: expected METHOD TARGET HTTP/1.1"
    )
    parts = line.rstrip(b"\r\n").split(b" ")
    if len(parts) != 3:
        raise malformed
    method, target, version = parts
    matched = _VERSION.fullmatch(version)
    if not _TOKEN.fullmatch(method) or matched is None:
        raise malformed
    try:
        text = target.decode("ascii")
    except UnicodeDecodeError:
        raise _Malformed(400, "the request target is not ASCII: percent-encode it") from None
    if text.startswith("/") or text == "*":
        path, _, query = text.partition("?")
    elif text.startswith(("http://", "https://")):  # the absolute form, as proxies send it
        split = urlsplit(text)
        path, query = split.path or "/", split.query
    else:
        raise _Malformed(400, f"malformed request target {text!r}: expected a path such as /api")
    return method.decode("ascii"), path, query, (int(matched[1]), int(matched[2]))


def _head_or_500(
    answer: ServiceResponse, framing: list[tuple[str, str]], *, keep: bool
) -> tuple[bytes, ServiceResponse]:
    """The encoded status line and headers, and the answer they introduce.

    An answer that cannot go on the wire (a bad status, a header with a line break, a value
    that is not latin-1) is a bug in the service: it becomes a 500 problem, as a raise does.
    """
    try:
        return _head(answer.status, answer.headers, framing, keep=keep), answer
    except ValueError as error:
        failed = problem_response(500, f"the Spectron service's answer cannot be sent: {error}")
        length = [("Content-Length", str(len(failed.body)))]
        return _head(500, failed.headers, length, keep=keep), failed


def _head(
    status: int,
    headers: Iterable[tuple[str, str]],
    framing: list[tuple[str, str]],
    *,
    keep: bool,
) -> bytes:
    if not 100 <= status <= 599:
        raise ValueError(f"status {status} is not an HTTP status (100-599)")
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    headers = list(headers)
    named = {name.lower() for name, _ in headers}
    lines = [f"HTTP/1.1 {status} {reason}"]
    if "date" not in named:
        lines.append(f"Date: {formatdate(usegmt=True)}")
    if "server" not in named:
        lines.append("Server: pytest-spectron")
    for name, value in headers:
        if not _TEXT_TOKEN.fullmatch(name) or _UNSENDABLE.search(value):
            raise ValueError(f"header {name!r}: {value!r} cannot be sent")
        if name.lower() not in _FRAMING_HEADERS:
            lines.append(f"{name}: {value}")
    lines.extend(f"{name}: {value}" for name, value in framing)
    if not keep:
        lines.append("Connection: close")
    try:
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    except UnicodeEncodeError as error:
        raise ValueError(f"a header is not latin-1 text ({error.reason})") from None


def _service_failed(request: ServiceRequest, error: Exception) -> ServiceResponse:
    logger.error(
        "the Spectron service raised on %s %s", request.method, request.path, exc_info=error
    )
    return problem_response(
        500,
        f"the Spectron service raised {type(error).__name__}: {error}",
        instance=request.path,
    )


def _tokens(value: str) -> list[str]:
    return [token.strip().lower() for token in value.split(",") if token.strip()]


def _shown(line: bytes) -> str:
    text = line.rstrip(b"\r\n").decode("latin-1")
    return repr(text if len(text) <= 80 else text[:77] + "...")


def _join_all(threads: list[threading.Thread], timeout: float) -> list[threading.Thread]:
    """Join every thread within ``timeout`` seconds in all; the ones still running."""
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return [thread for thread in threads if thread.is_alive()]


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` names the loopback interface (``localhost``, 127.0.0.0/8, ``::1``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
