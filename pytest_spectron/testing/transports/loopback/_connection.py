"""One accepted connection: request after request, each answered by the service or refused.

Abuse is answered, never left hanging: a malformed request gets a problem answer and a close, a
client that stalls inside a request for ``idle_timeout`` seconds gets a 408 problem, one silent
between requests is closed without an answer, and the admin endpoints refuse requests a web page
may have sent (a foreign ``Host`` or ``Origin``: 403).
"""

from __future__ import annotations

import io
import logging
import socket
import threading
import time

from pytest_spectron.testing.http._exchange import (
    NetworkFailure,
    Service,
    ServiceRequest,
    ServiceResponse,
)
from pytest_spectron.testing.http._problems import problem_response
from pytest_spectron.testing.service._service import SpectronService
from pytest_spectron.testing.transports.loopback._admin_guard import admin_refusal
from pytest_spectron.testing.transports.loopback._http_reader import (
    BadRequest,
    ClientClosed,
    ReadRequest,
    RequestReader,
)
from pytest_spectron.testing.transports.loopback._http_writer import (
    Next,
    close_gracefully,
    hold,
    reset_on_close,
    send_stream,
    send_whole,
)

__all__ = ["RESEND_WINDOW", "Connection", "RefusedRequests"]

logger = logging.getLogger("pytest_spectron.server")

RESEND_WINDOW = 0.2
"""Real seconds within which an identical request on a fresh connection is a client's re-send.

aiohttp re-sends an idempotent request at once, on a new connection, when its connection drops
before the answer; the official SDKs wait 0.25 s or more before a retry of their own."""


class RefusedRequests:
    """The last request a ``connect`` fault refused, so that the client's re-send is refused too.

    A listening server cannot refuse one connection (the kernel completed the handshake before
    the server read which operation it carries), so a ``connect`` fault resets the connection
    once the request is read. A client that refuses nothing it has sent would see a refused
    connection; aiohttp instead re-sends an idempotent request once on a fresh connection
    (RFC 9112 9.3.1), which a real refusal never provokes: that re-send is reset before the
    service reads it, so it is neither journaled nor takes a fault's turn, and the client sees
    one failed attempt, as against a port nobody listens on.
    """

    def __init__(self, service: Service) -> None:
        self._service = service
        self._lock = threading.Lock()
        self._last: tuple[ServiceRequest, float, float | None] | None = None

    def _virtual_now(self) -> float | None:
        service = self._service
        return service.clock.now if isinstance(service, SpectronService) else None

    def remember(self, request: ServiceRequest) -> None:
        """``request`` was just refused by a ``connect`` fault."""
        with self._lock:
            self._last = (request, time.monotonic(), self._virtual_now())

    def is_resend(self, request: ServiceRequest) -> bool:
        """Whether ``request``, the first on a fresh connection, re-sends the one just refused.

        It must be identical (method, path, query, headers, body), come within
        ``RESEND_WINDOW`` real seconds, and with no virtual time passed: a client's own retry
        waits for its backoff first, on the real clock or on the test's virtual one.
        """
        with self._lock:
            last, self._last = self._last, None
        if last is None:
            return False
        refused, at, virtual = last
        return (
            time.monotonic() - at < RESEND_WINDOW
            and virtual == self._virtual_now()
            and (request.method, request.path, request.query, request.body)
            == (refused.method, refused.path, refused.query, refused.body)
            and dict(request.headers) == dict(refused.headers)
        )


