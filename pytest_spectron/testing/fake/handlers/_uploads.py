"""Documents: uploads kept byte for byte, their chunks and keywords, and lexical search.

A call sees only the documents in its caller's region (``ContextState.seen_by``): one outside it
is a 404 by id and absent from listings, keywords, search and recall's passages.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable, Sequence

from pytest_spectron.client import models as m
from pytest_spectron.testing.fake._auth import filed_region
from pytest_spectron.testing.fake._call import (
    NO_CONTENT,
    Answer,
    Call,
    check_labels,
    handles,
    invalid,
    not_found,
    ok,
)
from pytest_spectron.testing.fake._context import ContextState
from pytest_spectron.testing.fake._scoping import freeze_scopes
from pytest_spectron.testing.fake._store import Ids, Scopes, StoredDocument
from pytest_spectron.testing.fake._text import chunk_spans, keywords, score

__all__ = ["Passage", "passages", "store_document"]

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
"""The document's cap on ``pageSize``; a larger one is served as 100."""


def store_document(
    state: ContextState,
    ids: Ids,
    time: tuple[str, float],
    content: bytes,
    *,
    title: str,
    mime_type: str,
    source: str,
    labels: Sequence[str] = (),
    scopes: Scopes = (),
    region: Scopes = (),
    stage_seconds: float = 0.0,
) -> tuple[StoredDocument, bool]:
    """Keep a new document, or find the one with identical bytes; (document, deduplicated).

    A new document (``scopes``, filed in ``region``) is processed from ``time`` (now, seconds),
    one stage of ``PIPELINE`` every ``stage_seconds`` virtual seconds (0: ready at once). Only
    a document the caller sees is found: identical bytes in another region make a new one, as
    an id the caller cannot read would be no answer.
    """
    now, seconds = time
    content_hash = hashlib.sha256(content).hexdigest()
    for existing in state.documents.values():
        if existing.content_hash == content_hash:
            return existing, True
    document = StoredDocument(
        id=ids.next("doc"),
        title=title,
        mime_type=mime_type,
        source=source,
        content=content,
        content_hash=content_hash,
        created_at=now,
        updated_at=now,
        labels=tuple(labels),
        scopes=scopes,
        region=region,
        processing_since=seconds,
        stage_seconds=stage_seconds,
    )
    document = dataclasses.replace(document, status=document.status_at(seconds))
    state.documents[document.id] = document
    if not document.ready:
        state.processing.add(document.id)
    return document, False


@dataclasses.dataclass(frozen=True)
class Passage:
    """One chunk of a ready document, as recall returns it (``source: chunk``)."""

    id: str
    text: str
    document: StoredDocument


def passages(state: ContextState) -> list[Passage]:
    """The chunks of every ready document of a context the caller sees, document by document."""
    return [
        Passage(chunk.id, chunk.text, document)
        for document in state.documents.values()
        for chunk in _chunks(document)
    ]


def _document(call: Call) -> StoredDocument:
    """The document the path names; a 404, the document's "Document not found", for one outside
    the caller's region too (the official SDK: "404 — addressed entity / document / session
    does not exist")."""
    return call.named(call.state.documents, "id", "document")


def _document_model(document: StoredDocument) -> m.Document:
    return m.Document(
        id=document.id,
        title=document.title,
        mime_type=document.mime_type,
        source=document.source,
        content_hash=document.content_hash,
        size_bytes=len(document.content),
        version=document.version,
        status=document.status,
        created_at=document.created_at,
        updated_at=document.updated_at,
        processing_started_at=document.updated_at,
        processing_completed_at=document.updated_at if document.ready else None,
    )


def _chunks(document: StoredDocument) -> list[m.Chunk]:
    """The document's chunks: none until its processing is over."""
    if not document.ready:
        return []
    text = document.text
    return [
        m.Chunk(
            id=f"{document.id}/{position}",
            document=document.id,
            position=position,
            char_start=start,
            char_end=end,
            text=text[start:end],
            token_count=len(text[start:end].split()),
        )
        for position, (start, end) in enumerate(chunk_spans(text))
    ]


def _page(call: Call) -> tuple[slice, int, int]:
    """The slice of a listing that ``page`` (0 is the first) and ``pageSize`` ask for, and both.

    The document numbers pages from 0 and allows ``pageSize=0``, which asks for an empty page.
    """
    page = call.integer("page", 0)
    size = call.integer("pageSize", DEFAULT_PAGE_SIZE, maximum=MAX_PAGE_SIZE)
    start = page * size
    return slice(start, start + size), page, size


