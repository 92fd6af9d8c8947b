"""The official Python SDK (``surrealdb-memory``), unchanged, against the fake's loopback server.

Every method the SDK has is called once, from the blocking client (``requests``) and the async
one (``aiohttp``), on a server seeded so that every id it names exists. Its errors carry the
fake's detail and trace id, in every error format.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import requests
import surrealdb_memory
from surrealdb_memory import AsyncMemory, Memory, MemoryAPIError, MemoryNotFoundError

from pytest_spectron import SpectronMock
from pytest_spectron.testing import LoopbackServer
from pytest_spectron.testing.fake import PRINCIPAL_ID
from pytest_spectron.testing.http._problems import ERROR_FORMATS, ErrorFormat

Ids = dict[str, str]
Call = Callable[[Any, Ids], Any]
"""One SDK call on a ``Memory`` or ``AsyncMemory``, given the seeded ids."""

CALLS: dict[str, Call] = {
    "remember": lambda m, ids: m.remember("Bob likes coffee", labels=["kind=note"]),
    "remember_many": lambda m, ids: m.remember_many([{"role": "user", "content": "hi"}]),
    "recall": lambda m, ids: m.recall("tea", k=3),
    "forget": lambda m, ids: m.forget("nothing matches this"),
    "chat": lambda m, ids: m.chat("tea?"),
    "chat(stream=True)": lambda m, ids: m.chat("tea?", stream=True),
    "consolidate": lambda m, ids: m.consolidate(dry_run=True),
    "reflect": lambda m, ids: m.reflect("tea"),
    "elaborate": lambda m, ids: m.elaborate(),
    "query_context": lambda m, ids: m.query_context("tea"),
    "inspect": lambda m, ids: m.inspect("entity:person/alice"),
    "state": lambda m, ids: m.state(),
    "whoami": lambda m, ids: m.whoami(),
    "profile": lambda m, ids: m.profile(),
    "audit": lambda m, ids: m.audit(limit=5),
    "health": lambda m, ids: m.health(),
    "documents.upload": lambda m, ids: m.documents.upload(b"new kettle notes", title="Notes"),
    "documents.get": lambda m, ids: m.documents.get(ids["document"]),
    "documents.delete": lambda m, ids: m.documents.delete(ids["document"]),
    "documents.list": lambda m, ids: m.documents.list(page=0, page_size=10),
    "documents.query": lambda m, ids: m.documents.query("kettles", k=3),
    "documents.fetch_raw": lambda m, ids: m.documents.fetch_raw(ids["document"]),
    "documents.reprocess": lambda m, ids: m.documents.reprocess(ids["document"]),
    "documents.recompute_links": lambda m, ids: m.documents.recompute_links(),
    "documents.chunks": lambda m, ids: m.documents.chunks(ids["document"]),
    "documents.keywords.list": lambda m, ids: m.documents.keywords.list(),
    "documents.keywords.get": lambda m, ids: m.documents.keywords.get("kettles"),
    "documents.keywords.search": lambda m, ids: m.documents.keywords.search("kettles"),
    "documents.keywords.for_document": lambda m, ids: m.documents.keywords.for_document(
        ids["document"]
    ),
    "sessions.create": lambda m, ids: m.sessions.create(),
    "sessions.delete": lambda m, ids: m.sessions.delete(ids["session"]),
    "sessions.context": lambda m, ids: m.sessions.context(ids["session"], "tea"),
    "sessions.turns": lambda m, ids: m.sessions.turns(ids["session"], limit=10),
    "entities.list": lambda m, ids: m.entities.list(entity_type="person"),
    "entities.get": lambda m, ids: m.entities.get("person", "alice"),
    "entities.delete": lambda m, ids: m.entities.delete("person", "alice"),
    "entities.history": lambda m, ids: m.entities.history("person", "alice", "drink"),
    "scopes.register": lambda m, ids: m.scopes.register("team/b", display_name="Team B"),
    "scopes.list": lambda m, ids: m.scopes.list(),
    "scopes.delete": lambda m, ids: m.scopes.delete("team/a"),
    "scopes.forget": lambda m, ids: m.scopes.forget("team/a"),
    "principals.list": lambda m, ids: m.principals.list(),
    "principals.get": lambda m, ids: m.principals.get(PRINCIPAL_ID),
    "principals.grant": lambda m, ids: m.principals.grant(PRINCIPAL_ID, "team/*", ["memory:read"]),
    "principals.revoke": lambda m, ids: m.principals.revoke(PRINCIPAL_ID, "*", ["memory:read"]),
    "principals.effective": lambda m, ids: m.principals.effective(PRINCIPAL_ID, "team/a"),
    "keys.create": lambda m, ids: m.keys.create(name="ci", ttl_seconds=3600),
    "keys.list": lambda m, ids: m.keys.list(),
    "keys.delete": lambda m, ids: m.keys.delete("seed"),
    "keys.rotate": lambda m, ids: m.keys.rotate("seed"),
    "traces.list": lambda m, ids: m.traces.list(limit=5),
    "traces.get": lambda m, ids: m.traces.get(ids["trace"]),
    "traces.stats": lambda m, ids: m.traces.stats(),
    "lifecycle.decay": lambda m, ids: m.lifecycle.decay(),
    "lifecycle.expire": lambda m, ids: m.lifecycle.expire(),
    "lifecycle.fsck": lambda m, ids: m.lifecycle.fsck(check="duplicates"),
}


def sdk_methods(client: object, prefix: str = "") -> set[str]:
    """The public methods of an SDK client, namespaces included (``documents.keywords.get``)."""
    found = set()
    for name, member in inspect.getmembers(client):
        if name.startswith("_") or name in ("close", "context_id", "endpoint", "api_key"):
            continue
        if inspect.ismethod(member):
            found.add(prefix + name)
        elif type(member).__module__.startswith("surrealdb_memory._namespaces"):
            found |= sdk_methods(member, f"{prefix}{name}.")
    return found


@pytest.fixture
def server(spectron_server: LoopbackServer) -> LoopbackServer:
    """The mock's loopback server (127.0.0.1)."""
    assert spectron_server.url.startswith("http://127.0.0.1:")
    return spectron_server


