"""The asynchronous client's ``documents`` namespace, and its ``documents.keywords``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pytest_spectron.client import _catalogue as ops
from pytest_spectron.client import models as m
from pytest_spectron.client._async._namespace import AsyncNamespace
from pytest_spectron.client._scopes import ScopeSelector
from pytest_spectron.client._wire import UploadSource, request_body, upload_metadata, upload_part

if TYPE_CHECKING:
    from pytest_spectron.client._async._base_client import AsyncBaseClient

__all__ = ["AsyncDocumentKeywords", "AsyncDocuments"]


class AsyncDocuments(AsyncNamespace):
    """Documents: upload, list, get, reprocess, delete, raw bytes, chunks, keywords, query."""

    def __init__(self, client: AsyncBaseClient) -> None:
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
        """Upload a document and start processing it (sent once).

        :param file: the content: a path to read, the bytes themselves, or a binary file object.
        :param filename: the name sent with it; the path's or the file object's name unless
            given, else ``upload``.
        :param title: the document's title.
        :param mime_type: its MIME type; guessed from ``filename`` unless given.
        :param source: a free-form label of where it comes from.
        :param labels: ``key=value`` labels stamped on it and inherited by its chunks.
        :param scopes: its scopes: a path, a list of paths, or a list of clauses.
        :param observed_at: when its content was known (RFC 3339), to backfill history.
        :param on_behalf_of: the principal to act for.
        :return: the new document's id and processing status.
        :raises OSError: if ``file`` is a path that cannot be read.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes.
        """
        upload = upload_part(file, filename=filename, mime_type=mime_type)
        body = upload_metadata(upload, title, source, labels, scopes, observed_at)
        return await self._client._call(
            ops.DOCUMENTS_UPLOAD, body=body, upload=upload, on_behalf_of=on_behalf_of
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
        """One page of the context's documents.

        :param status: only documents in this processing status.
        :param mime_type: only documents of this MIME type.
        :param page: the page number, from 0.
        :param page_size: documents per page, at most 100.
        :param on_behalf_of: the principal to act for.
        :return: the page, with the total count.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes, after any retries.
        """
        query = {"status": status, "mimeType": mime_type, "page": page, "pageSize": page_size}
        return await self._client._call(ops.DOCUMENTS_LIST, query=query, on_behalf_of=on_behalf_of)

    async def get(self, document_id: str, *, on_behalf_of: str | None = None) -> m.Document:
        """One document's metadata and processing status.

        :param document_id: the document's id.
        :param on_behalf_of: the principal to act for.
        :return: the document.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes, after any retries.
        """
        return await self._client._call(
            ops.DOCUMENTS_GET, path={"id": document_id}, on_behalf_of=on_behalf_of
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
        """Replace a document's content and process it again (sent once).

        The other arguments are those of ``upload``.

        :param document_id: the document's id.
        :param file: the new content: a path, the bytes themselves, or a binary file object.
        :param filename: the name sent with it, as in ``upload``.
        :param title: the document's title.
        :param mime_type: its MIME type; guessed from ``filename`` unless given.
        :param source: a free-form label of where it comes from.
        :param labels: ``key=value`` labels stamped on it and inherited by its chunks.
        :param scopes: its scopes: a path, a list of paths, or a list of clauses.
        :param observed_at: when its content was known (RFC 3339), to backfill history.
        :param on_behalf_of: the principal to act for.
        :return: the document's id and processing status.
        :raises OSError: if ``file`` is a path that cannot be read.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes.
        """
        upload = upload_part(file, filename=filename, mime_type=mime_type)
        body = upload_metadata(upload, title, source, labels, scopes, observed_at)
        return await self._client._call(
            ops.DOCUMENTS_REPROCESS,
            path={"id": document_id},
            body=body,
            upload=upload,
            on_behalf_of=on_behalf_of,
        )

    async def delete(self, document_id: str, *, on_behalf_of: str | None = None) -> None:
        """Delete a document with its chunks (sent once).

        :param document_id: the document's id.
        :param on_behalf_of: the principal to act for.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes.
        """
        await self._client._call(
            ops.DOCUMENTS_DELETE, path={"id": document_id}, on_behalf_of=on_behalf_of
        )

    async def fetch_raw(self, document_id: str, *, on_behalf_of: str | None = None) -> bytes:
        """The document's original bytes, exactly as uploaded.

        :param document_id: the document's id.
        :param on_behalf_of: the principal to act for.
        :return: the bytes.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes, after any retries.
        """
        return await self._client._call(
            ops.DOCUMENTS_FETCH_RAW, path={"id": document_id}, on_behalf_of=on_behalf_of
        )

    async def chunks(
        self,
        document_id: str,
        *,
        page: int | None = None,
        page_size: int | None = None,
        on_behalf_of: str | None = None,
    ) -> m.ChunkPage:
        """One page of the chunks a document was split into.

        :param document_id: the document's id.
        :param page: the page number, from 0.
        :param page_size: chunks per page, at most 100.
        :param on_behalf_of: the principal to act for.
        :return: the page, with the total count.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes, after any retries.
        """
        return await self._client._call(
            ops.DOCUMENTS_CHUNKS,
            path={"id": document_id},
            query={"page": page, "pageSize": page_size},
            on_behalf_of=on_behalf_of,
        )

    async def document_keywords(
        self, document_id: str, *, on_behalf_of: str | None = None
    ) -> m.DocumentKeywordsResponse:
        """The keywords extracted from one document.

        :param document_id: the document's id.
        :param on_behalf_of: the principal to act for.
        :return: its keywords.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes, after any retries.
        """
        return await self._client._call(
            ops.DOCUMENTS_DOCUMENT_KEYWORDS, path={"id": document_id}, on_behalf_of=on_behalf_of
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
        """Search the documents' chunks for ``query`` (a POST read: sent once).

        Left out, each tuning argument takes the server's default.

        :param query: what to look for, in plain words.
        :param k: the most hits to return (the server's default 10, at most 50).
        :param mode: ``hybrid``, ``vector``, ``bm25`` or ``hybrid_graph`` retrieval.
        :param threshold: the lowest score a hit may have.
        :param filter: which documents to search.
        :param location: a geographic filter on the chunks.
        :param expand_graph: also follow the graph from the hits.
        :param graph_depth: how many hops to follow.
        :param graph_alpha: the weight of graph hits against direct ones.
        :param graph_edges: the kinds of edge to follow.
        :param rrf_k: the constant of the reciprocal rank fusion of the rankings.
        :param vector_weight: the weight of vector similarity in hybrid retrieval.
        :param decompose_query: split the query into sub-questions and merge their hits (needs
            the server's model).
        :param use_hyde: search with a hypothetical answer's embedding (needs the server's
            model).
        :param use_reranker: rerank the hits with the server's cross-encoder.
        :param on_behalf_of: the principal to act for.
        :return: the hits, best first.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes.
        """
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
        return await self._client._call(ops.DOCUMENTS_QUERY, body=body, on_behalf_of=on_behalf_of)

    async def recompute_links(self, *, on_behalf_of: str | None = None) -> m.RecomputeLinksResponse:
        """Recompute the similarity links between the context's documents (sent once).

        :param on_behalf_of: the principal to act for.
        :return: how many links were made.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes.
        """
        return await self._client._call(ops.DOCUMENTS_RECOMPUTE_LINKS, on_behalf_of=on_behalf_of)

    async def keyword(self, normalised: str, *, on_behalf_of: str | None = None) -> m.KeywordDetail:
        """One keyword, by its normalised form, with the documents that carry it.

        :param normalised: the keyword's normalised form, as keyword listings give it.
        :param on_behalf_of: the principal to act for.
        :return: the keyword and its documents.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes, after any retries.
        """
        return await self._client._call(
            ops.DOCUMENTS_KEYWORD, path={"normalised": normalised}, on_behalf_of=on_behalf_of
        )

    async def search_keywords(
        self,
        query: str,
        *,
        k: int | None = None,
        threshold: float | None = None,
        on_behalf_of: str | None = None,
    ) -> m.KeywordSearchResponse:
        """Keywords similar in meaning to ``query`` (a POST read: sent once).

        :param query: the text to compare the keywords with.
        :param k: the most keywords to return (the server's default 10, at most 50).
        :param threshold: the lowest similarity a keyword may have.
        :param on_behalf_of: the principal to act for.
        :return: the keywords, most similar first.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes.
        """
        body = request_body(m.KeywordSearchRequest, query=query, k=k, threshold=threshold)
        return await self._client._call(
            ops.DOCUMENTS_SEARCH_KEYWORDS, body=body, on_behalf_of=on_behalf_of
        )


class AsyncDocumentKeywords(AsyncNamespace):
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
        """One page of the keywords across all documents.

        :param q: only keywords containing this text, in any case.
        :param min_document_count: only keywords carried by at least this many documents.
        :param sort: the key to sort by.
        :param page: the page number, from 0.
        :param page_size: keywords per page, at most 100.
        :param on_behalf_of: the principal to act for.
        :return: the page, with the total count.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes, after any retries.
        """
        query = {
            "q": q,
            "minDocumentCount": min_document_count,
            "sort": sort,
            "page": page,
            "pageSize": page_size,
        }
        return await self._client._call(
            ops.DOCUMENTS_KEYWORDS, query=query, on_behalf_of=on_behalf_of
        )

    __call__ = list

    async def get(self, normalised: str, *, on_behalf_of: str | None = None) -> m.KeywordDetail:
        """``documents.keyword``: one keyword with the documents that carry it.

        :param normalised: the keyword's normalised form.
        :param on_behalf_of: the principal to act for.
        :return: the keyword and its documents.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes, after any retries.
        """
        return await self._client.documents.keyword(normalised, on_behalf_of=on_behalf_of)

    async def search(
        self,
        query: str,
        *,
        k: int | None = None,
        threshold: float | None = None,
        on_behalf_of: str | None = None,
    ) -> m.KeywordSearchResponse:
        """``documents.search_keywords``: keywords similar to ``query`` (sent once).

        :param query: the text to compare the keywords with.
        :param k: the most keywords to return.
        :param threshold: the lowest similarity a keyword may have.
        :param on_behalf_of: the principal to act for.
        :return: the keywords, most similar first.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes.
        """
        return await self._client.documents.search_keywords(
            query, k=k, threshold=threshold, on_behalf_of=on_behalf_of
        )

    async def for_document(
        self, document_id: str, *, on_behalf_of: str | None = None
    ) -> m.DocumentKeywordsResponse:
        """``documents.document_keywords``: the keywords extracted from one document.

        :param document_id: the document's id.
        :param on_behalf_of: the principal to act for.
        :return: its keywords.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes, after any retries.
        """
        return await self._client.documents.document_keywords(
            document_id, on_behalf_of=on_behalf_of
        )
