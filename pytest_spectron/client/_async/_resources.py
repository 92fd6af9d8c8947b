"""The asynchronous client's namespaces: ``client.documents``, ``client.sessions``…"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from pytest_spectron.client import models as m
from pytest_spectron.client._scopes import ScopeSelector
from pytest_spectron.client._wire import UploadSource, request_body, upload_metadata, upload_part

if TYPE_CHECKING:
    from pytest_spectron.client._async._client import AsyncSpectron

__all__ = [
    "AsyncDocumentKeywords",
    "AsyncDocuments",
    "AsyncEntities",
    "AsyncKeys",
    "AsyncLifecycle",
    "AsyncPrincipals",
    "AsyncScopes",
    "AsyncSessions",
    "AsyncTraces",
]


class _AsyncNamespace:
    def __init__(self, client: AsyncSpectron) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._client!r}>"


class AsyncDocuments(_AsyncNamespace):
    """Documents: upload, list, get, reprocess, delete, raw bytes, chunks, keywords, query."""

    def __init__(self, client: AsyncSpectron) -> None:
        super().__init__(client)
        self.keywords = AsyncDocumentKeywords(client)
        """The keywords across all documents: ``keywords(…)`` lists them, as ``keywords.list(…)``
        does; ``keywords.get``, ``.search`` and ``.for_document`` are the official SDK's names.
        """

    async def upload(
        self,
        file: UploadSource,
        *,
        filename: str | None = None,
        title: str | None = None,
        mime_type: str | None = None,
        source: str | None = None,
        labels: Sequence[str] | None = None,
        scopes: ScopeSelector | None = None,
        observed_at: str | None = None,
        on_behalf_of: str | None = None,
    ) -> m.UploadResponse:
        """Upload a document from a path, bytes or a binary file object (sent once)."""
        upload = upload_part(file, filename=filename, mime_type=mime_type)
        body = upload_metadata(upload, title, source, labels, scopes, observed_at)
        return cast(
            m.UploadResponse,
            await self._client._call(
                "documents.upload", body=body, upload=upload, on_behalf_of=on_behalf_of
            ),
        )

    async def list(
        self,
        *,
        status: m.DocumentStatus | None = None,
        mime_type: str | None = None,
        page: int | None = None,
        page_size: int | None = None,
        on_behalf_of: str | None = None,
    ) -> m.DocumentPage:
        """One page of the context's documents, optionally filtered by status or MIME type."""
        query = {"status": status, "mimeType": mime_type, "page": page, "pageSize": page_size}
        return cast(
            m.DocumentPage,
            await self._client._call("documents.list", query=query, on_behalf_of=on_behalf_of),
        )

    async def get(self, document_id: str, *, on_behalf_of: str | None = None) -> m.Document:
        """One document's metadata and processing status."""
        return cast(
            m.Document,
            await self._client._call(
                "documents.get", path={"id": document_id}, on_behalf_of=on_behalf_of
            ),
        )

    async def reprocess(
        self,
        document_id: str,
        file: UploadSource,
        *,
        filename: str | None = None,
        title: str | None = None,
        mime_type: str | None = None,
        source: str | None = None,
        labels: Sequence[str] | None = None,
        scopes: ScopeSelector | None = None,
        observed_at: str | None = None,
        on_behalf_of: str | None = None,
    ) -> m.UploadResponse:
        """Replace a document's content and process it again (sent once)."""
        upload = upload_part(file, filename=filename, mime_type=mime_type)
        body = upload_metadata(upload, title, source, labels, scopes, observed_at)
        return cast(
            m.UploadResponse,
            await self._client._call(
                "documents.reprocess",
                path={"id": document_id},
                body=body,
                upload=upload,
                on_behalf_of=on_behalf_of,
            ),
        )

    async def delete(self, document_id: str, *, on_behalf_of: str | None = None) -> None:
        """Delete a document with its chunks."""
        await self._client._call(
            "documents.delete", path={"id": document_id}, on_behalf_of=on_behalf_of
        )

    async def fetch_raw(self, document_id: str, *, on_behalf_of: str | None = None) -> bytes:
        """The document's original bytes, exactly as uploaded."""
        return cast(
            bytes,
            await self._client._call(
                "documents.fetch_raw", path={"id": document_id}, on_behalf_of=on_behalf_of
            ),
        )

    async def chunks(
        self,
        document_id: str,
        *,
        page: int | None = None,
        page_size: int | None = None,
        on_behalf_of: str | None = None,
    ) -> m.ChunkPage:
        """One page of the chunks a document was split into."""
        return cast(
            m.ChunkPage,
            await self._client._call(
                "documents.chunks",
                path={"id": document_id},
                query={"page": page, "pageSize": page_size},
                on_behalf_of=on_behalf_of,
            ),
        )

    async def document_keywords(
        self, document_id: str, *, on_behalf_of: str | None = None
    ) -> m.DocumentKeywordsResponse:
        """The keywords extracted from one document."""
        return cast(
            m.DocumentKeywordsResponse,
            await self._client._call(
                "documents.document_keywords", path={"id": document_id}, on_behalf_of=on_behalf_of
            ),
        )

    async def query(
        self,
        query: str,
        *,
        k: int | None = None,
        mode: m.QueryMode | None = None,
        threshold: float | None = None,
        filter: m.QueryFilter | None = None,
        location: m.DocGeoFilter | None = None,
        expand_graph: bool | None = None,
        graph_depth: int | None = None,
        graph_alpha: float | None = None,
        graph_edges: Sequence[m.GraphEdgeKind] | None = None,
        rrf_k: float | None = None,
        vector_weight: float | None = None,
        decompose_query: bool | None = None,
        use_hyde: bool | None = None,
        use_reranker: bool | None = None,
        on_behalf_of: str | None = None,
    ) -> m.QueryResponse:
        """Search document chunks for ``query`` (a POST read: sent once)."""
        body = request_body(
            m.QueryRequest,
            query=query,
            k=k,
            mode=mode,
            threshold=threshold,
            filter=filter,
            location=location,
            expand_graph=expand_graph,
            graph_depth=graph_depth,
            graph_alpha=graph_alpha,
            graph_edges=graph_edges,
            rrf_k=rrf_k,
            vector_weight=vector_weight,
            decompose_query=decompose_query,
            use_hyde=use_hyde,
            use_reranker=use_reranker,
        )
        return cast(
            m.QueryResponse,
            await self._client._call("documents.query", body=body, on_behalf_of=on_behalf_of),
        )

    async def recompute_links(self, *, on_behalf_of: str | None = None) -> m.RecomputeLinksResponse:
        """Recompute the links between documents and the memory graph."""
        return cast(
            m.RecomputeLinksResponse,
            await self._client._call("documents.recompute_links", on_behalf_of=on_behalf_of),
        )

    async def keyword(self, normalised: str, *, on_behalf_of: str | None = None) -> m.KeywordDetail:
        """One keyword, by its normalised form, with the documents that carry it."""
        return cast(
            m.KeywordDetail,
            await self._client._call(
                "documents.keyword", path={"normalised": normalised}, on_behalf_of=on_behalf_of
            ),
        )

    async def search_keywords(
        self,
        query: str,
        *,
        k: int | None = None,
        threshold: float | None = None,
        on_behalf_of: str | None = None,
    ) -> m.KeywordSearchResponse:
        """Keywords similar to ``query`` (a POST read: sent once)."""
        body = request_body(m.KeywordSearchRequest, query=query, k=k, threshold=threshold)
        return cast(
            m.KeywordSearchResponse,
            await self._client._call(
                "documents.search_keywords", body=body, on_behalf_of=on_behalf_of
            ),
        )