def _upload(call: Call) -> tuple[m.UploadMetadata, str, bytes, str]:
    """(metadata, file name, bytes, MIME type) of an upload; a 400 if it has no file part."""
    metadata = call.body_as(m.UploadMetadata)
    check_labels("metadata.labels", metadata.labels)
    files = [part for part in call.parts if part.name == "file"]
    if not files:
        raise invalid("file", "the upload has no 'file' part")
    part = files[0]
    filename = part.filename or "upload"
    mime_type = metadata.mime_type or part.content_type or "application/octet-stream"
    return metadata, filename, part.content, mime_type


def _upload_response(document: StoredDocument, *, deduplicated: bool) -> m.UploadResponse:
    return m.UploadResponse(
        id=document.id,
        status=document.status,
        content_hash=document.content_hash,
        deduplicated=deduplicated,
    )


@handles("documents.upload")
def upload(call: Call) -> Answer:
    """Keep an uploaded document (202), or point at the one with identical bytes."""
    metadata, filename, content, mime_type = _upload(call)
    scopes = freeze_scopes(metadata.scopes)
    document, deduplicated = store_document(
        call.state,
        call.ids,
        (call.now, call.seconds),
        content,
        title=metadata.title or filename,
        mime_type=mime_type,
        source=metadata.source or filename,
        labels=metadata.labels or (),
        scopes=scopes,
        region=filed_region(scopes, call.caller.grants),
        stage_seconds=call.processing_seconds,
    )
    return ok(_upload_response(document, deduplicated=deduplicated), 202)


@handles("documents.reprocess")
def reprocess(call: Call) -> Answer:
    """Process a document again (202) as a new version, with the uploaded bytes if any.

    The official SDKs send no body: then the document's own bytes go through again.
    """
    document = _document(call)
    if call.parts:
        metadata, _, content, mime_type = _upload(call)
        scopes = document.scopes if metadata.scopes is None else freeze_scopes(metadata.scopes)
        rescoped = metadata.scopes is not None
        document = dataclasses.replace(
            document,
            content=content,
            content_hash=hashlib.sha256(content).hexdigest(),
            title=metadata.title or document.title,
            mime_type=mime_type,
            source=metadata.source or document.source,
            labels=document.labels if metadata.labels is None else tuple(metadata.labels),
            scopes=scopes,
            region=filed_region(scopes, call.caller.grants) if rescoped else document.region,
        )
    updated = dataclasses.replace(
        document,
        version=document.version + 1,
        updated_at=call.now,
        processing_since=call.seconds,
        stage_seconds=call.processing_seconds,
    )
    updated = dataclasses.replace(updated, status=updated.status_at(call.seconds))
    call.state.documents[document.id] = updated
    if not updated.ready:
        call.state.processing.add(document.id)
    return ok(_upload_response(updated, deduplicated=False), 202)


@handles("documents.list")
def list_documents(call: Call) -> Answer:
    """One page of documents, filtered by status and MIME type (any string, as documented)."""
    status = call.query.get("status")
    mime_type = call.query.get("mimeType")
    documents = [
        document
        for document in call.state.documents.values()
        if status in (None, document.status) and mime_type in (None, document.mime_type)
    ]
    window, page, size = _page(call)
    return ok(
        m.DocumentPage(
            documents=[_document_model(document) for document in documents[window]],
            total=len(documents),
            page=page,
            page_size=size,
        )
    )


@handles("documents.get")
def get(call: Call) -> Answer:
    """One document's metadata."""
    return ok(_document_model(_document(call)))


@handles("documents.delete")
def delete(call: Call) -> Answer:
    """Delete a document and its bytes (204)."""
    del call.state.documents[_document(call).id]
    return NO_CONTENT


@handles("documents.fetch_raw")
def fetch_raw(call: Call) -> Answer:
    """The document's exact bytes, with its stored content type."""
    document = _document(call)
    return Answer(raw=document.content, content_type=document.mime_type)


@handles("documents.chunks")
def chunks(call: Call) -> Answer:
    """One page of a document's fixed-size chunks."""
    every = _chunks(_document(call))
    window, page, size = _page(call)
    return ok(m.ChunkPage(chunks=every[window], total=len(every), page=page, page_size=size))


# -- Keywords ----------------------------------------------------------------------------------


def _keyword_index(documents: Iterable[StoredDocument]) -> dict[str, list[StoredDocument]]:
    """Keyword → the documents it was extracted from, keywords in alphabetical order."""
    index: dict[str, list[StoredDocument]] = {}
    for document in documents:
        if not document.ready:
            continue
        for word, _ in keywords([document.text]):
            index.setdefault(word, []).append(document)
    return dict(sorted(index.items()))


