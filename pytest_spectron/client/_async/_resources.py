"""The asynchronous client's namespaces over memory: sessions, entities, traces, lifecycle."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_spectron.client import _catalogue as ops
from pytest_spectron.client import models as m
from pytest_spectron.client._async._namespace import AsyncNamespace
from pytest_spectron.client._scopes import ScopeSelector
from pytest_spectron.client._wire import request_body

__all__ = ["AsyncEntities", "AsyncLifecycle", "AsyncSessions", "AsyncTraces"]


class AsyncSessions(AsyncNamespace):
    """Conversation sessions and their turns."""

    async def create(
        self,
        *,
        metadata: Mapping[str, Any] | None = None,
        scopes: ScopeSelector | None = None,
        on_behalf_of: str | None = None,
    ) -> m.SessionResponse:
        """Open a new session.

        :param metadata: any JSON object to keep with the session.
        :param scopes: the session's scopes: a path, a list of paths, or a list of clauses.
        :param on_behalf_of: the principal to act for.
        :return: the new session, with its id.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes.
        """
        body = request_body(m.CreateSessionRequest, metadata=metadata, scopes=scopes)
        return await self._client._call(ops.SESSIONS_CREATE, body=body, on_behalf_of=on_behalf_of)

    async def delete(self, session_id: str, *, on_behalf_of: str | None = None) -> None:
        """Delete a session and its turns.

        :param session_id: the session's id.
        :param on_behalf_of: the principal to act for.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes.
        """
        await self._client._call(
            ops.SESSIONS_DELETE, path={"session_id": session_id}, on_behalf_of=on_behalf_of
        )

    async def turns(
        self,
        session_id: str,
        *,
        limit: int | None = None,
        offset: int | None = None,
        on_behalf_of: str | None = None,
    ) -> m.TurnListResponse:
        """The turns recorded in a session, oldest first.

        :param session_id: the session's id.
        :param limit: the most turns to return (the server's default 100, at most 500).
        :param offset: how many turns to skip, to page through them.
        :param on_behalf_of: the principal to act for.
        :return: the turns.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes, after any retries.
        """
        return await self._client._call(
            ops.SESSIONS_TURNS,
            path={"session_id": session_id},
            query={"limit": limit, "offset": offset},
            on_behalf_of=on_behalf_of,
        )

    async def context(
        self, session_id: str, query: str, *, on_behalf_of: str | None = None
    ) -> m.SessionContextResponse:
        """Context for a prompt about ``query``, drawn from one session (a POST read: sent once).

        :param session_id: the session's id.
        :param query: what the prompt is about.
        :param on_behalf_of: the principal to act for.
        :return: the context text, ready to put in a prompt.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes.
        """
        body = request_body(m.SessionContextRequest, query=query)
        return await self._client._call(
            ops.SESSIONS_CONTEXT,
            path={"session_id": session_id},
            body=body,
            on_behalf_of=on_behalf_of,
        )


class AsyncEntities(AsyncNamespace):
    """Entities extracted from memory, with their attributes and history.

    An entity is named by its type and its name, such as ``person`` and ``alice``.
    """

    async def list(
        self,
        *,
        type: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
        on_behalf_of: str | None = None,
    ) -> m.EntityListResponse:
        """The context's entities, by type then name.

        :param type: only entities of this type.
        :param limit: the most entities to return (all unless given, at most 500).
        :param offset: how many entities to skip, to page through them.
        :param on_behalf_of: the principal to act for.
        :return: the entities.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes, after any retries.
        """
        return await self._client._call(
            ops.ENTITIES_LIST,
            query={"type": type, "limit": limit, "offset": offset},
            on_behalf_of=on_behalf_of,
        )

    async def get(
        self, entity_type: str, entity_name: str, *, on_behalf_of: str | None = None
    ) -> m.EntityResponse:
        """One entity with its current attributes and relations.

        :param entity_type: the entity's type.
        :param entity_name: the entity's name.
        :param on_behalf_of: the principal to act for.
        :return: the entity.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes, after any retries.
        """
        return await self._client._call(
            ops.ENTITIES_GET,
            path={"entity_type": entity_type, "entity_name": entity_name},
            on_behalf_of=on_behalf_of,
        )

    async def delete(
        self, entity_type: str, entity_name: str, *, on_behalf_of: str | None = None
    ) -> None:
        """Soft-delete an entity with its attributes and relations.

        :param entity_type: the entity's type.
        :param entity_name: the entity's name.
        :param on_behalf_of: the principal to act for.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes.
        """
        await self._client._call(
            ops.ENTITIES_DELETE,
            path={"entity_type": entity_type, "entity_name": entity_name},
            on_behalf_of=on_behalf_of,
        )

    async def history(
        self, entity_type: str, entity_name: str, key: str, *, on_behalf_of: str | None = None
    ) -> m.EntityHistoryResponse:
        """Every value one attribute of an entity has had, newest first.

        :param entity_type: the entity's type.
        :param entity_name: the entity's name.
        :param key: the attribute's key.
        :param on_behalf_of: the principal to act for.
        :return: the attribute's values, each with when it held.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes, after any retries.
        """
        return await self._client._call(
            ops.ENTITIES_HISTORY,
            path={"entity_type": entity_type, "entity_name": entity_name, "key": key},
            on_behalf_of=on_behalf_of,
        )


class AsyncTraces(AsyncNamespace):
    """Retrieval and response traces, and their statistics."""

    async def list(
        self, *, limit: int | None = None, on_behalf_of: str | None = None
    ) -> m.TraceListResponse:
        """The most recent traces.

        :param limit: the most traces to return (the server's default 50, at most 500).
        :param on_behalf_of: the principal to act for.
        :return: the traces, newest first.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes, after any retries.
        """
        return await self._client._call(
            ops.TRACES_LIST, query={"limit": limit}, on_behalf_of=on_behalf_of
        )

    async def get(self, trace_id: str, *, on_behalf_of: str | None = None) -> m.TraceRecord:
        """One trace, with the response trace that owns it and the retrievals that fed it.

        :param trace_id: the trace's id, such as an answer's ``trace_id``.
        :param on_behalf_of: the principal to act for.
        :return: the trace.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes, after any retries.
        """
        return await self._client._call(
            ops.TRACES_GET, path={"trace_id": trace_id}, on_behalf_of=on_behalf_of
        )

    async def stats(self, *, on_behalf_of: str | None = None) -> m.TraceStatsResponse:
        """Aggregate statistics over recent traces.

        :param on_behalf_of: the principal to act for.
        :return: the statistics.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes, after any retries.
        """
        return await self._client._call(ops.TRACES_STATS, on_behalf_of=on_behalf_of)


class AsyncLifecycle(AsyncNamespace):
    """Importance decay and expiry, and the store check ``fsck``."""

    async def decay(self, *, on_behalf_of: str | None = None) -> m.LifecycleResponse:
        """Apply importance decay to every memory of the context.

        :param on_behalf_of: the principal to act for.
        :return: how many memories changed.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes.
        """
        return await self._client._call(ops.LIFECYCLE_DECAY, on_behalf_of=on_behalf_of)

    async def expire(self, *, on_behalf_of: str | None = None) -> m.LifecycleResponse:
        """Expire the ``context``-category memories whose time is up.

        :param on_behalf_of: the principal to act for.
        :return: how many memories expired.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes.
        """
        return await self._client._call(ops.LIFECYCLE_EXPIRE, on_behalf_of=on_behalf_of)

    async def fsck(
        self,
        *,
        check: str | None = None,
        duplicate_threshold: float | None = None,
        max_results: int | None = None,
        on_behalf_of: str | None = None,
    ) -> m.FsckReport:
        """Check the memory store for duplicates, contradictions, injection and unscoped rows.

        ``client.fsck`` is the same call. Sent once.

        :param check: run only this check instead of all of them.
        :param duplicate_threshold: the similarity from which two rows are duplicates.
        :param max_results: the most findings to report.
        :param on_behalf_of: the principal to act for.
        :return: the findings.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes.
        """
        body = request_body(
            m.FsckRequest,
            check=check,
            duplicate_threshold=duplicate_threshold,
            max_results=max_results,
        )
        return await self._client._call(ops.FSCK, body=body, on_behalf_of=on_behalf_of)
