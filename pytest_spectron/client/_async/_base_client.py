"""What the asynchronous client stands on: its settings, its connection pool and its send loop."""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx
from typing_extensions import Self

from pytest_spectron.client import models as m
from pytest_spectron.client._async._access import AsyncKeys, AsyncPrincipals, AsyncScopes
from pytest_spectron.client._async._documents import AsyncDocuments
from pytest_spectron.client._async._resources import (
    AsyncEntities,
    AsyncLifecycle,
    AsyncSessions,
    AsyncTraces,
)
from pytest_spectron.client._catalogue import Operation, ResponseT
from pytest_spectron.client._options import (
    DEFAULT_TIMEOUT,
    NOT_GIVEN,
    ClientOptions,
    NotGiven,
    Secret,
    TimeoutTypes,
    check_http_arguments,
    default_ssl_context,
    redacted_url,
)
from pytest_spectron.client._retry import (
    DEFAULT_MAX_RETRIES,
    async_sleep,
    backoff,
    is_retryable_status,
    retries_allowed,
)
from pytest_spectron.client._wire import (
    MAX_REDIRECTS,
    Call,
    CallBuilder,
    FileContent,
    api_error_after_redirects,
    connection_error,
    decode_result,
)

if TYPE_CHECKING:
    import httpx2

__all__ = ["AsyncBaseClient"]


