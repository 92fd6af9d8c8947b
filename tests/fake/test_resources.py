"""Documents, sessions, keys, scopes, principals, traces and the rest keep consistent state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from pytest_spectron import (
    CATALOGUE,
    FakeSpectron,
    Spectron,
    SpectronAuthError,
    SpectronNotFoundError,
    SpectronScopeError,
    SpectronServerError,
    SpectronValidationError,
)
from pytest_spectron.client.models import Triple, TripleEntity
from pytest_spectron.testing import ServiceTransport, SpectronService


def test_document_bytes_come_back_identical(client: Spectron) -> None:
    """Uploaded bytes are returned exactly by ``fetch_raw``; identical bytes deduplicate."""
    content = "é-löwe\n".encode() * 100 + b"\x00\xff"
    first = client.documents.upload(content, filename="lion.bin", title="Lion")
    again = client.documents.upload(content, filename="copy.bin")

    assert client.documents.fetch_raw(first.id) == content
    assert (again.id, again.deduplicated) == (first.id, True)
    assert client.documents.get(first.id).size_bytes == len(content)


def test_document_listing_pages_and_filters(client: Spectron) -> None:
    """Pages have the asked size and the total; the MIME filter narrows the list."""
    for number in range(5):
        client.documents.upload(f"doc {number}".encode(), filename=f"{number}.txt")
    client.documents.upload(b"{}", filename="data.json")

    page = client.documents.list(page=2, page_size=2)
    assert (page.total, page.page, len(page.documents)) == (6, 2, 2)
    assert [d.title for d in client.documents.list(mime_type="application/json").documents] == [
        "data.json"
    ]


def test_document_chunks_query_and_delete(client: Spectron) -> None:
    """Text is chunked and searchable; a deleted document is gone."""
    text = ("kettles boil water. " * 30).encode()
    document = client.documents.upload(text, filename="kettle.txt")

    chunks = client.documents.chunks(document.id)
    assert chunks.total == len(chunks.chunks) > 1
    assert "".join(chunk.text for chunk in chunks.chunks).encode() == text
    assert client.documents.query("boil kettles").results[0].document.id == document.id
    assert client.documents.keyword("kettles").document_count == 1

    client.documents.delete(document.id)
    with pytest.raises(SpectronNotFoundError):
        client.documents.get(document.id)


def test_reprocess_bumps_the_version(client: Spectron) -> None:
    """Re-uploading a document's content gives it a new version and new bytes."""
    document = client.documents.upload(b"v1", filename="a.txt")
    client.documents.reprocess(document.id, b"v2", filename="a.txt")
    assert client.documents.get(document.id).version == 2
    assert client.documents.fetch_raw(document.id) == b"v2"


def test_sessions_hold_turns_and_can_be_deleted(client: Spectron) -> None:
    """A session keeps its turns in order; after deletion it is a 404."""
    session = client.sessions.create(scopes="team/a")
    client.remember("first", session_id=session.id)
    client.chat("first?", session_id=session.id)

    turns = client.sessions.turns(session.id, offset=1, limit=1).turns
    assert [turn.seq for turn in turns] == [2]
    assert session.scopes == [["team/a"]]
    assert "first" in client.sessions.context(session.id, "first").context

    client.sessions.delete(session.id)
    with pytest.raises(SpectronNotFoundError):
        client.sessions.turns(session.id)


def test_minted_key_is_shown_once_rotates_and_authenticates(
    client: Spectron, service: SpectronService
) -> None:
    """The secret is in the mint answer only; it works as a key until rotated away."""
    minted = client.keys.create(name="ci")
    listed = client.keys.list()
    assert [key.name for key in listed] == ["ci"]
    assert minted.key not in repr(listed)

    service.fake.set_api_keys({"admin": None})  # type: ignore[attr-defined]
    transport = ServiceTransport(service)
    with Spectron("ctx", "http://spectron.test", minted.key, transport=transport) as ci:
        ci.state()
        new = ci.keys.rotate("ci")
        with pytest.raises(SpectronAuthError):
            ci.state()
    with Spectron("ctx", "http://spectron.test", new.key, transport=transport) as ci:
        ci.keys.delete("ci")
        with pytest.raises(SpectronAuthError):
            ci.state()


