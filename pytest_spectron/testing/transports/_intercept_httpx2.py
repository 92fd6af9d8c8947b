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

import httpx
import httpx2

from pytest_spectron.client._httpx2 import to_httpx2_error, to_httpx2_response, to_httpx_request

__all__ = ["patched_transport_for_url"]

Answer = Callable[[httpx.Request], httpx.Response]
"""A mock's answer to one request to its endpoint."""
AnswerFor = Callable[[httpx2.URL], Answer | None]
"""The answer of the mock on a URL's origin, or None when no mock answers it."""
TransportForURL = Callable[
    [httpx2.Client | httpx2.AsyncClient, httpx2.URL],
    httpx2.BaseTransport | httpx2.AsyncBaseTransport,
]


def patched_transport_for_url(answer_for: AnswerFor, original: TransportForURL) -> TransportForURL:
    """httpx2's ``Client._transport_for_url`` (or ``AsyncClient``'s), answering from the mocks."""

    def _transport_for_url(
        client: httpx2.Client | httpx2.AsyncClient, url: httpx2.URL
    ) -> httpx2.BaseTransport | httpx2.AsyncBaseTransport:
        answer = answer_for(url)
        return original(client, url) if answer is None else _SpectronTransport(answer)

    return _transport_for_url


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
