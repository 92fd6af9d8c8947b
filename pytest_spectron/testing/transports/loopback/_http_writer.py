"""Answers and network failures on the wire: heads, whole and streamed bodies, resets and holds.

SSE answers go as ``Transfer-Encoding: chunked``, one chunk per frame, each sent as it is
written. Network failures become real socket behaviour. The server must read a request to know
which operation it is (faults target operations), so each failure happens once the request is
read:

- ``reset``: the connection is closed with a TCP RST (``SO_LINGER`` 0) and no answer.
  httpx raises ``httpx.ReadError``; urllib raises ``ConnectionResetError``.
- ``connect``: the same RST. A listening server cannot refuse a connection: the kernel completed
  the TCP handshake before the server saw anything, so the client never gets the
  ``httpx.ConnectError`` of a port nobody listens on; it gets ``httpx.ReadError`` (urllib:
  ``ConnectionResetError``). Spectron's clients treat both as a connection error. aiohttp's
  immediate re-send of the same request is reset too, unread (``RefusedRequests``).
- ``read_timeout`` and ``connect_timeout``: the connection stays open and silent until the client
  gives up and closes it, or the server stops. The client times out on its own read timeout:
  ``httpx.ReadTimeout`` (for ``connect_timeout`` too, for the same reason as ``connect``);
  urllib raises ``TimeoutError``.
- a cut stream (``cut_after``, or a relayed upstream stream that broke): the frames sent so far,
  then a clean close without the final chunk. httpx raises ``httpx.RemoteProtocolError`` while
  reading; urllib ``http.client.IncompleteRead``.
"""

from __future__ import annotations

import contextlib
import re
import selectors
import socket
import struct
import time
from collections.abc import Iterable
from email.utils import formatdate
from typing import Literal

from pytest_spectron.testing.http._exchange import BODILESS_STATUSES, BrokenStream, ServiceResponse
from pytest_spectron.testing.http._problems import problem_response, reason_phrase

__all__ = [
    "LINGER_SECONDS",
    "Next",
    "close_gracefully",
    "encode_head",
    "hold",
    "reset_on_close",
    "send_stream",
    "send_whole",
]

LINGER_SECONDS = 1.0
"""After a closing answer, how long to wait for the client's own close: closing a socket that
holds unread bytes from the client sends an RST, which can destroy the answer in transit."""

Next = Literal["keep", "close", "abort"]
"""After an answer: serve the next request, close gracefully, or close at once."""