class AsyncBaseClient:
    """All of ``AsyncSpectron`` but its memory verbs: settings, namespaces and the send loop."""

    documents: AsyncDocuments
    """Documents: upload, list, get, reprocess, delete, raw bytes, chunks, keywords, query."""
    sessions: AsyncSessions
    """Conversation sessions and their turns."""
    entities: AsyncEntities
    """Entities extracted from memory, with their attributes and history."""
    scopes: AsyncScopes
    """The scope tree: register, list, delete and forget scopes."""
    principals: AsyncPrincipals
    """Principals and their grants."""
    keys: AsyncKeys
    """The caller's own API keys: mint, list, rotate, delete."""
    traces: AsyncTraces
    """Retrieval and response traces, and their statistics."""
    lifecycle: AsyncLifecycle
    """Importance decay and expiry, and the store check ``fsck``."""

    def __init__(
        self,
        context: str,
        endpoint: str | httpx.URL,
        api_key: str,
        *,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.AsyncClient | httpx2.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """Validate the settings; nothing is sent until the first call.

        :param context: the context id every call addresses (``/api/v1/{context_id}/…``).
        :param endpoint: the server's absolute ``http(s)`` URL; a path prefix is kept.
        :param api_key: the API key, sent as ``Authorization: Bearer …`` and never shown.
        :param timeout: seconds for every phase, an ``httpx.Timeout``, or None for no timeout.
        :param max_retries: retries allowed after a retryable call's first attempt; 0 disables
            them.
        :param http_client: an ``httpx.AsyncClient`` (or an ``httpx2.AsyncClient``) to send
            with; used as is, never closed.
        :param transport: an ``httpx.AsyncBaseTransport`` for the client built here.
        :raises TypeError: if an argument has the wrong type, or is an httpx object of the
            other flavour.
        :raises ValueError: if an argument is out of range, or both ``http_client`` and
            ``transport`` are given.
        """
        # Wrapped before anything can fail, so no frame of a failed construction shows the key.
        if isinstance(api_key, str):
            api_key = Secret(api_key)
        check_http_arguments(
            type(self).__name__,
            http_client,
            transport,
            client_type=httpx.AsyncClient,
            transport_type=httpx.AsyncBaseTransport,
        )
        options = ClientOptions.create(
            context, endpoint, api_key, timeout=timeout, max_retries=max_retries
        )
        http: httpx.AsyncClient
        if http_client is None:
            http = httpx.AsyncClient(transport=transport, verify=default_ssl_context())
        elif isinstance(http_client, httpx.AsyncClient):
            http = http_client
        else:
            # Loaded only now: httpx2 is imported already, since its client is here.
            from pytest_spectron.client._httpx2 import AsyncHttpx2Adapter

            http = AsyncHttpx2Adapter(http_client)
        self._setup(options, http, owns_http=http_client is None)

    def _setup(self, options: ClientOptions, http: httpx.AsyncClient, *, owns_http: bool) -> None:
        # Shared by the constructor and with_options, whose copy skips the constructor.
        self._options = options
        self._http = http
        self._calls = CallBuilder(http, options)
        self._owns_http = owns_http
        self.documents = AsyncDocuments(self)
        self.sessions = AsyncSessions(self)
        self.entities = AsyncEntities(self)
        self.scopes = AsyncScopes(self)
        self.principals = AsyncPrincipals(self)
        self.keys = AsyncKeys(self)
        self.traces = AsyncTraces(self)
        self.lifecycle = AsyncLifecycle(self)

    @property
    def context(self) -> str:
        """The context id every call addresses."""
        return self._options.context

    @property
    def context_id(self) -> str:
        """``context``, under the official SDK's name."""
        return self._options.context

    @property
    def endpoint(self) -> httpx.URL:
        """The base URL of the Spectron server."""
        return self._options.endpoint

    @property
    def timeout(self) -> httpx.Timeout:
        """The timeout applied to every request."""
        return self._options.timeout

    @property
    def max_retries(self) -> int:
        """How many times a retryable call may be retried after its first attempt."""
        return self._options.max_retries

    def with_options(
        self,
        *,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> Self:
        """A copy with other settings that shares this client's connection pool.

        :param timeout: seconds, an ``httpx.Timeout`` or None for no timeout; this client's
            unless given.
        :param max_retries: retries allowed after a call's first attempt; this client's unless
            given.
        :return: the copy; closing it leaves the shared pool open.
        :raises TypeError: if a setting has the wrong type.
        :raises ValueError: if a setting is out of range.
        """
        copy = object.__new__(type(self))
        options = self._options.with_changes(timeout=timeout, max_retries=max_retries)
        copy._setup(options, self._http, owns_http=False)
        return copy

    async def aclose(self) -> None:
        """Close the connection pool, unless it was passed in by the caller."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} context={self.context!r} "
            f"endpoint={redacted_url(self.endpoint)!r} max_retries={self.max_retries}>"
        )

    async def _call(
        self,
        operation: Operation[ResponseT],
        *,
        path: Mapping[str, str] | None = None,
        query: Mapping[str, object] | None = None,
        body: m.RequestModel | None = None,
        upload: tuple[str, FileContent, str | None] | None = None,
        idempotency_key: str | None = None,
        on_behalf_of: str | None = None,
    ) -> ResponseT:
        """Make one call of ``operation`` and decode its answer into what it returns."""
        call = self._calls.build(
            operation,
            path=path,
            query=query,
            body=body,
            upload=upload,
            idempotency_key=idempotency_key,
            on_behalf_of=on_behalf_of,
        )
        response = await self._send(call)
        return decode_result(call, response)

    async def _send(self, call: Call[Any], *, stream: bool = False) -> httpx.Response:
        """Send ``call``, retrying as its retry class allows; return the first 2xx answer."""
        retries = retries_allowed(call.retry_class, self._options.max_retries)
        retry = 0
        while True:
            try:
                response = await self._follow(
                    await self._http.send(call.request, stream=stream, follow_redirects=False),
                    stream=stream,
                )
                if response.is_success:
                    return response
                await response.aread()
                await response.aclose()
            except httpx.RequestError as exc:
                if retry >= retries:
                    raise connection_error(call, exc) from exc
            else:
                if retry >= retries or not is_retryable_status(response.status_code):
                    raise api_error_after_redirects(call, response)
            retry += 1
            await async_sleep(backoff(retry))

    async def _follow(self, response: httpx.Response, *, stream: bool) -> httpx.Response:
        """The answer at the end of ``response``'s redirects, as both official SDKs follow them.

        Up to ``MAX_REDIRECTS`` hops, each built by httpx: 301, 302 and 303 turn a POST into a
        GET, 307 and 308 keep the method and body, and ``Authorization`` is dropped when a hop
        leaves the endpoint's origin (requests, aiohttp and ``fetch`` drop it too).
        """
        for _ in range(MAX_REDIRECTS):
            following = response.next_request
            if following is None:
                break
            await response.aclose()
            response = await self._http.send(following, stream=stream, follow_redirects=False)
        return response