class Connection:
    """The HTTP/1.1 exchange on one accepted connection.

    :param connection: the accepted socket; its timeout is the server's ``idle_timeout``.
    :param reader: the socket's buffered reader.
    :param wake: the server's wake socket, readable once it stops.
    :param service: what answers the requests.
    :param bound_host: the address the server listens on (for the admin guard).
    :param idle_timeout: the socket's timeout, named in the 408 problem.
    :param client_timeout: the read timeout the requests are taken to carry.
    :param prefix: the path prefix the server is mounted under.
    :param refused: the server's memory of the last request a ``connect`` fault refused.
    """

    def __init__(
        self,
        connection: socket.socket,
        reader: io.BufferedReader,
        wake: socket.socket,
        service: Service,
        *,
        bound_host: str,
        idle_timeout: float | None,
        client_timeout: float | None,
        prefix: str,
        refused: RefusedRequests,
    ) -> None:
        self.connection = connection
        self.refused = refused
        self.fresh = True
        """Whether no request has been read on this connection yet."""
        self.wake = wake
        self.service = service
        self.bound_host = bound_host
        self.idle_timeout = idle_timeout
        self.requests = RequestReader(
            reader, connection, prefix=prefix, client_timeout=client_timeout
        )

    def serve(self) -> None:
        """Answer requests until the client closes or asks to, or an answer closes.

        :raises OSError: the client went away, or ``stop()`` shut the connection.
        """
        after: Next = "keep"
        while after == "keep":
            if not self.requests.arrives():
                return  # a clean close, or an idle client, between requests
            read = self._read()
            if read is None:
                return
            if isinstance(read, ServiceResponse):  # the request's problem, then the close
                after = send_whole(self.connection, read, head_only=False, keep=False)
            else:
                after = self._answer(read)
        if after == "close":
            close_gracefully(self.connection, self.wake)

    def _read(self) -> ReadRequest | ServiceResponse | None:
        """The next request; the problem to answer if it cannot be read; None if the client left."""
        try:
            return self.requests.read()
        except ClientClosed:
            return None
        except BadRequest as error:
            return problem_response(error.status, error.detail)
        except TimeoutError:
            return problem_response(
                408,
                f"the request stalled: nothing arrived for {self.idle_timeout:g} s (the "
                "server's idle_timeout) before it was complete; send each request whole",
            )
        except OSError:
            return None  # the client went away mid-request, or stop() shut the connection
        except Exception as error:  # a reading bug must still get an answer, not a hang
            logger.error("the loopback server failed to read a request", exc_info=error)
            return problem_response(
                500, f"the loopback server failed to read the request: {error!r}"
            )

    def _answer(self, read: ReadRequest) -> Next:
        """Answer one request: a network failure as socket behaviour, else whole or streamed."""
        request = read.request
        fresh, self.fresh = self.fresh, False
        if fresh and self.refused.is_resend(request):
            reset_on_close(self.connection)
            return "abort"
        answer = self._dispatch(request, read.target_authority)
        if isinstance(answer, NetworkFailure):
            if answer.kind == "connect":
                self.refused.remember(request)
            if answer.kind in ("read_timeout", "connect_timeout"):
                hold(self.connection, self.wake)
            else:
                reset_on_close(self.connection)
            return "abort"
        head_only = request.method.upper() == "HEAD"
        try:
            if not answer.streams or head_only:
                return send_whole(
                    self.connection, answer, head_only=head_only, keep=read.keep_alive
                )
            # An HTTP/1.0 client knows no chunks: there, the stream ends when the connection does.
            return send_stream(
                self.connection, answer, keep=read.keep_alive, chunked=not read.http10
            )
        finally:
            answer.close()  # a relayed stream's upstream connection, however the sending ended

    def _dispatch(
        self, request: ServiceRequest, target_authority: str | None
    ) -> ServiceResponse | NetworkFailure:
        """The admin guard's refusal, else the service's answer (a 500 problem if it raised)."""
        refusal = admin_refusal(request, self.bound_host, target_authority=target_authority)
        if refusal is not None:
            return refusal
        try:
            return self.service.dispatch(request)
        except Exception as error:  # the server must outlive any bug behind it
            logger.error(
                "the Spectron service raised on %s %s", request.method, request.path, exc_info=error
            )
            return problem_response(
                500,
                f"the Spectron service raised {type(error).__name__}: {error}",
                instance=request.path,
            )
