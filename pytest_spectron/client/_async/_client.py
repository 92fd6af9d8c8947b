"""The asynchronous Spectron client and its memory verbs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, overload

from pytest_spectron.client import _catalogue as ops
from pytest_spectron.client import models as m
from pytest_spectron.client._async._base_client import AsyncBaseClient
from pytest_spectron.client._async._stream import AsyncChatStream
from pytest_spectron.client._scopes import ScopeSelector
from pytest_spectron.client._wire import request_body

__all__ = ["AsyncSpectron"]


class AsyncSpectron(AsyncBaseClient):
    """Asynchronous client for one Spectron context: ``async with AsyncSpectron(…) as client``.

    Follows Spectron's documented retry policy: reads and ``remember`` / ``remember_many`` are
    retried on connection errors, timeouts and 5xx (up to ``max_retries`` times, waiting 0.25 s,
    0.5 s, then 1.0 s); every other call is sent once; no 4xx is retried.

    Every method takes ``on_behalf_of``, the principal to act for, sent as the
    ``X-Spectron-On-Behalf-Of`` header; its arguments are validated before anything is sent.
    """

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
        """Store a fact, as free text or triples; retried safely under one Idempotency-Key.

        :param text: the fact as free text, read as ``infer`` says.
        :param triples: the fact as subject, predicate, object triples (with ``infer="triples"``).
        :param session_id: an existing session to record the turn in.
        :param role: who said it: ``user`` (the default), ``assistant``, ``system`` or ``tool``.
        :param labels: ``key=value`` labels stamped on the stored rows.
        :param scopes: the scopes written to: a path, a list of paths, or a list of clauses.
        :param memory_category: ``identity``, ``knowledge`` or ``context``, instead of the one
            inferred.
        :param observed_at: when the fact was known (RFC 3339), to backfill history.
        :param infer: how ``text`` is read: ``full`` (the default, extracted by the server's
            model), ``triples``, ``preview`` (a dry run) or ``none`` (stored as is).
        :param idempotency_key: the key every attempt carries; derived from the request as the
            official SDKs derive it unless given.
        :param on_behalf_of: the principal to act for.
        :return: what was stored.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes, after any retries.
        """
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
        return await self._call(
            ops.REMEMBER, body=body, idempotency_key=idempotency_key, on_behalf_of=on_behalf_of
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
        """Store a conversation, one turn per message; retried safely under one Idempotency-Key.

        :param messages: the messages, each a ``BatchMessage`` or a dict with ``role`` and
            ``content`` (and ``ts``, its time).
        :param session_id: an existing session to record the turns in.
        :param labels: ``key=value`` labels recorded with the batch.
        :param scopes: the scopes written to: a path, a list of paths, or a list of clauses.
        :param extract: ``per_message`` or ``whole_conversation``: what facts are drawn from.
        :param infer: how the messages are read, as in ``remember``.
        :param idempotency_key: the key every attempt carries; derived from the request as the
            official SDKs derive it unless given.
        :param on_behalf_of: the principal to act for.
        :return: what was stored.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes, after any retries.
        """
        body = request_body(
            m.FactsBatchRequest,
            messages=messages,
            session_id=session_id,
            labels=labels,
            scopes=scopes,
            extract=extract,
            infer=infer,
        )
        return await self._call(
            ops.REMEMBER_MANY,
            body=body,
            idempotency_key=idempotency_key,
            on_behalf_of=on_behalf_of,
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
        """Find the memories that best match ``query`` (a POST read: sent once).

        The time arguments are RFC 3339 instants; each left out means "now" or "unbounded".

        :param query: what to look for, in plain words.
        :param k: the most hits to return (the server's default 10, at most 50).
        :param labels: ``key=value`` labels every hit must carry.
        :param lens: narrows what is read: a path, a list of paths, or a list of clauses.
        :param scope_view: how wide to read: ``strict`` (the default), ``merged`` or
            ``crossTeam``.
        :param session_id: the session the question belongs to.
        :param mode: ``hybrid``, ``vector``, ``bm25`` or ``graph`` retrieval.
        :param include: which families of result to return.
        :param include_duplicates: also return chunks flagged as near-duplicates of older ones.
        :param location: a geographic filter on entities and memory chunks.
        :param as_of: read memory as it was known at this time.
        :param at_instant: read memory as the system held it at this time.
        :param valid_from: only facts valid (in the world) from this time on.
        :param valid_until: only facts valid (in the world) until this time.
        :param source: a free-form label of where the question comes from.
        :param on_behalf_of: the principal to act for.
        :return: the hits, best first, with how the query was answered.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes.
        """
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
        return await self._call(ops.RECALL, body=body, on_behalf_of=on_behalf_of)

    async def forget(
        self,
        query: str,
        *,
        dry_run: bool | None = None,
        purge: bool | None = None,
        on_behalf_of: str | None = None,
    ) -> m.ForgetResponse:
        """Delete the memories matching ``query`` (sent once).

        :param query: what to forget, matched by similarity.
        :param dry_run: only count what would be deleted; nothing is written.
        :param purge: erase for good (the right to be forgotten), not soft-delete.
        :param on_behalf_of: the principal to act for.
        :return: how many memories were (or would be) deleted.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes.
        """
        body = request_body(m.ForgetRequest, query=query, dry_run=dry_run, purge=purge)
        return await self._call(ops.FORGET, body=body, on_behalf_of=on_behalf_of)

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
        """Answer ``message`` from memory, whole or streamed in chunks (sent once, never replayed).

        :param message: the user's message; it is stored, as is the answer.
        :param stream: answer with an ``AsyncChatStream`` of chunks instead of the whole reply.
        :param session_id: the session to continue.
        :param labels: ``key=value`` labels stamped on the rows the chat stores.
        :param scopes: the conversation's scopes: a path, a list of paths, or a list of clauses.
        :param model: the model to answer with, instead of the server's.
        :param bypass_cache: skip the server's response cache for a fresh answer.
        :param on_behalf_of: the principal to act for.
        :return: the reply; with ``stream=True``, the stream to read with ``async for`` and
            close (``async with`` does).
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes.
        """
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
            return await self._call(ops.CHAT, body=body, on_behalf_of=on_behalf_of)
        call = self._calls.build(ops.CHAT, body=body, on_behalf_of=on_behalf_of, stream=True)
        return AsyncChatStream(call, await self._send(call, stream=True))

    async def consolidate(
        self,
        *,
        dry_run: bool | None = None,
        fact_limit: int | None = None,
        observation_limit: int | None = None,
        on_behalf_of: str | None = None,
    ) -> m.ConsolidateResponse:
        """Pool recent facts and consolidate them into observations (sent once).

        :param dry_run: report what would change without writing.
        :param fact_limit: the most recent facts to pool.
        :param observation_limit: the most observations to write.
        :param on_behalf_of: the principal to act for.
        :return: what was (or would be) consolidated.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes.
        """
        body = request_body(
            m.ConsolidateRequest,
            dry_run=dry_run,
            fact_limit=fact_limit,
            observation_limit=observation_limit,
        )
        return await self._call(ops.CONSOLIDATE, body=body, on_behalf_of=on_behalf_of)

    async def reflect(
        self, query: str, *, persist: bool | None = None, on_behalf_of: str | None = None
    ) -> m.ReflectResponse:
        """Reason over memory about ``query`` with the server's model (sent once).

        :param query: the question to reflect on.
        :param persist: store what the reflection concludes.
        :param on_behalf_of: the principal to act for.
        :return: the reflection.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes.
        """
        body = request_body(m.ReflectRequest, query=query, persist=persist)
        return await self._call(ops.REFLECT, body=body, on_behalf_of=on_behalf_of)

    async def elaborate(
        self,
        *,
        entity_ref: str | None = None,
        sweep: bool | None = None,
        budget: int | None = None,
        dry_run: bool | None = None,
        on_behalf_of: str | None = None,
    ) -> m.ElaborateResponse:
        """Propose and store relations for one entity, or sweep the poorly linked ones (sent once).

        :param entity_ref: the entity to elaborate, such as ``person/alice``.
        :param sweep: elaborate every entity with few relations instead of one.
        :param budget: the most relations to propose.
        :param dry_run: propose without storing.
        :param on_behalf_of: the principal to act for.
        :return: the relations proposed and stored.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes.
        """
        body = request_body(
            m.ElaborateRequest, entity_ref=entity_ref, sweep=sweep, budget=budget, dry_run=dry_run
        )
        return await self._call(ops.ELABORATE, body=body, on_behalf_of=on_behalf_of)

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
        """Compose context for a prompt from the memories matching ``query`` (sent once).

        :param query: what the prompt is about.
        :param k: the most memories to draw on (the server's default 10, at most 50).
        :param labels: ``key=value`` labels every memory drawn on must carry.
        :param lens: narrows what is read: a path, a list of paths, or a list of clauses.
        :param scope_view: how wide to read: ``strict`` (the default), ``merged`` or
            ``crossTeam``.
        :param on_behalf_of: the principal to act for.
        :return: the context text, ready to put in a prompt.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes.
        """
        body = request_body(
            m.ContextQueryRequest, query=query, k=k, labels=labels, lens=lens, scope_view=scope_view
        )
        return await self._call(ops.QUERY_CONTEXT, body=body, on_behalf_of=on_behalf_of)

    async def fsck(
        self,
        *,
        check: str | None = None,
        duplicate_threshold: float | None = None,
        max_results: int | None = None,
        on_behalf_of: str | None = None,
    ) -> m.FsckReport:
        """Check the memory store for duplicates, contradictions, injection and unscoped rows.

        Sent once.

        :param check: run only this check instead of all of them.
        :param duplicate_threshold: the similarity from which two rows are duplicates.
        :param max_results: the most findings to report.
        :param on_behalf_of: the principal to act for.
        :return: the findings.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes.
        """
        return await self.lifecycle.fsck(
            check=check,
            duplicate_threshold=duplicate_threshold,
            max_results=max_results,
            on_behalf_of=on_behalf_of,
        )

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
        """Look up one entity, attribute, relation, passage or trace by reference.

        The time arguments are RFC 3339 instants, as in ``recall``.

        :param ref: what to look up, such as ``entity:person/alice`` or
            ``attribute:person/alice/drink``.
        :param as_of: read it as it was known at this time.
        :param at_instant: read it as it was valid at this time.
        :param valid_from: only rows valid from this time on.
        :param valid_until: only rows valid until this time.
        :param on_behalf_of: the principal to act for.
        :return: the view of what ``ref`` names; its ``kind`` says which.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes, after any retries.
        """
        query = {
            "ref": ref,
            "asOf": as_of,
            "atInstant": at_instant,
            "validFrom": valid_from,
            "validUntil": valid_until,
        }
        return await self._call(ops.INSPECT, query=query, on_behalf_of=on_behalf_of)

    async def state(self, *, on_behalf_of: str | None = None) -> m.StateResponse:
        """What the context knows: identity, knowledge, context, instructions and unknowns.

        :param on_behalf_of: the principal to act for.
        :return: the memory state, grouped by category.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes, after any retries.
        """
        return await self._call(ops.STATE, on_behalf_of=on_behalf_of)

    async def whoami(self, *, on_behalf_of: str | None = None) -> m.Whoami:
        """The calling principal, its key and their grants.

        :param on_behalf_of: the principal to act for.
        :return: the caller's identity and effective grants.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes, after any retries.
        """
        return await self._call(ops.WHOAMI, on_behalf_of=on_behalf_of)

    async def profile(self, *, on_behalf_of: str | None = None) -> m.ProfileResponse:
        """The user profile distilled from memory, for a system prompt.

        :param on_behalf_of: the principal to act for.
        :return: the static and dynamic facts and the preferences.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes, after any retries.
        """
        return await self._call(ops.PROFILE, on_behalf_of=on_behalf_of)

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
        """The audit log of calls made in this context, newest first.

        :param principal: only calls made with this API key id.
        :param key: the same as ``principal``, by its other name.
        :param kind: only traces of this kind: ``decision``, ``retrieval`` or ``response``.
        :param since: only calls made at or after this RFC 3339 time.
        :param until: only calls made at or before this RFC 3339 time.
        :param limit: the most rows to return (the server's default 50, at most 500).
        :param on_behalf_of: the principal to act for.
        :return: the matching rows.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes, after any retries.
        """
        query = {
            "principal": principal,
            "key": key,
            "kind": kind,
            "since": since,
            "until": until,
            "limit": limit,
        }
        return await self._call(ops.AUDIT, query=query, on_behalf_of=on_behalf_of)

    async def health(self, *, on_behalf_of: str | None = None) -> None:
        """Check that the server is up.

        :param on_behalf_of: the principal to act for.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes, after any retries.
        """
        await self._call(ops.HEALTH, on_behalf_of=on_behalf_of)