class AsyncSessions(_AsyncNamespace):
    """Conversation sessions and their turns."""

    async def create(
        self,
        *,
        metadata: Mapping[str, Any] | None = None,
        scopes: ScopeSelector | None = None,
        on_behalf_of: str | None = None,
    ) -> m.SessionResponse:
        """Open a new session."""
        body = request_body(m.CreateSessionRequest, metadata=metadata, scopes=scopes)
        return cast(
            m.SessionResponse,
            await self._client._call("sessions.create", body=body, on_behalf_of=on_behalf_of),
        )

    async def delete(self, session_id: str, *, on_behalf_of: str | None = None) -> None:
        """Delete a session and its turns."""
        await self._client._call(
            "sessions.delete", path={"session_id": session_id}, on_behalf_of=on_behalf_of
        )

    async def turns(
        self,
        session_id: str,
        *,
        limit: int | None = None,
        offset: int | None = None,
        on_behalf_of: str | None = None,
    ) -> m.TurnListResponse:
        """The turns recorded in a session, oldest first."""
        return cast(
            m.TurnListResponse,
            await self._client._call(
                "sessions.turns",
                path={"session_id": session_id},
                query={"limit": limit, "offset": offset},
                on_behalf_of=on_behalf_of,
            ),
        )

    async def context(
        self, session_id: str, query: str, *, on_behalf_of: str | None = None
    ) -> m.SessionContextResponse:
        """A context string for ``query`` drawn from one session (a POST read: sent once)."""
        body = request_body(m.SessionContextRequest, query=query)
        return cast(
            m.SessionContextResponse,
            await self._client._call(
                "sessions.context",
                path={"session_id": session_id},
                body=body,
                on_behalf_of=on_behalf_of,
            ),
        )


