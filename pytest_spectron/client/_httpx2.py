"""httpx2, Pydantic's maintained fork of httpx, met at the edge: its requests, answers and errors
turned into httpx's and back.

The client sends with httpx, whose responses and errors its retries, error mapping and SSE parsing
read. An ``httpx2.Client`` passed as ``http_client`` is wrapped in an ``Httpx2Adapter``: an httpx
client whose every request the httpx2 client builds (its headers, cookies and query parameters
merged in) and sends (its auth, event hooks, transport and proxies), the answer coming back as an
httpx response whose body is relayed as it arrives. The same conversions, the other way, let the
test fake answer httpx2 clients (``pytest_spectron.testing.transports._intercept_httpx2``).

Imported only where an httpx2 object is already at hand, so httpx2 costs nothing to the rest.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from types import ModuleType
from typing import Generic, TypeVar

import httpx
import httpx2

__all__ = [
    "AsyncHttpx2Adapter",
    "Httpx2Adapter",
    "to_httpx2_error",
    "to_httpx2_response",
    "to_httpx_request",
]

_HTTPX2_USER_AGENT = f"python-httpx2/{httpx2.__version__}"
_RequestErrorT = TypeVar("_RequestErrorT", httpx.RequestError, httpx2.RequestError)
_SourceErrorT = TypeVar("_SourceErrorT", bound=Exception)
_Body = (
    httpx.SyncByteStream | httpx.AsyncByteStream | httpx2.SyncByteStream | httpx2.AsyncByteStream
)


class Httpx2Adapter(httpx.Client):
    """An ``httpx.Client`` that sends every request through an ``httpx2.Client``, left open."""

    def __init__(self, client: httpx2.Client) -> None:
        self._through = _Httpx2Transport(client)
        # The httpx2 client applies its own environment (proxies, netrc); its User-Agent, unless
        # httpx2's default, goes before ours as an httpx client's does (_wire._user_agent).
        super().__init__(transport=self._through, headers=_user_agent(client), trust_env=False)

    def _transport_for_url(self, url: httpx.URL) -> httpx.BaseTransport:
        # Straight to the httpx2 client, as given: respx's mockers patch this method on every
        # httpx client, and must not answer for an httpx2 client (they never see its requests).
        return self._through


class AsyncHttpx2Adapter(httpx.AsyncClient):
    """An ``httpx.AsyncClient`` that sends every request through an ``httpx2.AsyncClient``."""

    def __init__(self, client: httpx2.AsyncClient) -> None:
        self._through = _AsyncHttpx2Transport(client)
        super().__init__(transport=self._through, headers=_user_agent(client), trust_env=False)

    def _transport_for_url(self, url: httpx.URL) -> httpx.AsyncBaseTransport:
        return self._through  # as Httpx2Adapter's


class _Httpx2Transport(httpx.BaseTransport):
    def __init__(self, client: httpx2.Client) -> None:
        self._client = client

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        try:
            answer = self._client.send(_to_httpx2_request(request, self._client), stream=True)
        except httpx2.RequestError as error:
            raise _to_httpx_error(error, request) from error
        return _to_httpx_response(answer, request)


class _AsyncHttpx2Transport(httpx.AsyncBaseTransport):
    def __init__(self, client: httpx2.AsyncClient) -> None:
        self._client = client

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        try:
            answer = await self._client.send(_to_httpx2_request(request, self._client), stream=True)
        except httpx2.RequestError as error:
            raise _to_httpx_error(error, request) from error
        return _to_httpx_response(answer, request)


def _user_agent(client: httpx2.Client | httpx2.AsyncClient) -> dict[str, str]:
    agent = client.headers.get("User-Agent")
    return {} if agent in (None, _HTTPX2_USER_AGENT) else {"User-Agent": agent}


def _to_httpx2_request(
    request: httpx.Request, client: httpx2.Client | httpx2.AsyncClient
) -> httpx2.Request:
    """A read httpx request as ``client`` builds it, with its defaults merged in."""
    # The httpx2 client keeps the cookies: a Cookie header from the adapter's jar would hide them.
    headers = [(name, value) for name, value in request.headers.raw if name.lower() != b"cookie"]
    return client.build_request(
        request.method,
        str(request.url),
        headers=headers,
        content=request.content,
        extensions=dict(request.extensions),  # the timeout among them, over the client's own
    )


def _to_httpx_response(response: httpx2.Response, request: httpx.Request) -> httpx.Response:
    return httpx.Response(
        response.status_code,
        headers=response.headers.raw,
        stream=_Relay(response.stream, httpx2.RequestError, lambda e: _to_httpx_error(e, request)),
        request=request,
        extensions=response.extensions,
    )


def _to_httpx_error(error: httpx2.RequestError, request: httpx.Request) -> httpx.RequestError:
    return _same_kind(error, httpx, httpx.RequestError)(str(error), request=request)


def to_httpx_request(request: httpx2.Request) -> httpx.Request:
    """A read httpx2 request as httpx's: method, URL, headers, body and extensions (timeout)."""
    return httpx.Request(
        request.method,
        str(request.url),
        headers=request.headers.raw,
        content=request.content,
        extensions=request.extensions,
    )


