"""The public client API as a user's type checker sees it; ``test_types.py`` runs mypy on it.

Nothing here runs. Each ``assert_type`` states a type a caller must get, and each
``# type: ignore[code]`` a mistake mypy must catch: with ``warn_unused_ignores`` (strict), an
ignore that stops being needed fails the check too.
"""

from __future__ import annotations

from typing_extensions import assert_type

from pytest_spectron.client import (
    AsyncChatStream,
    AsyncDocumentKeywords,
    AsyncDocuments,
    AsyncSpectron,
    ChatChunk,
    ChatStream,
    DocumentKeywords,
    Documents,
    Lifecycle,
    Operation,
    Spectron,
    operation,
)
from pytest_spectron.client import _catalogue as ops
from pytest_spectron.client import models as m


def sync_client_answers(client: Spectron) -> None:
    assert_type(client.state(), m.StateResponse)
    assert_type(client.remember("Alice prefers tea"), m.FactsResponse)
    assert_type(client.recall("tea", k=3, labels=["kind=preference"]), m.QueryMemoryResponse)
    assert_type(client.inspect("entity:person/alice"), m.InspectResponse)
    assert_type(client.health(), None)
    assert_type(client.chat("hi"), m.ChatResponse)
    assert_type(client.chat("hi", stream=True), ChatStream)
    assert_type(client.with_options(max_retries=0), Spectron)


def sync_namespaces(client: Spectron) -> None:
    assert_type(client.documents, Documents)
    assert_type(client.documents.keywords, DocumentKeywords)
    assert_type(client.lifecycle, Lifecycle)
    assert_type(client.documents.upload(b"hello", filename="a.txt"), m.UploadResponse)
    assert_type(client.documents.fetch_raw("d1"), bytes)
    assert_type(client.documents.keywords(q="tea"), m.KeywordPage)
    assert_type(client.scopes.list(), list[m.ScopeNode])
    assert_type(client.sessions.delete("s1"), None)


def sync_stream(client: Spectron) -> None:
    with Spectron("my-app", "https://spectron.example.com", "key") as built:
        assert_type(built, Spectron)
    with client.chat("hi", stream=True) as stream:
        assert_type(stream, ChatStream)
        for chunk in stream:
            assert_type(chunk, ChatChunk)


async def async_client_answers(client: AsyncSpectron) -> None:
    assert_type(await client.state(), m.StateResponse)
    assert_type(await client.recall("tea"), m.QueryMemoryResponse)
    assert_type(await client.health(), None)
    assert_type(await client.chat("hi"), m.ChatResponse)
    assert_type(await client.chat("hi", stream=True), AsyncChatStream)
    assert_type(client.with_options(timeout=5.0), AsyncSpectron)


async def async_namespaces(client: AsyncSpectron) -> None:
    assert_type(client.documents, AsyncDocuments)
    assert_type(client.documents.keywords, AsyncDocumentKeywords)
    assert_type(await client.documents.fetch_raw("d1"), bytes)
    assert_type(await client.principals.list(), list[m.Principal])


async def async_stream(client: AsyncSpectron) -> None:
    async with AsyncSpectron("my-app", "https://spectron.example.com", "key") as built:
        assert_type(built, AsyncSpectron)
    async with await client.chat("hi", stream=True) as stream:
        async for chunk in stream:
            assert_type(chunk, ChatChunk)


def catalogue_rows() -> None:
    assert_type(ops.STATE, Operation[m.StateResponse])
    assert_type(ops.SCOPES_LIST, Operation[list[m.ScopeNode]])
    assert_type(ops.DOCUMENTS_DELETE, Operation[None])
    assert_type(operation("state"), Operation)


def mistakes(client: Spectron, async_client: AsyncSpectron) -> None:
    client.state(on_behalf_of=7)  # type: ignore[arg-type]
    client.recall("tea", limit=3)  # type: ignore[call-arg]
    client.documents.get()  # type: ignore[call-arg]
    client.remember_many(["hi"])  # type: ignore[list-item]
    _ = async_client.documents.upload(b"hello").id  # type: ignore[attr-defined]
    _ = ops.STAET  # type: ignore[attr-defined]


def wrong_answer_type(client: Spectron) -> m.StateResponse:
    return client.whoami()  # type: ignore[return-value]
