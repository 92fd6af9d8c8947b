"""Where ``SpectronMock`` meets httpx2, Pydantic's fork of httpx, which respx does not patch.

The interception (``_intercept``) patches httpx2's clients where it patches httpx's:
``_transport_for_url``, above every transport. For a URL a mock answers, the transport it
returns hands each request, turned into an httpx request, to that mock's answer (the very one
httpx clients meet: the same fake, faults, journal, clock and unroutable-request failure), and
turns the answer, or the network failure, back into httpx2's. Every other URL gets the client's
own transport. Imported only when httpx2 is, by the interception as it patches it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import httpx
import httpx2

from pytest_spectron.client._httpx2 import to_httpx2_error, to_httpx2_response, to_httpx_request

__all__ = ["patched_transport_for_url"]

Answer = Callable[[httpx.Request], httpx.Response]
"""A mock's answer to one request to its endpoint."""


class _Answering(Protocol):
    @property
    def answer(self) -> Answer: ...


EntryFor = Callable[..., _Answering | None]
"""The registry's decision on a URL (``_registry.entry_for``): who answers, or None."""
TransportForURL = Callable[
    [httpx2.Client | httpx2.AsyncClient, httpx2.URL],
    httpx2.BaseTransport | httpx2.AsyncBaseTransport,
]


_NETWORK_METHODS = (
    (httpx2.HTTPTransport, "handle_request", httpx2.HTTPTransport.handle_request),
    (
        httpx2.AsyncHTTPTransport,
        "handle_async_request",
        httpx2.AsyncHTTPTransport.handle_async_request,
    ),
)
"""httpx2's way to the network, as it was before any transport mock came."""


def patched_transport_for_url(entry_for: EntryFor, original: TransportForURL) -> TransportForURL:
    """httpx2's ``Client._transport_for_url`` (or ``AsyncClient``'s), answering from the mocks.

    What no mock answers goes to the client's own transport, unless the registry refuses it
    and that transport would send it to the network.
    """

    def _transport_for_url(
        client: httpx2.Client | httpx2.AsyncClient, url: httpx2.URL
    ) -> httpx2.BaseTransport | httpx2.AsyncBaseTransport:
        own = original(client, url)
        entry = entry_for(url, network=lambda: _reaches_network(own))
        return own if entry is None else _SpectronTransport(entry.answer)

    return _transport_for_url


def _reaches_network(transport: httpx2.BaseTransport | httpx2.AsyncBaseTransport) -> bool:
    """Whether the client's own transport is httpx2's network one, and nobody mocks it."""
    if not isinstance(transport, httpx2.HTTPTransport | httpx2.AsyncHTTPTransport):
        return False
    return all(getattr(owner, name) is method for owner, name, method in _NETWORK_METHODS)


class _SpectronTransport(httpx2.BaseTransport, httpx2.AsyncBaseTransport):
    """Answers an httpx2 client's requests from a mock's answer to httpx requests."""

    def __init__(self, answer: Answer) -> None:
        self._answer = answer

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        request.read()
        return self._answer_httpx2(request)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        await request.aread()
        return self._answer_httpx2(request)

    def _answer_httpx2(self, request: httpx2.Request) -> httpx2.Response:
        # The mocks' answers are synchronous, as for httpx's async clients.
        try:
            response = self._answer(to_httpx_request(request))
        except httpx.RequestError as error:
            # As a network failure looks to an httpx client: no chained conversion to show.
            raise to_httpx2_error(error, request) from None
        return to_httpx2_response(response, request)