@pytest.fixture
def seeded(server: LoopbackServer, spectron_mock: SpectronMock) -> Ids:
    """State in which every id the calls name exists, seeded through the SDK and the fake."""
    fake, context = spectron_mock.fake, spectron_mock.context
    triple = {"entity": {"type": "person", "name": "alice"}, "key": "drink", "value": "tea"}
    with blocking_memory(server, spectron_mock) as memory:
        memory.remember("Alice likes tea", triples=[triple], scopes="team/a")
        memory.scopes.register("team/a")
        trace = memory.recall("tea").trace["traceId"]
    fake.add_key(context, "seed")
    return {
        "document": fake.add_document(context, b"kettles boil water. " * 20, title="kettles"),
        "session": fake.sessions(context)[0].id,
        "trace": trace,
    }


@contextmanager
def blocking_memory(server: LoopbackServer, mock: SpectronMock) -> Iterator[Memory]:
    """The SDK's blocking client on the server; proxies from the environment are not asked."""
    with requests.Session() as session:
        session.trust_env = False
        transport = surrealdb_memory.BlockingTransport(
            endpoint=server.url, api_key=mock.api_key, max_retries=0, session=session
        )
        with Memory(mock.context, transport=transport) as memory:
            yield memory


def _drained(result: Any) -> Any:
    return list(result) if isinstance(result, Iterator) else result


async def _drained_async(result: Any) -> Any:
    return [chunk async for chunk in result] if isinstance(result, AsyncIterator) else result


def call_async(server: LoopbackServer, mock: SpectronMock, call: Call, ids: Ids) -> Any:
    """Make ``call`` on the SDK's async client, in a fresh event loop."""

    async def main() -> Any:
        async with AsyncMemory(
            mock.context, endpoint=server.url, api_key=mock.api_key, max_retries=0
        ) as memory:
            return await _drained_async(await call(memory, ids))

    return asyncio.run(main())


def test_calls_cover_every_sdk_method() -> None:
    """``CALLS`` has every public method of the SDK's clients, and nothing else."""
    memory = Memory("ctx", endpoint="http://127.0.0.1:1", api_key="key")

    with memory:
        methods = sdk_methods(memory)

    assert methods == set(CALLS) - {"chat(stream=True)"}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_blocking_sdk_method_works_against_the_fake(
    name: str, server: LoopbackServer, spectron_mock: SpectronMock, seeded: Ids
) -> None:
    """The SDK's blocking client calls the method and decodes the fake's answer."""
    with blocking_memory(server, spectron_mock) as memory:
        _drained(CALLS[name](memory, seeded))

    assert spectron_mock.journal.attempts()[-1].status in range(200, 300)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_async_sdk_method_works_against_the_fake(
    name: str, server: LoopbackServer, spectron_mock: SpectronMock, seeded: Ids
) -> None:
    """The SDK's async client calls the method and decodes the fake's answer."""
    call_async(server, spectron_mock, CALLS[name], seeded)

    assert spectron_mock.journal.attempts()[-1].status in range(200, 300)


@pytest.mark.parametrize("error_format", list(ERROR_FORMATS))
def test_sdk_error_carries_the_fakes_detail_and_trace_id(
    server: LoopbackServer, spectron_mock: SpectronMock, error_format: ErrorFormat
) -> None:
    """The SDK's error message is the fake's detail (never just "Not Found"), in any format."""
    spectron_mock.fake.error_format = error_format

    with (
        blocking_memory(server, spectron_mock) as memory,
        pytest.raises(MemoryNotFoundError) as caught,
    ):
        memory.documents.get("doc-999999")

    assert (caught.value.message, caught.value.trace_id) == (
        "document 'doc-999999' does not exist",
        "trc-000001",
    )


def test_sdk_streamed_chat_reads_the_whole_reply(
    server: LoopbackServer, spectron_mock: SpectronMock, seeded: Ids
) -> None:
    """The SDK's streamed deltas, blocking and async, join to the whole non-streamed reply."""
    with blocking_memory(server, spectron_mock) as memory:
        reply = CALLS["chat"](memory, seeded).reply
        blocking = "".join(chunk.delta for chunk in CALLS["chat(stream=True)"](memory, seeded))
    chunks = call_async(server, spectron_mock, lambda m, ids: m.chat("tea?", stream=True), seeded)

    assert reply == "Based on what I remember: Alice likes tea"
    assert blocking == reply
    assert "".join(chunk.delta for chunk in chunks) == reply
    assert [chunk.done for chunk in chunks][-2:] == [True, True]  # event: done, then [DONE]


def test_sdk_error_body_carries_the_429s_retry_after(
    server: LoopbackServer, spectron_mock: SpectronMock
) -> None:
    """A 429's ``retryAfter`` is in ``MemoryAPIError.body``, where the errors guide sends users.

    "When the server returns 429, read retryAfter from the JavaScript RateLimitError or the
    problem-detail body in Python (SpectronAPIError.body)"; the SDK itself reads no field of it.
    """
    spectron_mock.fail("state", "429:3")

    with blocking_memory(server, spectron_mock) as memory, pytest.raises(MemoryAPIError) as caught:
        memory.state()

    assert (caught.value.status_code, caught.value.body["retryAfter"]) == (429, 3)
