"""Where ``SpectronMock`` meets aiohttp: the connector, below the session, above the socket.

For a URL a running mock answers (``_intercept_httpx.answer_for``), the patched
``BaseConnector.connect`` (every connector's) returns a connection to an in-process peer
instead of a socket: aiohttp writes its request to it as it would to a server (headers, cookies,
a multipart ``FormData`` encoded by aiohttp itself); the peer reads it (h11), hands it as an
httpx request to the mock's answer (the very one httpx clients meet), and sends the answer's
bytes back (``_answer_bytes``) to aiohttp's own parser: a streamed answer frame by frame as the app
reads it, a stream cut as a dropped connection (``ClientPayloadError``). A network failure
reaches aiohttp as it would from a socket: a refused connection (``ClientConnectorError``), a
connect timeout (``ConnectionTimeoutError``), a reset (``ClientOSError``, which aiohttp retries
once for idempotent methods, as over a socket), a read timeout (``SocketTimeoutError`` under a
``sock_read`` timeout, else the ``TimeoutError`` of the total one). Every other URL goes to the
connector's own ``connect``. No socket is opened and no name is looked up.

``aioresponses`` patches ``ClientSession._request`` above this and would refuse the mock's
requests as unmocked: its dispatch is patched too, once imported, to send them on through the
session as its passthrough does; every other request is its own, as before.

Imported only once the application has imported aiohttp (``_intercept_httpx``).
"""

from __future__ import annotations

import asyncio
import errno
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import aiohttp
import h11
import httpx
from aiohttp.client_proto import ResponseHandler
from aiohttp.client_reqrep import ClientRequest
from aiohttp.connector import BaseConnector, Connection

from pytest_spectron._shared._imports import forget, when_imported
from pytest_spectron.testing.transports._answer_bytes import AnswerBytes
from pytest_spectron.testing.transports._class_patches import ClassPatches
from pytest_spectron.testing.transports._intercept_httpx import Answer, answer_for

__all__ = ["install", "uninstall"]

_patches = ClassPatches()
"""What ``install`` replaced."""


def install() -> None:
    """Answer aiohttp requests to the running mocks in-process, and route them past
    aioresponses once it is imported. Calling it again does nothing."""
    if _patches:
        return
    _patches.patch(BaseConnector, "connect", _patched_connect)
    when_imported("aioresponses", _patch_aioresponses)


def uninstall() -> None:
    """Put back every method ``install`` replaced, unless another patch sits on top of it."""
    forget("aioresponses", _patch_aioresponses)
    _patches.undo()


def _answer(url: object, *, network: bool) -> Answer | None:
    """A running mock's answer, a refusal, or None; ``network``: a real connector connects next.

    Under ``aioresponses`` the test's mock answers (or refuses) what no running Spectron mock
    does; its pass-through comes down to the connector, which asks again with ``network``.
    """
    try:
        return answer_for(httpx.URL(str(url)), network=network)
    except httpx.InvalidURL:
        return None  # aiohttp raises its own error for it


def _patched_connect(original: Callable[..., Any]) -> Callable[..., Any]:
    async def connect(
        connector: BaseConnector,
        req: ClientRequest,
        traces: list[Any],
        timeout: aiohttp.ClientTimeout,
    ) -> Connection:
        answer = _answer(req.url, network=True)
        if answer is None:
            return await original(connector, req, traces, timeout)  # type: ignore[no-any-return]
        loop = asyncio.get_running_loop()
        protocol = ResponseHandler(loop)
        protocol.connection_made(_Peer(loop, protocol, answer, req, timeout))
        return _PeerConnection(connector, req.connection_key, protocol, loop)

    return connect


def _patch_aioresponses(module: ModuleType) -> None:
    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        async def request_mock(
            mock: Any, session: aiohttp.ClientSession, method: str, url: Any, *args: Any, **kw: Any
        ) -> aiohttp.ClientResponse:
            if _answer(session._build_url(url), network=False) is None:
                return await original(mock, session, method, url, *args, **kw)  # type: ignore[no-any-return]
            # As aioresponses' own passthrough: the session's real request, down to the peer.
            return await mock.patcher.temp_original(session, method, url, *args, **kw)  # type: ignore[no-any-return]

        return request_mock

    _patches.patch(module.aioresponses, "_request_mock", make)


class _PeerConnection(Connection):
    """A connection to the in-process peer: never pooled, closed once released."""

    def release(self) -> None:
        self.close()

    def close(self) -> None:
        self._notify_release()
        protocol, self._protocol = self._protocol, None
        if protocol is not None and protocol.transport is not None:
            protocol.transport.close()


