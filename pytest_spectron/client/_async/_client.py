"""The asynchronous Spectron client: every method is awaited."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from types import TracebackType
from typing import Any, Literal, cast, overload

import httpx
from httpx_sse import EventSource

from pytest_spectron.client import models as m
from pytest_spectron.client._async._resources import (
    AsyncDocuments,
    AsyncEntities,
    AsyncKeys,
    AsyncLifecycle,
    AsyncPrincipals,
    AsyncScopes,
    AsyncSessions,
    AsyncTraces,
)
from pytest_spectron.client._catalogue import CATALOGUE
from pytest_spectron.client._chat import DONE, ChatChunk, parse_chunk
from pytest_spectron.client._exceptions import SpectronStreamError
from pytest_spectron.client._options import (
    DEFAULT_TIMEOUT,
    NOT_GIVEN,
    ClientOptions,
    NotGiven,
    TimeoutTypes,
)
from pytest_spectron.client._retry import (
    DEFAULT_MAX_RETRIES,
    async_sleep,
    backoff,
    is_retryable_status,
    retries_allowed,
)
from pytest_spectron.client._scopes import ScopeSelector
from pytest_spectron.client._wire import (
    Call,
    FileContent,
    api_error,
    build_call,
    connection_error,
    decode_result,
    request_body,
)

__all__ = ["AsyncChatStream", "AsyncSpectron"]


class AsyncSpectron:
    """Asynchronous client for one Spectron context; every method is awaited.

    Follows Spectron's documented retry policy: reads and ``remember`` / ``remember_many`` are
    retried on connection errors, timeouts and 5xx (up to ``max_retries`` times, waiting 0.25 s,
    0.5 s, then 1.0 s); every other call is sent once; no 4xx is retried.
    """

    def __init__(
        self,
        context: str,
        endpoint: str | httpx.URL,
        api_key: str,
        *,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if http_client is not None and transport is not None:
            raise ValueError("pass either http_client or transport, not both")
        options = ClientOptions.create(
            context, endpoint, api_key, timeout=timeout, max_retries=max_retries
        )
        owns_http = http_client is None
        http = http_client or httpx.AsyncClient(transport=transport)
        self._setup(options, http, owns_http=owns_http)

    def _setup(self, options: ClientOptions, http: httpx.AsyncClient, *, owns_http: bool) -> None:
        self._options = options
        self._http = http
        self._owns_http = owns_http
        self.documents = AsyncDocuments(self)
        """Documents: upload, list, get, reprocess, delete, raw bytes, chunks, keywords, query."""
        self.sessions = AsyncSessions(self)
        """Conversation sessions and their turns."""
        self.entities = AsyncEntities(self)
        """Entities extracted from memory, with their attributes and history."""
        self.scopes = AsyncScopes(self)
        """The scope tree: register, list, delete and forget scopes."""
        self.principals = AsyncPrincipals(self)
        """Principals and their grants."""
        self.keys = AsyncKeys(self)
        """The caller's own API keys: mint, list, rotate, delete."""
        self.traces = AsyncTraces(self)
        """Retrieval and response traces, and their statistics."""
        self.lifecycle = AsyncLifecycle(self)
        """Importance decay and expiry."""

    @property
    def context(self) -> str:
        """The context id every call addresses."""
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
    ) -> AsyncSpectron:
        """A copy with other settings that shares this client's connection pool."""
        copy = object.__new__(type(self))
        options = self._options.with_changes(timeout=timeout, max_retries=max_retries)
        copy._setup(options, self._http, owns_http=False)
        return copy

    async def aclose(self) -> None:
        """Close the connection pool, unless it was passed in by the caller."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncSpectron:
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
            f"<{type(self).__name__} context={self.context!r} endpoint={str(self.endpoint)!r} "
            f"max_retries={self.max_retries}>"
        )

    # -- Memory verbs ------------------------------------------------------------------------

    async def remember(
        self,
        text: str | None = None,
        *,
        triples: Sequence[m.Triple] | None = None,
        session_id: str | None = None,
        role: m.TurnRole | None = None,
        labels: Sequence[str] | None = None,
        scopes: ScopeSelector | None = None,
        memory_category: m.MemoryCategory | None = None,
        observed_at: str | None = None,
        infer: m.InferMode | None = None,
        idempotency_key: str | None = None,
        on_behalf_of: str | None = None,
    ) -> m.FactsResponse:
        """Store a fact, as free text or triples; retried safely under one Idempotency-Key."""
        body = request_body(
            m.FactsRequest,
            text=text,
            triples=triples,
            session_id=session_id,
            role=role,
            labels=labels,
            scopes=scopes,
            memory_category=memory_category,
            observed_at=observed_at,
            infer=infer,
        )
        return cast(
            m.FactsResponse,
            await self._call(
                "remember", body=body, idempotency_key=idempotency_key, on_behalf_of=on_behalf_of
            ),
        )

    async def remember_many(
        self,
        messages: Sequence[m.BatchMessage],
        *,
        session_id: str | None = None,
        labels: Sequence[str] | None = None,
        scopes: ScopeSelector | None = None,
        extract: m.BatchExtractionMode | None = None,
        infer: m.InferMode | None = None,
        idempotency_key: str | None = None,
        on_behalf_of: str | None = None,
    ) -> m.FactsBatchResponse:
        """Store a batch of conversation messages; retried safely under one Idempotency-Key."""
        body = request_body(
            m.FactsBatchRequest,
            messages=messages,
            session_id=session_id,
            labels=labels,
            scopes=scopes,
            extract=extract,
            infer=infer,
        )
        return cast(
            m.FactsBatchResponse,
            await self._call(
                "remember_many",
                body=body,
                idempotency_key=idempotency_key,
                on_behalf_of=on_behalf_of,
            ),
        )

    async def recall(
        self,
        query: str,
        *,
        k: int | None = None,
        labels: Sequence[str] | None = None,
        lens: ScopeSelector | None = None,
        scope_view: str | None = None,
        session_id: str | None = None,
        mode: m.MemoryQueryMode | None = None,
        include: Sequence[str] | None = None,
        include_duplicates: bool | None = None,
        location: m.GeoFilter | None = None,
        as_of: str | None = None,
        at_instant: str | None = None,
        valid_from: str | None = None,
        valid_until: str | None = None,
        source: str | None = None,
        on_behalf_of: str | None = None,
    ) -> m.QueryMemoryResponse:
        """Find the memories that best match ``query`` (a POST read: sent once)."""
        body = request_body(
            m.QueryMemoryRequest,
            query=query,
            k=k,
            labels=labels,
            lens=lens,
            scope_view=scope_view,
            session_id=session_id,
            mode=mode,
            include=include,
            include_duplicates=include_duplicates,
            location=location,
            as_of=as_of,
            at_instant=at_instant,
            valid_from=valid_from,
            valid_until=valid_until,
            source=source,
        )
        return cast(
            m.QueryMemoryResponse, await self._call("recall", body=body, on_behalf_of=on_behalf_of)
        )

    async def forget(
        self,
        query: str,
        *,
        dry_run: bool | None = None,
        purge: bool | None = None,
        on_behalf_of: str | None = None,
    ) -> m.ForgetResponse:
        """Delete the memories matching ``query``; ``dry_run`` only counts them."""
        body = request_body(m.ForgetRequest, query=query, dry_run=dry_run, purge=purge)
        return cast(
            m.ForgetResponse, await self._call("forget", body=body, on_behalf_of=on_behalf_of)
        )

    @overload
    async def chat(
        self,
        message: str,
        *,
        stream: Literal[False] = False,
        session_id: str | None = None,
        labels: Sequence[str] | None = None,
        scopes: ScopeSelector | None = None,
        model: str | None = None,
        bypass_cache: bool | None = None,
        on_behalf_of: str | None = None,
    ) -> m.ChatResponse: ...

    @overload
    async def chat(
        self,
        message: str,
        *,
        stream: Literal[True],
        session_id: str | None = None,
        labels: Sequence[str] | None = None,
        scopes: ScopeSelector | None = None,
        model: str | None = None,
        bypass_cache: bool | None = None,
        on_behalf_of: str | None = None,
    ) -> AsyncChatStream: ...

    async def chat(
        self,
        message: str,
        *,
        stream: bool = False,
        session_id: str | None = None,
        labels: Sequence[str] | None = None,
        scopes: ScopeSelector | None = None,
        model: str | None = None,
        bypass_cache: bool | None = None,
        on_behalf_of: str | None = None,
    ) -> m.ChatResponse | AsyncChatStream:
        """Answer ``message`` from memory; with ``stream=True``, yield the answer in chunks."""
        body = request_body(
            m.ChatRequest,
            message=message,
            stream=stream or None,
            session_id=session_id,
            labels=labels,
            scopes=scopes,
            model=model,
            bypass_cache=bypass_cache,
        )
        if not stream:
            return cast(
                m.ChatResponse, await self._call("chat", body=body, on_behalf_of=on_behalf_of)
            )
        call = build_call(
            self._http,
            self._options,
            CATALOGUE["chat"],
            body=body,
            on_behalf_of=on_behalf_of,
            stream=True,
        )
        return AsyncChatStream(call, await self._send(call, stream=True))

    async def consolidate(
        self,
        *,
        dry_run: bool | None = None,
        fact_limit: int | None = None,
        observation_limit: int | None = None,
        on_behalf_of: str | None = None,
    ) -> m.ConsolidateResponse:
        """Merge observations into consolidated facts; ``dry_run`` reports without writing."""
        body = request_body(
            m.ConsolidateRequest,
            dry_run=dry_run,
            fact_limit=fact_limit,
            observation_limit=observation_limit,
        )
        return cast(
            m.ConsolidateResponse,
            await self._call("consolidate", body=body, on_behalf_of=on_behalf_of),
        )

    async def reflect(
        self, query: str, *, persist: bool | None = None, on_behalf_of: str | None = None
    ) -> m.ReflectResponse:
        """Reason over memory about ``query``; ``persist`` stores what it concludes."""
        body = request_body(m.ReflectRequest, query=query, persist=persist)
        return cast(
            m.ReflectResponse, await self._call("reflect", body=body, on_behalf_of=on_behalf_of)
        )

    async def elaborate(
        self,
        *,
        entity_ref: str | None = None,
        sweep: bool | None = None,
        budget: int | None = None,
        dry_run: bool | None = None,
        on_behalf_of: str | None = None,
    ) -> m.ElaborateResponse:
        """Propose and emit relations between known entities."""
        body = request_body(
            m.ElaborateRequest, entity_ref=entity_ref, sweep=sweep, budget=budget, dry_run=dry_run
        )
        return cast(
            m.ElaborateResponse, await self._call("elaborate", body=body, on_behalf_of=on_behalf_of)
        )

    async def query_context(
        self,
        query: str,
        *,
        k: int | None = None,
        labels: Sequence[str] | None = None,
        lens: ScopeSelector | None = None,
        scope_view: str | None = None,
        on_behalf_of: str | None = None,
    ) -> m.ContextQueryResponse:
        """Compose a context string for a prompt from the memories matching ``query``."""
        body = request_body(
            m.ContextQueryRequest, query=query, k=k, labels=labels, lens=lens, scope_view=scope_view
        )
        return cast(
            m.ContextQueryResponse,
            await self._call("query_context", body=body, on_behalf_of=on_behalf_of),
        )

    async def fsck(
        self,
        *,
        check: str | None = None,
        duplicate_threshold: float | None = None,
        max_results: int | None = None,
        on_behalf_of: str | None = None,
    ) -> m.FsckReport:
        """Check the memory store for duplicates, contradictions, injection and unscoped rows."""
        body = request_body(
            m.FsckRequest,
            check=check,
            duplicate_threshold=duplicate_threshold,
            max_results=max_results,
        )
        return cast(m.FsckReport, await self._call("fsck", body=body, on_behalf_of=on_behalf_of))

    async def inspect(
        self,
        ref: str,
        *,
        as_of: str | None = None,
        at_instant: str | None = None,
        valid_from: str | None = None,
        valid_until: str | None = None,
        on_behalf_of: str | None = None,
    ) -> m.InspectResponse:
        """Look up one entity, attribute, relation or trace by reference."""
        query = {
            "ref": ref,
            "asOf": as_of,
            "atInstant": at_instant,
            "validFrom": valid_from,
            "validUntil": valid_until,
        }
        return cast(
            m.InspectResponse, await self._call("inspect", query=query, on_behalf_of=on_behalf_of)
        )

    async def state(self, *, on_behalf_of: str | None = None) -> m.StateResponse:
        """What the context knows: identity, knowledge, context, instructions and unknowns."""
        return cast(m.StateResponse, await self._call("state", on_behalf_of=on_behalf_of))

    async def whoami(self, *, on_behalf_of: str | None = None) -> m.Whoami:
        """The calling principal and its grants."""
        return cast(m.Whoami, await self._call("whoami", on_behalf_of=on_behalf_of))

    async def profile(self, *, on_behalf_of: str | None = None) -> m.ProfileResponse:
        """The user profile distilled from memory: static and dynamic facts, preferences."""
        return cast(m.ProfileResponse, await self._call("profile", on_behalf_of=on_behalf_of))

    async def audit(
        self,
        *,
        principal: str | None = None,
        key: str | None = None,
        kind: m.TraceKind | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: int | None = None,
        on_behalf_of: str | None = None,
    ) -> m.AuditResponse:
        """The audit log of calls made in this context, newest first."""
        query = {
            "principal": principal,
            "key": key,
            "kind": kind,
            "since": since,
            "until": until,
            "limit": limit,
        }
        return cast(
            m.AuditResponse, await self._call("audit", query=query, on_behalf_of=on_behalf_of)
        )

    async def health(self, *, on_behalf_of: str | None = None) -> None:
        """Check that the server is up; raises if it is not."""
        await self._call("health", on_behalf_of=on_behalf_of)

    # -- The engine ----------------------------------------------------------------------------

    async def _call(
        self,
        name: str,
        *,
        path: Mapping[str, str] | None = None,
        query: Mapping[str, object] | None = None,
        body: m.RequestModel | None = None,
        upload: tuple[str, FileContent, str | None] | None = None,
        idempotency_key: str | None = None,
        on_behalf_of: str | None = None,
    ) -> Any:
        call = build_call(
            self._http,
            self._options,
            CATALOGUE[name],
            path=path,
            query=query,
            body=body,
            upload=upload,
            idempotency_key=idempotency_key,
            on_behalf_of=on_behalf_of,
        )
        response = await self._send(call)
        return decode_result(call, response)

    async def _send(self, call: Call, *, stream: bool = False) -> httpx.Response:
        """Send ``call``, retrying as its retry class allows; return the first 2xx answer."""
        retries = retries_allowed(call.retry_class, self._options.max_retries)
        retry = 0
        while True:
            try:
                response = await self._http.send(call.request, stream=stream)
                if response.is_success:
                    return response
                await response.aread()
                await response.aclose()
            except httpx.RequestError as exc:
                if retry >= retries:
                    raise connection_error(call, exc) from exc
            else:
                if retry >= retries or not is_retryable_status(response.status_code):
                    raise api_error(call, response)
            retry += 1
            await async_sleep(backoff(retry))


class AsyncChatStream:
    """The chunks of a streamed chat answer: ``async for chunk in stream``; close it when done.

    The request is sent once and never replayed. A stream that stops before its ``[DONE]``
    frame, or sends a frame that is not a chat chunk, raises ``SpectronStreamError``.
    """

    def __init__(self, call: Call, response: httpx.Response) -> None:
        self._call = call
        self._response = response
        self.completed = False
        """True once the ``[DONE]`` frame has arrived."""

    def __aiter__(self) -> AsyncIterator[ChatChunk]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[ChatChunk]:
        operation = self._call.operation
        try:
            async for event in EventSource(self._response).aiter_sse():
                if event.data == DONE:
                    self.completed = True
                    return
                yield parse_chunk(operation, event.data)
        except httpx.RequestError as exc:
            raise SpectronStreamError(
                f"{operation.name}: the stream was cut before [DONE]: {exc or type(exc).__name__}"
            ) from exc
        finally:
            await self._response.aclose()
        raise SpectronStreamError(f"{operation.name}: the stream ended before its [DONE] frame")

    async def aclose(self) -> None:
        """Stop reading and release the connection."""
        await self._response.aclose()

    async def __aenter__(self) -> AsyncChatStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