class AsyncEntities(_AsyncNamespace):
    """Entities extracted from memory, with their attributes and history."""

    async def list(
        self,
        *,
        type: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
        on_behalf_of: str | None = None,
    ) -> m.EntityListResponse:
        """The context's entities, optionally of one type."""
        return cast(
            m.EntityListResponse,
            await self._client._call(
                "entities.list",
                query={"type": type, "limit": limit, "offset": offset},
                on_behalf_of=on_behalf_of,
            ),
        )

    async def get(
        self, entity_type: str, entity_name: str, *, on_behalf_of: str | None = None
    ) -> m.EntityResponse:
        """One entity with its attributes and relations."""
        return cast(
            m.EntityResponse,
            await self._client._call(
                "entities.get",
                path={"entity_type": entity_type, "entity_name": entity_name},
                on_behalf_of=on_behalf_of,
            ),
        )

    async def delete(
        self, entity_type: str, entity_name: str, *, on_behalf_of: str | None = None
    ) -> None:
        """Delete one entity."""
        await self._client._call(
            "entities.delete",
            path={"entity_type": entity_type, "entity_name": entity_name},
            on_behalf_of=on_behalf_of,
        )

    async def history(
        self, entity_type: str, entity_name: str, key: str, *, on_behalf_of: str | None = None
    ) -> m.EntityHistoryResponse:
        """Every value one attribute of an entity has had, newest first."""
        return cast(
            m.EntityHistoryResponse,
            await self._client._call(
                "entities.history",
                path={"entity_type": entity_type, "entity_name": entity_name, "key": key},
                on_behalf_of=on_behalf_of,
            ),
        )


class AsyncScopes(_AsyncNamespace):
    """The scope tree: register, list, delete and forget scopes."""

    async def list(self, *, on_behalf_of: str | None = None) -> list[m.ScopeNode]:
        """Every registered scope."""
        return cast(
            list[m.ScopeNode], await self._client._call("scopes.list", on_behalf_of=on_behalf_of)
        )

    async def register(
        self,
        path: str,
        *,
        display_name: str | None = None,
        description: str | None = None,
        on_behalf_of: str | None = None,
    ) -> m.ScopeNode:
        """Register a scope path such as ``org/acme/``."""
        body = request_body(
            m.RegisterScopeRequest, path=path, display_name=display_name, description=description
        )
        return cast(
            m.ScopeNode,
            await self._client._call("scopes.register", body=body, on_behalf_of=on_behalf_of),
        )

    async def delete(self, path: str, *, on_behalf_of: str | None = None) -> None:
        """Delete (tombstone) a scope."""
        await self._client._call("scopes.delete", query={"path": path}, on_behalf_of=on_behalf_of)

    async def forget(
        self, path: str | None = None, *, on_behalf_of: str | None = None
    ) -> m.ForgetScopeResponse:
        """Forget every memory stored under a scope."""
        body = request_body(m.ScopeForgetRequest, path=path)
        return cast(
            m.ForgetScopeResponse,
            await self._client._call("scopes.forget", body=body, on_behalf_of=on_behalf_of),
        )

    async def grant(
        self,
        *,
        subject: str | None = None,
        grants: Mapping[str, Any] | None = None,
        on_behalf_of: str | None = None,
    ) -> None:
        """Grant on a scope; Spectron does not implement it yet and answers 501."""
        body = request_body(m.ScopeGrantRequest, subject=subject, grants=grants)
        await self._client._call("scopes.grant", body=body, on_behalf_of=on_behalf_of)