def test_scopes_and_principals(client: Spectron) -> None:
    """Scopes register and delete; grants add up to effective verbs and can be revoked."""
    assert client.scopes.register("team/a").path == "team/a/"
    assert [scope.path for scope in client.scopes.list()] == ["team/a/"]
    me = client.whoami().principal_id
    client.principals.grant(me, "team/*", ["memory:read", "memory:write"])
    assert client.principals.effective(me, "team/a/").verbs == ["memory:read", "memory:write"]
    client.principals.revoke(me, "team/*", ["memory:write"])
    assert client.principals.get(me).grants == {"memory:read": ["team/*"]}
    client.scopes.delete("team/a")
    assert client.scopes.list() == []


def test_scope_grants_are_not_implemented(client: Spectron) -> None:
    """``scope-grants`` answers 501, as Spectron's document says."""
    with pytest.raises(SpectronServerError) as caught:
        client.scopes.grant(subject="alice")
    assert caught.value.status_code == 501


def test_traces_and_audit_record_calls(client: Spectron) -> None:
    """Each recall and chat leaves a trace; every call leaves an audit row."""
    client.remember("traced")
    client.recall("traced")
    client.chat("traced?")

    traces = client.traces.list().traces
    assert [trace.query_text for trace in traces] == ["traced?", "traced"]
    assert client.traces.stats().total_queries == 1
    rows = client.audit().rows
    assert len(rows) == 5
    assert {row.principal for row in rows} == {client.whoami().principal_id}


def test_missing_key_is_a_401_problem(service: SpectronService) -> None:
    """No bearer token: 401, as problem+json with an x-trace-id header."""
    with httpx.Client(transport=ServiceTransport(service)) as http:
        answer = http.get("http://spectron.test/api/v1/ctx/state")
    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["traceId"] == answer.headers["x-trace-id"]


def test_key_without_the_grant_is_a_403(client: Spectron, fake: FakeSpectron) -> None:
    """A key that may read but not forget gets 403 from ``forget``."""
    fake.set_api_keys({"key": {"memory:read": ["*"]}})
    client.state()
    with pytest.raises(SpectronScopeError, match="memory:forget"):
        client.forget("anything")


def test_grants_are_checked_per_scope(client: Spectron, fake: FakeSpectron) -> None:
    """A key may write under the scopes its grant covers, and only there."""
    fake.set_api_keys({"key": {"memory:write": ["team/a/*"], "memory:read": ["*"]}})
    client.remember("allowed", scopes="team/a/notes/")
    with pytest.raises(SpectronScopeError, match="does not cover scope 'team/b/'"):
        client.remember("denied", scopes="team/b/")
    assert [fact.text for fact in fake.facts("ctx")] == ["allowed"]


def test_bad_body_is_a_422_listing_fields(service: SpectronService) -> None:
    """A body that fails the request model gets 422 naming each failing field."""
    with httpx.Client(transport=ServiceTransport(service)) as http:
        answer = http.post(
            "http://spectron.test/api/v1/ctx/query",
            json={"k": "many"},
            headers={"authorization": "Bearer key"},
        )
    assert answer.status_code == 422
    fields = [error["field"] for error in answer.json()["errors"]]
    assert sorted(fields) == ["k", "query"]


def test_unknown_path_and_wrong_method(service: SpectronService) -> None:
    """Unknown paths are 404 naming the nearest operations; wrong methods 405 with Allow."""
    with httpx.Client(transport=ServiceTransport(service)) as http:
        missing = http.get("http://spectron.test/api/v1/ctx/stat")
        wrong = http.delete("http://spectron.test/api/v1/ctx/state")
    assert missing.status_code == 404
    assert "state" in missing.json()["nearest"]
    assert (wrong.status_code, wrong.headers["allow"]) == (405, "GET")


def test_invalid_query_parameter_is_a_422(client: Spectron) -> None:
    """A page number of zero is refused."""
    with pytest.raises(SpectronValidationError):
        client.documents.list(page=0)