_TEXT_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_UNSENDABLE = re.compile(r"[\r\n\x00]")
_FRAMING_HEADERS = frozenset(
    {"connection", "content-length", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade"}
)
"""Headers the server writes itself; the service's own values for them are dropped."""
_RST_ON_CLOSE = struct.pack("ii", 1, 0)
"""``SO_LINGER`` on with a zero timeout: ``close()`` sends a TCP RST instead of a FIN."""


# -- Answers --------------------------------------------------------------------------------


def send_whole(
    connection: socket.socket, answer: ServiceResponse, *, head_only: bool, keep: bool
) -> Next:
    """Send an answer with its ``Content-Length`` (only the head for ``HEAD``).

    :param connection: the client's socket.
    :param answer: the answer; one that cannot be sent goes as a 500 problem instead.
    :param head_only: send the head alone (the answer to a ``HEAD`` request).
    :param keep: keep the connection for another request.
    :return: how the connection goes on.
    """
    bodiless = answer.status < 200 or answer.status in BODILESS_STATUSES
    framing = [] if bodiless else [("Content-Length", str(len(answer.body)))]
    head, sent = _head_or_500(answer, framing, keep=keep)
    if sent is not answer:
        bodiless = False
    connection.sendall(head if head_only or bodiless else head + sent.body)
    return "keep" if keep else "close"


def send_stream(
    connection: socket.socket, answer: ServiceResponse, *, keep: bool, chunked: bool
) -> Next:
    """Send a streamed answer frame by frame, each as soon as it is there.

    :param connection: the client's socket.
    :param answer: the streamed answer.
    :param keep: keep the connection for another request.
    :param chunked: one chunk per frame; without (an HTTP/1.0 client), the close ends the
        stream.
    :return: how the connection goes on: closed, without the final chunk, if the stream broke.
    """
    framing = [("Transfer-Encoding", "chunked")] if chunked else []
    head, sent = _head_or_500(answer, framing, keep=keep)
    if sent is not answer:  # the service's answer could not be sent: a 500 instead
        return send_whole(connection, sent, head_only=False, keep=keep)
    connection.sendall(head)
    try:
        for frame in answer.frames():  # a relayed frame leaves as soon as it arrives
            if frame:  # an empty chunk would end the stream
                connection.sendall(b"%x\r\n%b\r\n" % (len(frame), frame) if chunked else frame)
    except BrokenStream:
        return "close"  # no final chunk: the client sees the stream cut
    if chunked:
        connection.sendall(b"0\r\n\r\n")
    return "keep" if keep else "close"


def encode_head(
    status: int,
    headers: Iterable[tuple[str, str]],
    framing: list[tuple[str, str]],
    *,
    keep: bool,
) -> bytes:
    """The status line and headers of an answer, with the server's own framing headers.

    :param status: the HTTP status.
    :param headers: the answer's headers; its framing headers are dropped.
    :param framing: the framing headers to send (``Content-Length``, ``Transfer-Encoding``).
    :param keep: keep the connection; else the head says ``Connection: close``.
    :raises ValueError: the status or a header cannot be sent.
    :return: the encoded head, up to its empty line.
    """
    if not 100 <= status <= 599:
        raise ValueError(f"status {status} is not an HTTP status (100-599)")
    headers = list(headers)
    named = {name.lower() for name, _ in headers}
    lines = [f"HTTP/1.1 {status} {reason_phrase(status)}"]
    if "date" not in named:
        lines.append(f"Date: {_http_date()}")
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


_date: tuple[int, str] = (0, "")
"""The second the last ``Date`` was formatted for, and that header value."""


def _http_date() -> str:
    """Now, as a ``Date`` header says it; formatted once a second, not for every answer."""
    global _date
    now = int(time.time())
    if _date[0] != now:
        _date = (now, formatdate(now, usegmt=True))
    return _date[1]


def _head_or_500(
    answer: ServiceResponse, framing: list[tuple[str, str]], *, keep: bool
) -> tuple[bytes, ServiceResponse]:
    """The encoded head, and the answer it introduces.

    An answer that cannot go on the wire (a bad status, a header with a line break, a value
    that is not latin-1) is a bug in the service: it becomes a 500 problem, as a raise does.
    """
    try:
        return encode_head(answer.status, answer.headers, framing, keep=keep), answer
    except ValueError as error:
        failed = problem_response(500, f"the Spectron service's answer cannot be sent: {error}")
        length = [("Content-Length", str(len(failed.body)))]
        return encode_head(500, failed.headers, length, keep=keep), failed


# -- Network failures and closing -----------------------------------------------------------


def hold(connection: socket.socket, wake: socket.socket) -> None:
    """Stay silent until the client gives up (closes) or the server stops (``wake``).

    Not subject to ``idle_timeout``: the fault is that the server is silent, however long
    the client waits.

    :param connection: the client's socket.
    :param wake: the server's wake socket, readable once it stops.
    """
    with selectors.DefaultSelector() as selector:
        selector.register(connection, selectors.EVENT_READ)
        selector.register(wake, selectors.EVENT_READ)
        while True:
            ready = {key.fileobj for key, _ in selector.select()}
            if wake in ready:
                return
            try:
                if not connection.recv(65_536):
                    return  # the client closed: it stopped waiting
            except OSError:
                return
            # Whatever else the client sends while it waits goes unanswered too.


def reset_on_close(connection: socket.socket) -> None:
    """Make the coming close send a TCP RST instead of a FIN.

    :param connection: the client's socket.
    """
    with contextlib.suppress(OSError):  # the peer is gone already
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RST_ON_CLOSE)


def close_gracefully(connection: socket.socket, wake: socket.socket) -> None:
    """Send a FIN, then give the client ``LINGER_SECONDS`` to read the answer and close first.

    :param connection: the client's socket (the caller closes it).
    :param wake: the server's wake socket, readable once it stops.
    """
    deadline = time.monotonic() + LINGER_SECONDS
    with contextlib.suppress(OSError), selectors.DefaultSelector() as selector:
        connection.shutdown(socket.SHUT_WR)
        selector.register(connection, selectors.EVENT_READ)
        selector.register(wake, selectors.EVENT_READ)
        while (left := deadline - time.monotonic()) > 0:
            ready = {key.fileobj for key, _ in selector.select(left)}
            if not ready or wake in ready:
                return
            if not connection.recv(65_536):
                return