class AsyncPrincipals(_AsyncNamespace):
    """Principals and their grants."""

    async def list(self, *, on_behalf_of: str | None = None) -> list[m.Principal]:
        """Every principal of the context."""
        return cast(
            list[m.Principal],
            await self._client._call("principals.list", on_behalf_of=on_behalf_of),
        )

    async def get(self, principal_id: str, *, on_behalf_of: str | None = None) -> m.Principal:
        """One principal and its grants."""
        return cast(
            m.Principal,
            await self._client._call(
                "principals.get", path={"principal_id": principal_id}, on_behalf_of=on_behalf_of
            ),
        )

    async def effective(
        self,
        principal_id: str,
        path: str,
        *,
        as_of: str | None = None,
        on_behalf_of: str | None = None,
    ) -> m.EffectiveGrants:
        """The verbs a principal may use on a scope path, all grants combined."""
        return cast(
            m.EffectiveGrants,
            await self._client._call(
                "principals.effective",
                path={"principal_id": principal_id},
                query={"path": path, "asOf": as_of},
                on_behalf_of=on_behalf_of,
            ),
        )

    async def grant(
        self,
        principal_id: str,
        path: str,
        verbs: Sequence[str],
        *,
        on_behalf_of: str | None = None,
    ) -> m.Principal:
        """Grant ``verbs`` (such as ``memory:read``) on a scope pattern to a principal."""
        body = request_body(m.GrantRequest, path=path, verbs=verbs)
        return cast(
            m.Principal,
            await self._client._call(
                "principals.grant",
                path={"principal_id": principal_id},
                body=body,
                on_behalf_of=on_behalf_of,
            ),
        )

    async def revoke(
        self,
        principal_id: str,
        path: str,
        verbs: Sequence[str],
        *,
        on_behalf_of: str | None = None,
    ) -> m.Principal:
        """Revoke ``verbs`` on a scope pattern from a principal."""
        body = request_body(m.GrantRequest, path=path, verbs=verbs)
        return cast(
            m.Principal,
            await self._client._call(
                "principals.revoke",
                path={"principal_id": principal_id},
                body=body,
                on_behalf_of=on_behalf_of,
            ),
        )


class AsyncKeys(_AsyncNamespace):
    """The caller's own API keys: mint, list, rotate, delete."""

    async def list(self, *, on_behalf_of: str | None = None) -> list[m.KeyDetail]:
        """The caller's keys, without their secrets."""
        return cast(
            list[m.KeyDetail], await self._client._call("keys.list", on_behalf_of=on_behalf_of)
        )

    async def create(
        self,
        *,
        name: str | None = None,
        grants: Mapping[str, Sequence[str]] | None = None,
        ttl_seconds: int | None = None,
        on_behalf_of: str | None = None,
    ) -> m.MintedKey:
        """Mint a key; its secret is in the answer and is never shown again."""
        body = request_body(m.MintKeyBody, name=name, grants=grants)
        return cast(
            m.MintedKey,
            await self._client._call(
                "keys.create",
                body=body,
                query={"ttlSeconds": ttl_seconds},
                on_behalf_of=on_behalf_of,
            ),
        )

    async def delete(self, key_name: str, *, on_behalf_of: str | None = None) -> None:
        """Delete a key by name."""
        await self._client._call(
            "keys.delete", path={"key_name": key_name}, on_behalf_of=on_behalf_of
        )

    async def rotate(
        self, key_name: str, *, ttl_seconds: int | None = None, on_behalf_of: str | None = None
    ) -> m.MintedKey:
        """Replace a key's secret; the new secret is in the answer and never shown again."""
        return cast(
            m.MintedKey,
            await self._client._call(
                "keys.rotate",
                path={"key_name": key_name},
                query={"ttlSeconds": ttl_seconds},
                on_behalf_of=on_behalf_of,
            ),
        )


