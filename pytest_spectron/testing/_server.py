"""The loopback server: the same service over a real socket, for clients that are not httpx.

HTTP/1.1 on plain sockets and threads (one accepting thread, one thread per connection), with
keep-alive, ``Content-Length`` and chunked request bodies, ``Expect: 100-continue``, and SSE
answers as ``Transfer-Encoding: chunked``, one chunk per frame, each sent as it is written.

Why not ``socketserver`` / ``http.server``: the faults need the raw socket (a TCP RST, a silent
held connection, a chunked stream dropped midway), and a clean ``stop()`` must wake and close
every open connection and join every thread at once. ``socketserver`` polls for shutdown every
``poll_interval`` and does not track its connections; ``http.server`` answers errors in HTML and
owns the framing these behaviours must control. Here every wait is a ``selectors`` wait (never
``select()``, which fails for descriptors above 1024) that ``stop()`` wakes at once, or a read
that ``stop()`` ends by shutting the socket down; nothing polls.

Abuse is answered, never left hanging: a malformed request gets a problem answer and a close, a
client silent for ``idle_timeout`` seconds is closed (a 408 problem if it stalled inside a
request), a connection beyond ``max_connections`` gets a 503 problem, and the admin endpoints
refuse requests a web page may have sent (a foreign ``Host`` or ``Origin``: 403).

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
- a cut stream (``cut_after``, or a relayed upstream stream that broke): the frames sent so far,
  then a clean close without the final chunk. httpx raises ``httpx.RemoteProtocolError`` while
  reading; urllib ``http.client.IncompleteRead``.

The server cannot know how long a client will wait, so it assumes ``client_timeout`` (the client's
default read timeout, 30 s, unless told otherwise): injected latency beyond it holds the
connection silent until the client gives up, exactly as the in-process transport turns it into a
read timeout, and a shorter latency stays virtual and is answered at once.
"""

from __future__ import annotations

import contextlib
import io
import ipaddress
import itertools
import logging
import math
import re
import selectors
import socket
import struct
import threading
import time
import warnings
from collections.abc import Iterable
from email.utils import formatdate
from types import TracebackType
from typing import Literal
from urllib.parse import parse_qsl, urlsplit

from pytest_spectron.testing._exchange import (
    BODILESS_STATUSES,
    BrokenStream,
    NetworkFailure,
    Service,
    ServiceRequest,
    ServiceResponse,
    strip_prefix,
)
from pytest_spectron.testing._numbers import whole_number
from pytest_spectron.testing._problems import problem_response, reason_phrase
from pytest_spectron.testing._service import is_admin_path

__all__ = [
    "IDLE_TIMEOUT",
    "MAX_BODY",
    "MAX_CONNECTIONS",
    "STOP_TIMEOUT",
    "LoopbackServer",
    "NonLoopbackBindWarning",
    "admin_refusal",
    "is_loopback_host",
]

logger = logging.getLogger("pytest_spectron.server")

MAX_LINE = 65_536
"""Longest request line or header line accepted, in bytes."""
MAX_HEADERS = 100
MAX_BODY = 64 * 1024 * 1024
"""Largest request body accepted, in bytes (a document upload is one request)."""
STOP_TIMEOUT = 5.0
"""Seconds ``stop()`` waits for the connection threads, all together."""
IDLE_TIMEOUT = 30.0
"""Seconds a connection may stay silent (between requests, or inside one) before it is closed."""
MAX_CONNECTIONS = 256
"""Connections served at once; one more is answered 503 and closed."""
CLIENT_TIMEOUT = 30.0
"""The read timeout the server assumes its clients wait (the Spectron client's default)."""
_ACCEPT_BACKOFF = 0.1
"""After accept() fails (out of descriptors, say), seconds before accepting again."""
_LINGER_SECONDS = 1.0
"""After a closing answer, how long to wait for the client's own close: closing a socket that
holds unread bytes from the client sends an RST, which can destroy the answer in transit."""

