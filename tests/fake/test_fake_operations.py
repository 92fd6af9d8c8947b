"""Every catalogue operation has a handler and a verb; its answer fits its type and the document."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pydantic
import pytest

from pytest_spectron import CATALOGUE, FakeSpectron
from pytest_spectron.client._catalogue import Operation
from pytest_spectron.testing.fake import OPERATION_GRANTS, PRINCIPAL_ID
from pytest_spectron.testing.fake._call import HANDLERS

HEADERS = {"authorization": "Bearer key"}
Conformance = Callable[[Operation | None, int, Any], list[str]]

# The smallest valid request for each operation: path parameters, query, JSON body.
# ``{name}`` in a value is filled from the ids the seeded state gives.
REQUESTS: dict[str, tuple[dict[str, str], dict[str, str], dict[str, Any] | None]] = {
    "remember": ({}, {}, {"text": "more tea"}),
    "remember_many": ({}, {}, {"messages": [{"role": "user", "content": "hi"}]}),
    "recall": ({}, {}, {"query": "tea"}),
    "forget": ({}, {}, {"query": "nothing matches this"}),
    "chat": ({}, {}, {"message": "tea?"}),
    "consolidate": ({}, {}, {}),
    "reflect": ({}, {}, {"query": "tea"}),
    "elaborate": ({}, {}, {}),
    "query_context": ({}, {}, {"query": "tea"}),
    "fsck": ({}, {}, {}),
    "inspect": ({}, {"ref": "{trace}"}, None),
    "state": ({}, {}, None),
    "whoami": ({}, {}, None),
    "profile": ({}, {}, None),
    "audit": ({}, {}, None),
    "health": ({}, {}, None),
    "documents.upload": ({}, {}, None),
    "documents.list": ({}, {}, None),
    "documents.get": ({"id": "{document}"}, {}, None),
    "documents.reprocess": ({"id": "{document}"}, {}, None),
    "documents.delete": ({"id": "{document}"}, {}, None),
    "documents.fetch_raw": ({"id": "{document}"}, {}, None),
    "documents.chunks": ({"id": "{document}"}, {}, None),
    "documents.document_keywords": ({"id": "{document}"}, {}, None),
    "documents.query": ({}, {}, {"query": "kettles"}),
    "documents.recompute_links": ({}, {}, None),
    "documents.keywords": ({}, {}, None),
    "documents.keyword": ({"normalised": "kettles"}, {}, None),
    "documents.search_keywords": ({}, {}, {"query": "kettles"}),
    "sessions.create": ({}, {}, {}),
    "sessions.delete": ({"session_id": "{session}"}, {}, None),
    "sessions.turns": ({"session_id": "{session}"}, {}, None),
    "sessions.context": ({"session_id": "{session}"}, {}, {"query": "tea"}),
    "entities.list": ({}, {}, None),
    "entities.get": ({"entity_type": "person", "entity_name": "alice"}, {}, None),
    "entities.delete": ({"entity_type": "person", "entity_name": "alice"}, {}, None),
    "entities.history": (
        {"entity_type": "person", "entity_name": "alice", "key": "drink"},
        {},
        None,
    ),
    "scopes.list": ({}, {}, None),
    "scopes.register": ({}, {}, {"path": "team/b"}),
    "scopes.delete": ({}, {"path": "team/a"}, None),
    "scopes.forget": ({}, {}, {"path": "team/a"}),
    "scopes.grant": ({}, {}, {"subject": "alice"}),
    "principals.list": ({}, {}, None),
    "principals.get": ({"principal_id": PRINCIPAL_ID}, {}, None),
    "principals.effective": ({"principal_id": PRINCIPAL_ID}, {"path": "team/a"}, None),
    "principals.grant": (
        {"principal_id": PRINCIPAL_ID},
        {},
        {"path": "team/*", "verbs": ["memory:read"]},
    ),
    "principals.revoke": (
        {"principal_id": PRINCIPAL_ID},
        {},
        {"path": "*", "verbs": ["memory:read"]},
    ),
    "keys.list": ({}, {}, None),
    "keys.create": ({}, {}, {"name": "another"}),
    "keys.delete": ({"key_name": "seed"}, {}, None),
    "keys.rotate": ({"key_name": "seed"}, {}, None),
    "traces.list": ({}, {}, None),
    "traces.get": ({"trace_id": "{trace}"}, {}, None),
    "traces.stats": ({}, {}, None),
    "lifecycle.decay": ({}, {}, None),
    "lifecycle.expire": ({}, {}, None),
}

UPLOAD = [
    ("metadata", (None, b'{"title": "Kettles"}', "application/json")),
    ("file", ("kettle.txt", b"kettles boil water", "text/plain")),
]


@pytest.fixture
def seeded(fake: FakeSpectron, http: httpx.Client) -> dict[str, str]:
    """State in which every id the requests name exists."""
    triple = {"entity": {"type": "person", "name": "alice"}, "key": "drink", "value": "tea"}
    remembered = http.post(
        "/api/v1/ctx/facts",
        json={"text": "Alice likes tea", "triples": [triple], "scopes": [["team/a"]]},
        headers=HEADERS,
    ).json()
    http.post("/api/v1/ctx/scopes", json={"path": "team/a"}, headers=HEADERS)
    recalled = http.post("/api/v1/ctx/query", json={"query": "tea"}, headers=HEADERS).json()
    fake.add_key("ctx", "seed")
    return {
        "session": remembered["sessionId"],
        "trace": recalled["trace"]["traceId"],
        "document": fake.add_document("ctx", b"kettles boil water. " * 20, title="kettles"),
    }


def test_every_operation_has_a_handler_and_a_verb() -> None:
    """The handler table and the verb table cover the catalogue exactly."""
    assert set(HANDLERS) == set(CATALOGUE)
    assert set(OPERATION_GRANTS) == set(CATALOGUE)
    assert set(REQUESTS) == set(CATALOGUE)


def _filled(value: str, ids: dict[str, str]) -> str:
    return value.format(**ids)


def _send(name: str, seeded: dict[str, str], http: httpx.Client) -> httpx.Response:
    """The operation's smallest valid request (``REQUESTS``), sent to the fake."""
    operation = CATALOGUE[name]
    path_parameters, query, body = REQUESTS[name]
    url = operation.expand(
        context_id="ctx", **{key: _filled(value, seeded) for key, value in path_parameters.items()}
    )
    params = {key: _filled(value, seeded) for key, value in query.items()}
    if operation.body == "multipart":
        request = http.build_request(operation.method, url, files=UPLOAD, headers=HEADERS)
    else:
        content = None if body is None else json.dumps(body).encode()
        request = http.build_request(
            operation.method, url, params=params, content=content, headers=HEADERS
        )
    return http.send(request)


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_operation_answers_with_a_valid_body(
    name: str, seeded: dict[str, str], http: httpx.Client
) -> None:
    """The operation succeeds and its body validates against the catalogue's response type."""
    operation = CATALOGUE[name]

    answer = _send(name, seeded, http)

    if name == "scopes.grant":
        assert answer.status_code == 501
        return
    assert 200 <= answer.status_code < 300, answer.text
    if operation.response is None:
        assert answer.status_code in (200, 204)
        if answer.status_code == 204:
            assert answer.content == b""
    elif operation.response is bytes:
        assert answer.content == b"kettles boil water. " * 20
    else:
        pydantic.TypeAdapter(operation.response).validate_json(answer.content)
    assert answer.headers["x-trace-id"]


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_operation_answer_conforms_to_the_document(
    name: str, seeded: dict[str, str], http: httpx.Client, conformance: Conformance
) -> None:
    """The answer's status is one the document lists, its body valid against the schema there."""
    answer = _send(name, seeded, http)

    body = answer.json() if answer.headers.get("content-type") == "application/json" else None

    assert conformance(CATALOGUE[name], answer.status_code, body) == []


def test_health_needs_no_key(http: httpx.Client) -> None:
    """``health`` answers 200 ``{"status": "ok"}`` without any Authorization header."""
    answer = http.get("/api/v1/health")
    assert (answer.status_code, answer.json()) == (200, {"status": "ok"})


def test_answers_use_wire_names(http: httpx.Client) -> None:
    """Bodies carry the document's camelCase names, never the models' snake_case ones."""
    answer = http.post("/api/v1/ctx/facts", json={"text": "wire names"}, headers=HEADERS)
    assert {"sessionId", "turnId", "mode"} <= set(answer.json())
    assert "session_id" not in answer.text
