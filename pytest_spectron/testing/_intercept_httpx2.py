"""Where ``SpectronMock`` meets httpx2, Pydantic's fork of httpx, which respx does not patch.

The Spectron mocker (``_intercept``) patches httpx2's clients where respx patches httpx's:
``_transport_for_url``, above every transport. The transport it returns hands each request,
turned into an httpx request, to the very handler httpx clients meet (the mocks' routers, so the
same fake, faults, journal, clock and unroutable-request failure), and turns the answer, or the
network failure, back into httpx2's. What no mock answers goes on to the client's own transport.
Imported only when httpx2 is, by the mocker as it patches it.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import httpx2
from respx.models import PassThrough

from pytest_spectron.client._httpx2 import to_httpx2_error, to_httpx2_response, to_httpx_request

__all__ = ["patched_transport_for_url"]

Handler = Callable[[httpx.Request], httpx.Response]
"""The Spectron mocker's: an answer, or PassThrough for a host no mock answers."""
TransportForURL = Callable[
    [httpx2.Client | httpx2.AsyncClient, httpx2.URL],
    httpx2.BaseTransport | httpx2.AsyncBaseTransport,
]


def patched_transport_for_url(handler: Handler, original: TransportForURL) -> TransportForURL:
    """httpx2's ``Client._transport_for_url`` (or ``AsyncClient``'s), answering from ``handler``."""

    def _transport_for_url(
        client: httpx2.Client | httpx2.AsyncClient, url: httpx2.URL
    ) -> _SpectronTransport:
        return _SpectronTransport(handler, below=original(client, url))

    return _transport_for_url


class _SpectronTransport(httpx2.BaseTransport, httpx2.AsyncBaseTransport):
    """Answers what a Spectron mock answers; hands the rest to the client's own transport."""

    def __init__(
        self, handler: Handler, *, below: httpx2.BaseTransport | httpx2.AsyncBaseTransport
    ) -> None:
        self._handler = handler
        self._below = below

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        request.read()
        try:
            return self._answer(request)
        except PassThrough:
            assert isinstance(self._below, httpx2.BaseTransport)  # a sync client's own
            return self._below.handle_request(request)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        await request.aread()
        try:
            return self._answer(request)
        except PassThrough:
            assert isinstance(self._below, httpx2.AsyncBaseTransport)  # an async client's own
            return await self._below.handle_async_request(request)

    def _answer(self, request: httpx2.Request) -> httpx2.Response:
        # The mocks' side effects are synchronous, as respx runs them for httpx's async clients.
        try:
            response = self._handler(to_httpx_request(request))
        except httpx.RequestError as error:
            # As a network failure looks to an httpx client: no chained conversion to show.
            raise to_httpx2_error(error, request) from None
        return to_httpx2_response(response, request)
