"""Serve a service to httpx in-process: one handler, for ``httpx.MockTransport`` or for respx.

A ``ServiceResponse`` becomes an ``httpx.Response`` (an SSE answer streamed frame by frame, a
relayed one as its frames arrive, cut with ``httpx.RemoteProtocolError`` where the fault says or
the upstream's stream broke); a ``NetworkFailure`` becomes the httpx exception a real network
would raise, so the client's own error handling runs unchanged.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

import httpx

from pytest_spectron.testing.http._exchange import (
    BrokenStream,
    NetworkFailure,
    Service,
    ServiceRequest,
    ServiceResponse,
    strip_prefix,
)

__all__ = [
    "STREAM_CUT_MESSAGE",
    "EventStream",
    "network_error",
    "service_handler",
    "to_httpx_response",
    "to_service_request",
]

STREAM_CUT_MESSAGE = "peer closed connection without sending complete message body"
"""What httpx says when a server drops a streamed answer midway; the stream cut raises it."""

_NETWORK_ERRORS: dict[str, tuple[type[httpx.TransportError], str]] = {
    "connect": (httpx.ConnectError, "connection refused"),
    "connect_timeout": (httpx.ConnectTimeout, "timed out while connecting"),
    "read_timeout": (httpx.ReadTimeout, "timed out waiting for the answer"),
    "reset": (httpx.ReadError, "connection reset by peer"),
}


def service_handler(
    service: Service, *, prefix: str = ""
) -> Callable[[httpx.Request], httpx.Response]:
    """An httpx handler answering every request from ``service``.

    ``httpx.MockTransport(service_handler(service))`` serves it to a sync or an async client;
    ``SpectronMock`` hands it to respx as a side effect. Neither reads a streamed answer ahead,
    so SSE answers stream frame by frame and stream cuts surface while the client reads. A
    network failure raises the httpx exception a real network would.

    :param service: what answers, such as a ``SpectronService``.
    :param prefix: the endpoint's path prefix (``/spectron`` behind a gateway), removed from
        each path before routing.
    :return: the handler.
    """

    def handler(request: httpx.Request) -> httpx.Response:
        request.read()  # MockTransport and respx have read the body already: this returns it.
        return _render(service.dispatch(to_service_request(request, prefix=prefix)), request)

    return handler


def to_service_request(request: httpx.Request, *, prefix: str = "") -> ServiceRequest:
    """The service's view of a (read) httpx request, with its read timeout (or none)."""
    path, outside_prefix = strip_prefix(
        request.url.raw_path.decode("ascii").partition("?")[0], prefix
    )
    timeouts = request.extensions.get("timeout", {})
    timeout, connect_timeout = timeouts.get("read"), timeouts.get("connect")
    return ServiceRequest(
        method=request.method,
        path=path,
        outside_prefix=outside_prefix,
        query=tuple(request.url.params.multi_items()),
        headers={name.lower(): value for name, value in request.headers.items()},
        body=request.content,
        timeout=None if timeout is None else float(timeout),
        connect_timeout=None if connect_timeout is None else float(connect_timeout),
        # httpx sets every phase; a read phase of None is a client that waits forever.
        waits_forever="read" in timeouts and timeout is None,
    )


def to_httpx_response(answer: ServiceResponse, request: httpx.Request) -> httpx.Response:
    """The httpx response for a service answer; SSE frames become a streamed body."""
    if not answer.streams:
        return httpx.Response(
            answer.status, headers=list(answer.headers), content=answer.body, request=request
        )
    stream = EventStream(answer, request=request)
    return httpx.Response(
        answer.status, headers=list(answer.headers), stream=stream, request=request
    )


def network_error(failure: NetworkFailure, request: httpx.Request) -> httpx.TransportError:
    """The httpx exception a real network failure of this kind raises."""
    error_type, words = _NETWORK_ERRORS[failure.kind]
    detail = f" ({failure.detail})" if failure.detail else ""
    return error_type(f"{words}{detail}", request=request)


def _render(answer: ServiceResponse | NetworkFailure, request: httpx.Request) -> httpx.Response:
    if isinstance(answer, NetworkFailure):
        raise network_error(answer, request)
    return to_httpx_response(answer, request)


class EventStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """An answer's SSE frames sent one by one; where the stream breaks, the connection drops.

    Closing it (httpx does, once the response is closed) releases a relayed stream's upstream.
    """

    def __init__(self, answer: ServiceResponse, *, request: httpx.Request) -> None:
        self.answer = answer
        self._request = request

    def _frames(self) -> Iterator[bytes]:
        try:
            yield from self.answer.frames()
        except BrokenStream:
            raise httpx.RemoteProtocolError(STREAM_CUT_MESSAGE, request=self._request) from None

    def __iter__(self) -> Iterator[bytes]:
        return self._frames()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for frame in self._frames():
            yield frame

    def close(self) -> None:
        """Release what the frames come from (a relayed stream's upstream connection)."""
        self.answer.close()

    async def aclose(self) -> None:
        """Release what the frames come from, for an async client."""
        self.answer.close()