class _Peer(asyncio.Transport):
    """A server at the end of an in-process connection: reads one request, sends its answer.

    The answer is computed once the request is complete, and its bytes are fed to the protocol
    one piece per turn of the event loop while the protocol reads (it pauses and resumes us
    as a socket's flow control would).
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        protocol: ResponseHandler,
        answer: Answer,
        req: ClientRequest,
        timeout: aiohttp.ClientTimeout,
    ) -> None:
        super().__init__()
        self._loop = loop
        self._protocol = protocol
        self._answer = answer
        self._req = req
        self._timeout = timeout
        self._h11 = h11.Connection(h11.SERVER)
        self._head: h11.Request | None = None
        self._body: list[bytes] = []
        self._bytes: Iterator[bytes] | None = None
        self._answer_bytes: AnswerBytes | None = None
        self._closed = False
        self._paused = False
        self._feeding = False

    # -- What aiohttp writes: the request -------------------------------------------------

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._closed or (self._head is not None and self._bytes is not None):
            return
        self._h11.receive_data(bytes(data))
        while True:
            event = self._h11.next_event()
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return
            if isinstance(event, h11.Request):
                self._head = event
                if self._h11.they_are_waiting_for_100_continue:
                    self._protocol.data_received(b"HTTP/1.1 100 Continue\r\n\r\n")
            elif isinstance(event, h11.Data):
                self._body.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                self._loop.call_soon(self._respond)
                return

    def writelines(self, list_of_data: Any) -> None:
        for data in list_of_data:
            self.write(data)

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        pass

    def get_write_buffer_size(self) -> int:
        return 0

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass

    # -- What aiohttp reads: the answer ---------------------------------------------------

    def _respond(self) -> None:
        if self._closed or self._head is None:
            return
        try:
            response = self._answer(self._request())
        except httpx.TransportError as error:
            self._fail(error)
            return
        except BaseException as error:  # a refusal (an unroutable request): the app's to see
            self._protocol.set_exception(error)
            return
        self._answer_bytes = AnswerBytes(response, head_only=self._head.method == b"HEAD")
        self._bytes = iter(self._answer_bytes)
        self._feed()

    def _request(self) -> httpx.Request:
        assert self._head is not None
        target = self._head.target.decode("ascii")
        url = target if "://" in target else str(self._req.url.origin()) + target
        read = self._timeout.sock_read if self._timeout.sock_read else self._timeout.total
        return httpx.Request(
            self._head.method.decode("ascii"),
            url,
            headers=[
                (name, value) for name, value in self._head.headers if name != b"transfer-encoding"
            ],
            content=b"".join(self._body),
            extensions={"timeout": {"connect": self._timeout.connect, "read": read, "write": None}},
        )

    def _feed(self) -> None:
        self._feeding = False
        if self._closed or self._paused or self._bytes is None:
            return
        chunk = next(self._bytes, None)
        if chunk is None:
            assert self._answer_bytes is not None
            if self._answer_bytes.cut:
                self._lose(None)  # the server dropped the stream: no last chunk, a FIN
            return
        self._protocol.data_received(chunk)
        self._schedule_feed()

    def _schedule_feed(self) -> None:
        if not self._feeding and not self._closed:
            self._feeding = True
            self._loop.call_soon(self._feed)

    def _fail(self, error: httpx.TransportError) -> None:
        """Show aiohttp the network failure ``error`` stands for, as a socket would."""
        host, port = self._req.url.raw_host, self._req.url.port
        if isinstance(error, httpx.ConnectTimeout):
            self._protocol.set_exception(
                aiohttp.ConnectionTimeoutError(f"Connection timeout to host {self._req.url}")
            )
        elif isinstance(error, httpx.ConnectError):
            refused = ConnectionRefusedError(
                errno.ECONNREFUSED, f"Connect call failed ({host!r}, {port})"
            )
            self._protocol.set_exception(
                aiohttp.ClientConnectorError(self._req.connection_key, refused)
            )
        elif isinstance(error, httpx.TimeoutException):
            if self._timeout.sock_read:
                self._protocol.set_exception(
                    aiohttp.SocketTimeoutError("Timeout on reading data from socket")
                )
            else:  # the total timeout: aiohttp's timer ends the wait with a bare TimeoutError
                self._protocol.set_exception(asyncio.TimeoutError())
        elif isinstance(error, httpx.ReadError | httpx.WriteError):
            self._lose(ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"))
        else:
            self._lose(None)  # the server closed without answering

    def _lose(self, error: BaseException | None) -> None:
        if not self._closed:
            self._closed = True
            self._close_answer()
            self._protocol.connection_lost(error)

    def _close_answer(self) -> None:
        close = getattr(self._bytes, "close", None)
        if close is not None:
            close()

    # -- The connection -------------------------------------------------------------------

    def pause_reading(self) -> None:
        self._paused = True

    def resume_reading(self) -> None:
        self._paused = False
        self._schedule_feed()

    def is_reading(self) -> bool:
        return not self._paused

    def is_closing(self) -> bool:
        return self._closed

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._close_answer()
            self._loop.call_soon(self._protocol.connection_lost, None)

    def abort(self) -> None:
        self.close()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "peername":
            return (self._req.url.raw_host, self._req.url.port)
        return default