def to_httpx2_response(response: httpx.Response, request: httpx2.Request) -> httpx2.Response:
    """An httpx answer as httpx2's; a streamed body still arrives chunk by chunk."""
    return httpx2.Response(
        response.status_code,
        headers=response.headers.raw,
        stream=_Relay(response.stream, httpx.RequestError, lambda e: to_httpx2_error(e, request)),
        request=request,
        extensions=response.extensions,
    )


def to_httpx2_error(error: httpx.RequestError, request: httpx2.Request) -> httpx2.RequestError:
    """The httpx2 error of the same kind as an httpx error (``ReadTimeout`` for ``ReadTimeout``)."""
    return _same_kind(error, httpx2, httpx2.RequestError)(str(error), request=request)


def _same_kind(
    error: Exception, library: ModuleType, base: type[_RequestErrorT]
) -> type[_RequestErrorT]:
    """``library``'s subclass of ``base`` named as ``error``'s class, or else as its nearest base.

    The two libraries name their errors alike; httpx2's ``SSEError`` is a ``TransportError``.
    """
    for kind in type(error).__mro__:
        counterpart = getattr(library, kind.__name__, None)
        if isinstance(counterpart, type) and issubclass(counterpart, base):
            return counterpart
    return base


class _Relay(
    httpx.SyncByteStream,
    httpx.AsyncByteStream,
    httpx2.SyncByteStream,
    httpx2.AsyncByteStream,
    Generic[_SourceErrorT],
):
    """One library's response body, read by the other's as it arrives, its errors translated.

    The body is read in the flavour (sync or async) of the client that sent the request.
    """

    def __init__(
        self,
        body: _Body,
        errors: type[_SourceErrorT],
        translate: Callable[[_SourceErrorT], Exception],
    ) -> None:
        self._body = body
        self._errors: type[_SourceErrorT] = errors
        self._translate: Callable[[_SourceErrorT], Exception] = translate

    def __iter__(self) -> Iterator[bytes]:
        body = self._body
        if not isinstance(body, httpx.SyncByteStream | httpx2.SyncByteStream):
            raise RuntimeError("Attempted to call a sync iterator on an async stream.")
        try:
            yield from body
        except self._errors as error:
            raise self._translate(error) from error

    async def __aiter__(self) -> AsyncIterator[bytes]:
        body = self._body
        if not isinstance(body, httpx.AsyncByteStream | httpx2.AsyncByteStream):
            raise RuntimeError("Attempted to call an async iterator on a sync stream.")
        try:
            async for chunk in body:
                yield chunk
        except self._errors as error:
            raise self._translate(error) from error

    def close(self) -> None:
        if isinstance(self._body, httpx.SyncByteStream | httpx2.SyncByteStream):
            self._body.close()

    async def aclose(self) -> None:
        if isinstance(self._body, httpx.AsyncByteStream | httpx2.AsyncByteStream):
            await self._body.aclose()