class AsyncTraces(_AsyncNamespace):
    """Retrieval and response traces, and their statistics."""

    async def list(
        self, *, limit: int | None = None, on_behalf_of: str | None = None
    ) -> m.TraceListResponse:
        """The most recent traces."""
        return cast(
            m.TraceListResponse,
            await self._client._call(
                "traces.list", query={"limit": limit}, on_behalf_of=on_behalf_of
            ),
        )

    async def get(self, trace_id: str, *, on_behalf_of: str | None = None) -> m.TraceRecord:
        """One trace, with its retrievals."""
        return cast(
            m.TraceRecord,
            await self._client._call(
                "traces.get", path={"trace_id": trace_id}, on_behalf_of=on_behalf_of
            ),
        )

    async def stats(self, *, on_behalf_of: str | None = None) -> m.TraceStatsResponse:
        """Aggregate statistics over recent traces."""
        return cast(
            m.TraceStatsResponse,
            await self._client._call("traces.stats", on_behalf_of=on_behalf_of),
        )


class AsyncLifecycle(_AsyncNamespace):
    """Importance decay and expiry, and the store check ``fsck``."""

    async def decay(self, *, on_behalf_of: str | None = None) -> m.LifecycleResponse:
        """Apply importance decay to the context's memories."""
        return cast(
            m.LifecycleResponse,
            await self._client._call("lifecycle.decay", on_behalf_of=on_behalf_of),
        )

    async def expire(self, *, on_behalf_of: str | None = None) -> m.LifecycleResponse:
        """Expire memories whose validity has ended."""
        return cast(
            m.LifecycleResponse,
            await self._client._call("lifecycle.expire", on_behalf_of=on_behalf_of),
        )

    async def fsck(
        self,
        *,
        check: str | None = None,
        duplicate_threshold: float | None = None,
        max_results: int | None = None,
        on_behalf_of: str | None = None,
    ) -> m.FsckReport:
        """``client.fsck``, where the official SDK has it."""
        return await self._client.fsck(
            check=check,
            duplicate_threshold=duplicate_threshold,
            max_results=max_results,
            on_behalf_of=on_behalf_of,
        )


class AsyncDocumentKeywords(_AsyncNamespace):
    """The keywords across all documents, under the official SDK's names (``documents.keywords``).

    Calling the namespace itself lists them: ``documents.keywords(q=…)`` is
    ``documents.keywords.list(q=…)``.
    """

    async def list(
        self,
        *,
        q: str | None = None,
        min_document_count: int | None = None,
        sort: str | None = None,
        page: int | None = None,
        page_size: int | None = None,
        on_behalf_of: str | None = None,
    ) -> m.KeywordPage:
        """One page of the keywords across all documents, optionally filtered by ``q``."""
        query = {
            "q": q,
            "minDocumentCount": min_document_count,
            "sort": sort,
            "page": page,
            "pageSize": page_size,
        }
        return cast(
            m.KeywordPage,
            await self._client._call("documents.keywords", query=query, on_behalf_of=on_behalf_of),
        )

    __call__ = list

    async def get(self, normalised: str, *, on_behalf_of: str | None = None) -> m.KeywordDetail:
        """``documents.keyword``: one keyword with the documents that carry it."""
        return await self._client.documents.keyword(normalised, on_behalf_of=on_behalf_of)

    async def search(
        self,
        query: str,
        *,
        k: int | None = None,
        threshold: float | None = None,
        on_behalf_of: str | None = None,
    ) -> m.KeywordSearchResponse:
        """``documents.search_keywords``: keywords similar to ``query`` (sent once)."""
        return await self._client.documents.search_keywords(
            query, k=k, threshold=threshold, on_behalf_of=on_behalf_of
        )

    async def for_document(
        self, document_id: str, *, on_behalf_of: str | None = None
    ) -> m.DocumentKeywordsResponse:
        """``documents.document_keywords``: the keywords extracted from one document."""
        return await self._client.documents.document_keywords(
            document_id, on_behalf_of=on_behalf_of
        )