_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_TEXT_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_VERSION = re.compile(rb"HTTP/(\d)\.(\d)")
_HEX = re.compile(rb"[0-9A-Fa-f]{1,16}")
_UNSENDABLE = re.compile(r"[\r\n\x00]")
_AUTHORITY = re.compile(r"(?:\[(?P<ipv6>[0-9A-Fa-f:.]+)\]|(?P<name>[A-Za-z0-9._~%-]+))(?::[0-9]*)?")
"""``host[:port]`` as a ``Host`` header or an origin holds it."""
_ORIGIN = re.compile(r"(?i)https?://(?P<authority>[^/]+)")
_FRAMING_HEADERS = frozenset(
    {"connection", "content-length", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade"}
)
"""Headers the server writes itself; the service's own values for them are dropped."""
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

    ``idle_timeout`` (seconds, ``None`` for never) closes a connection whose client sends
    nothing for that long; ``max_connections`` caps the connections served at once;
    ``client_timeout`` is the read timeout the server assumes its clients wait: injected latency
    beyond it holds the connection silent until the client gives up (``None``: latency never
    becomes a timeout).
    """

    def __init__(
        self,
        service: Service,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        stop_timeout: float = STOP_TIMEOUT,
        idle_timeout: float | None = IDLE_TIMEOUT,
        max_connections: int = MAX_CONNECTIONS,
        client_timeout: float | None = CLIENT_TIMEOUT,
        prefix: str = "",
    ) -> None:
        for name, seconds in (("idle_timeout", idle_timeout), ("client_timeout", client_timeout)):
            _check_timeout(name, seconds)
        if isinstance(max_connections, bool) or not isinstance(max_connections, int):
            raise TypeError(f"max_connections must be an int, got {max_connections!r}")
        if max_connections < 1:
            raise ValueError(f"max_connections must be 1 or more, got {max_connections}")
        if not is_loopback_host(host):
            warnings.warn(
                f"serving the Spectron fake on {host!r}, beyond the loopback interface: other "
                "machines may reach it. Bind to 127.0.0.1 or ::1 unless you mean it.",
                NonLoopbackBindWarning,
                stacklevel=2,
            )
        self.service = service
        self.stop_timeout = stop_timeout
        self.idle_timeout = idle_timeout
        self.max_connections = max_connections
        self.client_timeout = client_timeout
        if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
            raise ValueError(f"prefix must look like '/spectron' (or be empty), got {prefix!r}")
        self.prefix = prefix
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
        return f"http://{shown}:{self.port}{self.prefix}"

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
        # Never block in accept(): a client may leave between the wait and accept().
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
        # Never read, this byte keeps the wake socket readable: every wait on it returns.
        wake_writer.send(b"\0")
        accepter.join()  # it only ever waits on its selector, which holds the wake socket
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
            # Their waits still need the wake socket: leave it open.
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
        # Connections turned away over max_connections, each with the time it is closed at
        # the latest; they are drained here, so a busy server starts no thread for them.
        turned_away: dict[socket.socket, float] = {}
        paused_until: float | None = None
        with selectors.DefaultSelector() as selector:
            selector.register(listener, selectors.EVENT_READ)
            selector.register(wake, selectors.EVENT_READ)
            try:
                while True:
                    deadlines = [*turned_away.values()]
                    if paused_until is not None:
                        deadlines.append(paused_until)
                    timeout = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
                    for key, _ in selector.select(timeout):
                        if key.fileobj is wake:
                            return
                        if key.fileobj is listener:
                            if not self._accept(listener, wake, selector, turned_away):
                                # Out of descriptors, say: back off rather than spin.
                                selector.unregister(listener)
                                paused_until = time.monotonic() + _ACCEPT_BACKOFF
                        else:
                            assert isinstance(key.fileobj, socket.socket)
                            _drain(key.fileobj, selector, turned_away)
                    now = time.monotonic()
                    for connection, deadline in list(turned_away.items()):
                        if deadline <= now:
                            selector.unregister(connection)
                            del turned_away[connection]
                            connection.close()
                    if paused_until is not None and paused_until <= now:
                        selector.register(listener, selectors.EVENT_READ)
                        paused_until = None
            finally:
                for connection in turned_away:
                    connection.close()

    def _accept(
        self,
        listener: socket.socket,
        wake: socket.socket,
        selector: selectors.BaseSelector,
        turned_away: dict[socket.socket, float],
    ) -> bool:
        """Take one waiting connection: serve it on a thread, or turn it away if at the cap.

        False if accept() failed for want of resources.
        """
        try:
            connection, _ = listener.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            return True  # the client left before it was taken
        except OSError:
            return False
        with self._lock:
            busy = len(self._connections) >= self.max_connections
        if busy:
            if _turn_away(connection, self.max_connections):
                selector.register(connection, selectors.EVENT_READ)
                turned_away[connection] = time.monotonic() + _LINGER_SECONDS
            return True
        # Each SSE frame leaves at once instead of waiting to be merged with the next (an
        # OSError means the client has reset already; its thread will find out).
        with contextlib.suppress(OSError):
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        thread = threading.Thread(
            target=self._serve_connection,
            args=(connection, wake, str(listener.getsockname()[0])),
            name=f"spectron-connection-{next(self._numbers)}",
            daemon=True,
        )
        with self._lock:
            self._connections.add(connection)
            self._threads = [known for known in self._threads if known.is_alive()]
            self._threads.append(thread)
        thread.start()
        return True

    def _serve_connection(
        self, connection: socket.socket, wake: socket.socket, bound_host: str
    ) -> None:
        # A read waits at most idle_timeout seconds for bytes; a send, that long in all.
        connection.settimeout(self.idle_timeout)
        reader = connection.makefile("rb")
        try:
            _Connection(
                connection,
                reader,
                wake,
                self.service,
                bound_host,
                self.idle_timeout,
                self.client_timeout,
                self.prefix,
            ).serve()
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
        self,
        connection: socket.socket,
        reader: io.BufferedReader,
        wake: socket.socket,
        service: Service,
        bound_host: str,
        idle_timeout: float | None,
        client_timeout: float | None,
        prefix: str,
    ) -> None:
        self.connection = connection
        self.reader = reader
        self.wake = wake
        self.service = service
        self.bound_host = bound_host
        self.idle_timeout = idle_timeout
        self.client_timeout = client_timeout
        self.prefix = prefix

    def serve(self) -> None:
        """Answer requests until the client closes or asks to, or an answer closes."""
        after: _Next = "keep"
        while after == "keep":
            if not self._request_arrives():
                return  # a clean close, or an idle client, between requests
            try:
                request, keep, http10 = self._read_request()
            except _Closed:
                return
            except _Malformed as error:
                failed = problem_response(error.status, error.detail)
            except TimeoutError:
                failed = problem_response(
                    408,
                    f"the request stalled: nothing arrived for {self.idle_timeout:g} s (the "
                    "server's idle_timeout) before it was complete; send each request whole",
                )
            except OSError:
                return  # the client went away mid-request, or stop() shut the connection
            except Exception as error:  # a reading bug must still get an answer, not a hang
                logger.error("the loopback server failed to read a request", exc_info=error)
                failed = problem_response(
                    500, f"the loopback server failed to read the request: {error!r}"
                )
            else:
                after = self._answer(request, keep=keep, http10=http10)
                continue
            self._send_whole(failed, head_only=False, keep=False)
            after = "close"
        if after == "close":
            self._close_gracefully()

    # -- Reading ---------------------------------------------------------------------------

    def _request_arrives(self) -> bool:
        """Wait for the first byte of the next request; False if the client closed or idled.

        A client silent for ``idle_timeout`` here gets no answer: it sent nothing to answer,
        and a 408 would be read as the answer to a request it sends at the same moment.
        """
        try:
            return bool(self.reader.peek(1))
        except TimeoutError:
            return False

    def _read_request(self) -> tuple[ServiceRequest, bool, bool]:
        """The next request, whether the client keeps the connection, and whether it is 1.0."""
        line = self._line(malformed_status=414, what="request line")
        for _ in range(8):  # RFC 9112: ignore stray empty lines before a request line
            if line not in (b"\r\n", b"\n"):
                break
            line = self._line(malformed_status=414, what="request line")
        if not line:
            raise _Closed
        method, path, query, (major, minor) = _parse_request_line(line)
        if major != 1:
            raise _Malformed(505, f"HTTP/{major}.{minor} is not served; use HTTP/1.1")
        http10 = minor == 0
        headers = self._read_headers()
        # HTTP/1.0 clients get one answer per connection; 1.1 ones keep it unless they say not.
        keep = not http10 and "close" not in _tokens(headers.get("connection", ""))
        length = _body_length(headers)  # a bad one is refused before the client sends the body
        if not http10 and "100-continue" in _tokens(headers.get("expect", "")):
            self.connection.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = self._read_chunked() if length is None else self._exactly(length)
        request = ServiceRequest(
            method=method,
            path=strip_prefix(path, self.prefix),
            query=tuple(parse_qsl(query, keep_blank_values=True)),
            headers=headers,
            body=body,
            timeout=self.client_timeout,
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
        for _ in range(MAX_HEADERS + 1):  # trailer fields, ignored
            line = self._line(malformed_status=431, what="trailer line")
            if not line:
                raise _Closed
            if line in (b"\r\n", b"\n"):
                return b"".join(parts)
        raise _Malformed(431, f"more than {MAX_HEADERS} trailer lines")

    def _exactly(self, size: int) -> bytes:
        data = self.reader.read(size)
        if len(data) < size:
            raise _Closed
        return data

    # -- Answering -------------------------------------------------------------------------

    def _answer(self, request: ServiceRequest, *, keep: bool, http10: bool) -> _Next:
        answer: ServiceResponse | NetworkFailure | None = admin_refusal(request, self.bound_host)
        if answer is None:
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
        try:
            if not answer.streams or head_only:
                return self._send_whole(answer, head_only=head_only, keep=keep)
            return self._send_stream(answer, keep=keep, chunked=not http10)
        finally:
            answer.close()  # a relayed stream's upstream connection, however the sending ended

    def _send_whole(self, answer: ServiceResponse, *, head_only: bool, keep: bool) -> _Next:
        bodiless = answer.status < 200 or answer.status in BODILESS_STATUSES
        framing = [] if bodiless else [("Content-Length", str(len(answer.body)))]
        head, sent = _head_or_500(answer, framing, keep=keep)
        if sent is not answer:
            bodiless = False
        self.connection.sendall(head if head_only or bodiless else head + sent.body)
        return "keep" if keep else "close"

    def _send_stream(self, answer: ServiceResponse, *, keep: bool, chunked: bool) -> _Next:
        # An HTTP/1.0 client knows no chunks: there, the stream ends when the connection does.
        framing = [("Transfer-Encoding", "chunked")] if chunked else []
        head, sent = _head_or_500(answer, framing, keep=keep)
        if sent is not answer:  # the service's answer could not be sent: a 500 instead
            return self._send_whole(sent, head_only=False, keep=keep)
        self.connection.sendall(head)
        try:
            for frame in answer.frames():  # a relayed frame leaves as soon as it arrives
                if frame:  # an empty chunk would end the stream
                    self.connection.sendall(
                        b"%x\r\n%b\r\n" % (len(frame), frame) if chunked else frame
                    )
        except BrokenStream:
            return "close"  # no final chunk: the client sees the stream cut
        if chunked:
            self.connection.sendall(b"0\r\n\r\n")
        return "keep" if keep else "close"

    # -- Closing ---------------------------------------------------------------------------

    def _hold(self) -> None:
        """Stay silent until the client gives up (closes) or the server stops.

        Not subject to ``idle_timeout``: the fault is that the server is silent, however long
        the client waits.
        """
        with selectors.DefaultSelector() as selector:
            selector.register(self.connection, selectors.EVENT_READ)
            selector.register(self.wake, selectors.EVENT_READ)
            while True:
                ready = {key.fileobj for key, _ in selector.select()}
                if self.wake in ready:
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
        with contextlib.suppress(OSError), selectors.DefaultSelector() as selector:
            self.connection.shutdown(socket.SHUT_WR)
            selector.register(self.connection, selectors.EVENT_READ)
            selector.register(self.wake, selectors.EVENT_READ)
            while (left := deadline - time.monotonic()) > 0:
                ready = {key.fileobj for key, _ in selector.select(left)}
                if not ready or self.wake in ready:
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
        try:
            split = urlsplit(text)
        except ValueError as error:  # a bracketed host that is no IPv6 address, say
            raise _Malformed(400, f"malformed request target {text!r}: {error}") from None
        path, query = split.path or "/", split.query
    else:
        raise _Malformed(400, f"malformed request target {text!r}: expected a path such as /api")
    return method.decode("ascii"), path, query, (int(matched[1]), int(matched[2]))


def _body_length(headers: dict[str, str]) -> int | None:
    """The body's length from its framing headers, or None for a chunked body."""
    if "transfer-encoding" in headers:
        if "content-length" in headers:
            # Two framings that may disagree: the way requests are smuggled past proxies.
            raise _Malformed(
                400,
                "the request has both Content-Length and Transfer-Encoding headers; "
                "send exactly one of them",
            )
        if _tokens(headers["transfer-encoding"]) != ["chunked"]:
            raise _Malformed(
                501,
                f"Transfer-Encoding {headers['transfer-encoding']!r} is not served; "
                "send chunked or a Content-Length",
            )
        return None
    if "content-length" not in headers:
        return 0
    shown = headers["content-length"]
    # A repeated header, or a list of one value repeated, is allowed if every copy agrees.
    lengths = {whole_number(value.strip()) for value in shown.split(",")}
    if len(lengths) != 1 or None in lengths:
        raise _Malformed(
            400,
            f"Content-Length {shown!r} is not one whole number of bytes: send the body's "
            "length in digits 0-9, once",
        )
    [length] = lengths
    assert length is not None
    if length > MAX_BODY:
        raise _Malformed(413, f"the body ({length} bytes) is larger than {MAX_BODY} bytes")
    return length


def _turn_away(connection: socket.socket, max_connections: int) -> bool:
    """Answer a 503 problem at once, without reading the request; False if the client left.

    The request is drained afterwards (closing on unread bytes would send an RST, which can
    destroy the answer before the client reads it).
    """
    answer = problem_response(
        503,
        f"the loopback server already serves {max_connections} connections, its "
        "max_connections: close the connections your clients leave idle, or raise the cap "
        "(LoopbackServer(max_connections=...), serve --max-connections N)",
    )
    length = [("Content-Length", str(len(answer.body)))]
    connection.setblocking(False)
    try:
        # A few hundred bytes: they fit the empty send buffer of a new connection.
        connection.send(_head(answer.status, answer.headers, length, keep=False) + answer.body)
        connection.shutdown(socket.SHUT_WR)
    except OSError:
        connection.close()
        return False
    return True


def _drain(
    connection: socket.socket,
    selector: selectors.BaseSelector,
    turned_away: dict[socket.socket, float],
) -> None:
    """Read and drop what a turned-away client sends; close once it closes."""
    try:
        if connection.recv(65_536):
            return
    except BlockingIOError:
        return
    except OSError:
        pass  # reset by the client: nothing more to wait for
    selector.unregister(connection)
    del turned_away[connection]
    connection.close()


def admin_refusal(request: ServiceRequest, bound_host: str) -> ServiceResponse | None:
    """A 403 problem for an admin request a web page may have sent, else None.

    The admin endpoints take no credentials, so a page in a browser must not reach them: its
    cross-origin requests carry an ``Origin`` header, and a DNS-rebinding page's requests a
    ``Host`` header naming the attacker's domain. An admin request is served only if its
    ``Host`` (when present) names the loopback interface (``localhost``, 127.0.0.0/8,
    ``[::1]``, any port) or the specific address the server is bound to (never a wildcard such
    as 0.0.0.0), and its ``Origin`` (when present) is an ``http(s)`` URL of such a host.
    Programs (curl, test code) send no ``Origin`` and a loopback ``Host``, and pass.
    """
    if not is_admin_path(request.path):
        return None
    host = request.header("host")
    origin = request.header("origin")
    if host is not None and not _names_this_machine(_authority_host(host), bound_host):
        why = (
            f"its Host header {host!r} names neither the loopback interface nor the address "
            "the server is bound to (a DNS-rebinding web page sends its own domain)"
        )
    elif origin is not None and not _names_this_machine(_origin_host(origin), bound_host):
        why = f"its Origin header {origin!r} is a web page beyond this machine"
    else:
        return None
    return problem_response(
        403,
        f"admin endpoint {request.path} refused: {why}. The admin endpoints take no "
        "credentials, so they answer only requests sent from this machine by a program: "
        "send it to http://127.0.0.1:PORT without an Origin header.",
        instance=request.path,
    )


def _authority_host(authority: str) -> str | None:
    """The host of ``host[:port]`` (brackets off an IPv6 address), lower-case; None if malformed."""
    matched = _AUTHORITY.fullmatch(authority.strip())
    if matched is None:
        return None
    return (matched["ipv6"] or matched["name"]).lower()


def _origin_host(origin: str) -> str | None:
    """The host of an ``Origin`` header; None for ``null`` (a sandboxed or file page) or junk."""
    matched = _ORIGIN.fullmatch(origin.strip())
    return None if matched is None else _authority_host(matched["authority"])


def _names_this_machine(host: str | None, bound_host: str) -> bool:
    """Whether ``host`` is a loopback name or the server's own address (never a wildcard)."""
    if host is None:
        return False
    if is_loopback_host(host):
        return True
    with contextlib.suppress(ValueError):  # a name that is not an address
        bound = ipaddress.ip_address(bound_host)
        return not bound.is_unspecified and ipaddress.ip_address(host) == bound
    return False


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
    reason = reason_phrase(status)
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


def _check_timeout(name: str, seconds: object) -> None:
    if seconds is not None and (
        isinstance(seconds, bool)
        or not isinstance(seconds, int | float)
        or not math.isfinite(seconds)
        or seconds <= 0
    ):
        raise ValueError(
            f"{name} must be a number of seconds above 0, or None for no timeout; got {seconds!r}"
        )


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` names the loopback interface (``localhost``, 127.0.0.0/8, ``::1``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
