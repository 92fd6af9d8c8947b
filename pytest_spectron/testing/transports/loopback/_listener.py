"""The listening side of the loopback server: lifecycle, the accepting thread, the cap.

One accepting thread, one thread per connection. Every wait is a ``selectors`` wait (never
``select()``, which fails for descriptors above 1024) that ``stop()`` wakes at once, or a read
that ``stop()`` ends by shutting the socket down; nothing polls. A connection beyond
``max_connections`` gets a 503 problem at once, without a thread of its own.

The server cannot know how long a client will wait, so it assumes ``client_timeout`` (the client's
default read timeout, 30 s, unless told otherwise): injected latency beyond it holds the
connection silent until the client gives up, exactly as the in-process transport turns it into a
read timeout, and a shorter latency stays virtual and is answered at once.
"""

from __future__ import annotations

import contextlib
import itertools
import selectors
import socket
import threading
import time
import warnings
from types import TracebackType

from pytest_spectron._shared._defaults import CLIENT_TIMEOUT
from pytest_spectron._shared._validators import check_int, check_seconds
from pytest_spectron.testing.http._exchange import Service
from pytest_spectron.testing.http._problems import problem_response
from pytest_spectron.testing.transports.loopback._admin_guard import is_loopback_host
from pytest_spectron.testing.transports.loopback._connection import Connection, RefusedRequests
from pytest_spectron.testing.transports.loopback._http_writer import LINGER_SECONDS, encode_head

__all__ = [
    "CLIENT_TIMEOUT",
    "IDLE_TIMEOUT",
    "MAX_CONNECTIONS",
    "STOP_TIMEOUT",
    "LoopbackServer",
    "NonLoopbackBindWarning",
]

STOP_TIMEOUT = 5.0
"""Seconds ``stop()`` waits for the connection threads, all together."""
IDLE_TIMEOUT = 30.0
"""Seconds a connection may stay silent (between requests, or inside one) before it is closed."""
MAX_CONNECTIONS = 256
"""Connections served at once; one more is answered 503 and closed."""
_ACCEPT_BACKOFF = 0.1
"""After accept() fails (out of descriptors, say), seconds before accepting again."""


class NonLoopbackBindWarning(UserWarning):
    """The server was asked to listen beyond the loopback interface."""


class LoopbackServer:
    """Serve a ``Service`` over HTTP/1.1 on a loopback port (``port=0`` picks a free one).

    ``start()`` returns once the socket listens; ``stop()`` closes the listening socket and every
    open connection and joins every thread. Also a context manager.

    :param service: what answers the requests (``SpectronService``, say).
    :param host: the address to listen on; one beyond loopback warns
        ``NonLoopbackBindWarning``.
    :param port: the port to listen on; 0 picks a free one.
    :param stop_timeout: seconds ``stop()`` waits for the connection threads, all together.
    :param idle_timeout: seconds a client may send nothing before its connection is closed
        (``None``: never).
    :param max_connections: the connections served at once; one more gets a 503 problem.
    :param client_timeout: the read timeout the server assumes its clients wait: injected
        latency beyond it holds the connection silent until the client gives up (``None``:
        latency never becomes a timeout).
    :param prefix: a path prefix such as ``/spectron`` the server is mounted under, or empty.
    :raises ValueError: a timeout, ``max_connections`` or ``prefix`` is out of range.
    :raises TypeError: ``max_connections`` is not an int.
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
        check_int("max_connections", max_connections, minimum=1)
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
        self._refused = RefusedRequests(service)

    # -- Where -----------------------------------------------------------------------------

    @property
    def host(self) -> str:
        """The address listened on (the one asked for, until started)."""
        if self._listener is None:
            return self._requested[0]
        return str(self._listener.getsockname()[0])

    @property
    def port(self) -> int:
        """The port listened on; a RuntimeError until started."""
        return int(self._running().getsockname()[1])

    @property
    def url(self) -> str:
        """The base URL, such as ``http://127.0.0.1:8765``, with the prefix; a RuntimeError until
        started."""
        host = self.host
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.port}{self.prefix}"

    # -- Lifecycle -------------------------------------------------------------------------

    def start(self) -> LoopbackServer:
        """Bind and listen, then serve from background threads; ready when this returns.

        ``with LoopbackServer(...) as server`` calls it, and ``stop()`` on the way out.

        :raises RuntimeError: the server is running already.
        :raises OSError: the address cannot be bound (the port is taken, say).
        :return: this server.
        """
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
                turned_away[connection] = time.monotonic() + LINGER_SECONDS
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
        try:
            with connection.makefile("rb") as reader:
                Connection(
                    connection,
                    reader,
                    wake,
                    self.service,
                    bound_host=bound_host,
                    idle_timeout=self.idle_timeout,
                    client_timeout=self.client_timeout,
                    prefix=self.prefix,
                    refused=self._refused,
                ).serve()
        except OSError:
            pass  # the client went away, or stop() shut the connection: nobody to answer
        finally:
            with self._lock:
                self._connections.discard(connection)
            connection.close()


# -- Helpers --------------------------------------------------------------------------------


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
        connection.send(
            encode_head(answer.status, answer.headers, length, keep=False) + answer.body
        )
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


def _join_all(threads: list[threading.Thread], timeout: float) -> list[threading.Thread]:
    """Join every thread within ``timeout`` seconds in all; the ones still running."""
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return [thread for thread in threads if thread.is_alive()]


def _check_timeout(name: str, seconds: object) -> None:
    if seconds is not None:
        check_seconds(name, seconds, above_zero=True, hint=", or None for no timeout")