def seeded_calls(client: Spectron) -> dict[str, Callable[[], Any]]:
    """One call per operation, against state seeded so that every id exists."""
    alice = TripleEntity(type="person", name="alice")
    client.remember("Alice likes tea", triples=[Triple(entity=alice, key="drink", value="tea")])
    document = client.documents.upload(b"tea leaves and kettles", filename="tea.txt").id
    session = client.sessions.create().id
    trace = client.recall("tea").trace.trace_id
    client.keys.create(name="seed")
    me = client.whoami().principal_id
    return {
        "remember": lambda: client.remember("more"),
        "remember_many": lambda: client.remember_many([{"role": "user", "content": "hi"}]),
        "recall": lambda: client.recall("tea"),
        "forget": lambda: client.forget("nothing matches this"),
        "chat": lambda: client.chat("tea?"),
        "consolidate": lambda: client.consolidate(),
        "reflect": lambda: client.reflect("tea"),
        "elaborate": lambda: client.elaborate(),
        "query_context": lambda: client.query_context("tea"),
        "fsck": lambda: client.fsck(),
        "inspect": lambda: client.inspect(trace),
        "state": lambda: client.state(),
        "whoami": lambda: client.whoami(),
        "profile": lambda: client.profile(),
        "audit": lambda: client.audit(),
        "health": lambda: client.health(),
        "documents.upload": lambda: client.documents.upload(b"new", filename="n.txt"),
        "documents.list": lambda: client.documents.list(),
        "documents.get": lambda: client.documents.get(document),
        "documents.reprocess": lambda: client.documents.reprocess(document, b"tea again"),
        "documents.fetch_raw": lambda: client.documents.fetch_raw(document),
        "documents.chunks": lambda: client.documents.chunks(document),
        "documents.document_keywords": lambda: client.documents.document_keywords(document),
        "documents.query": lambda: client.documents.query("tea"),
        "documents.recompute_links": lambda: client.documents.recompute_links(),
        "documents.keywords": lambda: client.documents.keywords(),
        "documents.keyword": lambda: client.documents.keyword("again"),
        "documents.search_keywords": lambda: client.documents.search_keywords("again"),
        "documents.delete": lambda: client.documents.delete(document),
        "sessions.turns": lambda: client.sessions.turns(session),
        "sessions.context": lambda: client.sessions.context(session, "tea"),
        "sessions.delete": lambda: client.sessions.delete(session),
        "sessions.create": lambda: client.sessions.create(),
        "entities.list": lambda: client.entities.list(),
        "entities.get": lambda: client.entities.get("person", "alice"),
        "entities.history": lambda: client.entities.history("person", "alice", "drink"),
        "entities.delete": lambda: client.entities.delete("person", "alice"),
        "scopes.register": lambda: client.scopes.register("team/a"),
        "scopes.list": lambda: client.scopes.list(),
        "scopes.forget": lambda: client.scopes.forget("team/a"),
        "scopes.delete": lambda: client.scopes.delete("team/a"),
        "principals.list": lambda: client.principals.list(),
        "principals.get": lambda: client.principals.get(me),
        "principals.grant": lambda: client.principals.grant(me, "team/*", ["memory:read"]),
        "principals.effective": lambda: client.principals.effective(me, "team/a"),
        "principals.revoke": lambda: client.principals.revoke(me, "team/*", ["memory:read"]),
        "keys.list": lambda: client.keys.list(),
        "keys.create": lambda: client.keys.create(name="another"),
        "keys.rotate": lambda: client.keys.rotate("seed"),
        "keys.delete": lambda: client.keys.delete("seed"),
        "traces.list": lambda: client.traces.list(),
        "traces.get": lambda: client.traces.get(trace),
        "traces.stats": lambda: client.traces.stats(),
        "lifecycle.decay": lambda: client.lifecycle.decay(),
        "lifecycle.expire": lambda: client.lifecycle.expire(),
    }


def test_every_operation_answers_with_a_valid_body(
    client: Spectron, service: SpectronService
) -> None:
    """All operations but the 501 stub succeed, and the client validates every answer."""
    calls = seeded_calls(client)
    assert set(calls) | {"scopes.grant"} == set(CATALOGUE)
    for name, call in calls.items():
        call()
        assert service.journal.attempts(name)[-1].outcome.startswith("2"), name