def _keyword_model(word: str, documents: list[StoredDocument]) -> m.Keyword:
    return m.Keyword(id=f"kw-{word}", text=word, normalised=word, document_count=len(documents))


@handles("documents.document_keywords")
def document_keywords(call: Call) -> Answer:
    """The keywords of one document, best first."""
    document = _document(call)
    found = keywords([document.text]) if document.ready else []
    return ok(
        m.DocumentKeywordsResponse(
            keywords=[
                m.DocumentKeyword(id=f"kw-{word}", text=word, normalised=word, score=value)
                for word, value in found
            ]
        )
    )


@handles("documents.keywords")
def list_keywords(call: Call) -> Answer:
    """One page of the context's keywords, by prefix and document count.

    ``sort=documentCount`` puts the most linked first; any other key (the document leaves it an
    open string) keeps the alphabetical order.
    """
    prefix = (call.query.get("q") or "").lower()
    minimum = call.integer("minDocumentCount", 1, minimum=None, bits=64)
    order = call.query.get("sort")
    listed = [
        _keyword_model(word, documents)
        for word, documents in _keyword_index(call.state.documents.values()).items()
        if word.startswith(prefix) and len(documents) >= minimum
    ]
    if order == "documentCount":
        listed.sort(key=lambda keyword: -keyword.document_count)
    window, page, size = _page(call)
    return ok(m.KeywordPage(keywords=listed[window], total=len(listed), page=page, page_size=size))


@handles("documents.keyword")
def keyword(call: Call) -> Answer:
    """One keyword and the documents it links."""
    word = call.path["normalised"].lower()
    documents = _keyword_index(call.state.documents.values()).get(word)
    if not documents:
        raise not_found("keyword", word)
    return ok(
        m.KeywordDetail(
            id=f"kw-{word}",
            text=word,
            normalised=word,
            document_count=len(documents),
            documents=[
                m.KeywordDocument(id=document.id, title=document.title, score=1.0)
                for document in documents
            ],
        )
    )


@handles("documents.search_keywords")
def search_keywords(call: Call) -> Answer:
    """Keywords matching the query's words, best first."""
    body = call.body_as(m.KeywordSearchRequest)
    threshold = body.threshold or 0.0
    ranked = []
    for word, documents in _keyword_index(call.state.documents.values()).items():
        value = score(body.query, word)
        if value > 0 and value >= threshold:
            ranked.append((value, word, documents))
    ranked.sort(key=lambda entry: -entry[0])
    k = min(10 if body.k is None else body.k, 50)
    return ok(
        m.KeywordSearchResponse(
            query_ms=0,
            results=[
                m.KeywordSearchHit(
                    id=f"kw-{word}",
                    text=word,
                    normalised=word,
                    document_count=len(documents),
                    score=value,
                )
                for value, word, documents in ranked[:k]
            ],
        )
    )


# -- Search and links --------------------------------------------------------------------------


@handles("documents.query")
def query(call: Call) -> Answer:
    """Chunks matching the query's words, best first, from any document."""
    body = call.body_as(m.QueryRequest)
    wanted = body.filter or m.QueryFilter()
    threshold = body.threshold or 0.0
    results: list[tuple[float, m.QueryHit]] = []
    for document in call.state.documents.values():
        if wanted.document_ids is not None and document.id not in wanted.document_ids:
            continue
        if wanted.mime_type is not None and document.mime_type not in wanted.mime_type:
            continue
        for chunk in _chunks(document):
            value = score(body.query, chunk.text)
            if value > 0 and value >= threshold:
                hit = m.QueryHit(
                    score=value,
                    chunk=m.QueryHitChunk(**chunk.model_dump(exclude={"token_count"})),
                    document=m.QueryHitDocument(
                        id=document.id, title=document.title, source=document.source
                    ),
                )
                results.append((value, hit))
    results.sort(key=lambda pair: -pair[0])
    k = min(10 if body.k is None else body.k, 50)
    return ok(m.QueryResponse(results=[hit for _, hit in results[:k]], query_ms=0))


@handles("documents.recompute_links")
def recompute_links(call: Call) -> Answer:
    """Count the document pairs that share a keyword."""
    documents = [document for document in call.state.documents.values() if document.ready]
    words = {document.id: {word for word, _ in keywords([document.text])} for document in documents}
    links = sum(
        1
        for index, first in enumerate(documents)
        for second in documents[index + 1 :]
        if words[first.id] & words[second.id]
    )
    return ok(m.RecomputeLinksResponse(links_emitted=links))
