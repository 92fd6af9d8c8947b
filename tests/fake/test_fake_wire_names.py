"""Bodies are read as Spectron reads them: the document's names and types, nothing looser."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from pytest_spectron import FakeSpectron
from pytest_spectron.testing.http._exchange import ServiceRequest
from pytest_spectron.testing.http._routing import route

AUTH = {"authorization": "Bearer key"}


def test_a_snake_case_dry_run_is_no_dry_run(fake: FakeSpectron, http: httpx.Client) -> None:
    """``{"dry_run": true}`` names no field of ``forget``: the facts are deleted, as in production.

    The document (``ForgetRequestJson.dryRun``): "When omitted or ``false``, matching memories
    are soft-deleted immediately."
    """
    fake.add_fact("ctx", "the vpn password rotates monthly")

    answer = http.post("/api/v1/ctx/forget", json={"query": "vpn", "dry_run": True}, headers=AUTH)

    assert (answer.status_code, answer.json()) == (200, {"deleted": 1})
    assert fake.facts("ctx") == []


def test_a_camel_case_dry_run_only_counts(fake: FakeSpectron, http: httpx.Client) -> None:
    """``{"dryRun": true}``, the document's name, counts and deletes nothing.

    The document (``ForgetRequestJson.dryRun``): "When ``true``, the handler computes and
    returns the would-be deletion count (``deleted``) without writing anything".
    """
    fake.add_fact("ctx", "the vpn password rotates monthly")

    answer = http.post("/api/v1/ctx/forget", json={"query": "vpn", "dryRun": True}, headers=AUTH)

    assert answer.json() == {"deleted": 1}
    assert len(fake.facts("ctx")) == 1


def test_a_snake_case_session_id_in_chat_is_ignored(http: httpx.Client) -> None:
    """``chat`` reads ``sessionId``: ``session_id`` naming no session opens a new one, no 400.

    The document (``ChatRequestJson``) names the field ``sessionId``; its schemas do not forbid
    other properties, so an unknown one is ignored.
    """
    answer = http.post(
        "/api/v1/ctx/chat", json={"message": "hi", "session_id": "sess-nowhere"}, headers=AUTH
    )

    assert answer.status_code == 200
    assert answer.json()["sessionId"] != "sess-nowhere"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"query": "x", "k": "5"}, "k"),
        ({"query": "x", "k": True}, "k"),
        ({"query": "x", "k": 5.0}, "k"),
        ({"query": "x", "includeDuplicates": "true"}, "includeDuplicates"),
        ({"query": 5}, "query"),
    ],
)
def test_a_value_of_another_type_is_a_400_naming_the_field(
    http: httpx.Client, body: dict[str, Any], field: str
) -> None:
    """``"5"``, ``true`` or ``5.0`` for an integer is refused, never coerced.

    The document (``QueryMemoryRequestJson.k``): ``{"type": ["integer", "null"], "format":
    "int32"}``, a JSON integer.
    """
    answer = http.post("/api/v1/ctx/query", json=body, headers=AUTH)

    assert answer.status_code == 400
    assert [error["field"] for error in answer.json()["errors"]] == [field]


def test_null_where_the_document_forbids_it_is_a_400(http: httpx.Client) -> None:
    """``{"dryRun": null}`` is refused: the document types ``dryRun`` as a boolean, not null.

    The document (``ForgetRequestJson.dryRun``): ``{"type": "boolean"}``.
    """
    answer = http.post("/api/v1/ctx/forget", json={"query": "x", "dryRun": None}, headers=AUTH)

    assert answer.status_code == 400
    assert answer.json()["errors"] == [{"field": "dryRun", "message": "may not be null"}]


def test_null_where_the_document_allows_it_is_accepted(http: httpx.Client) -> None:
    """``{"session_id": null}`` on ``remember`` is fine: the document types it string or null.

    The document (``FactsRequestJson.session_id``): ``{"type": ["string", "null"]}``.
    """
    answer = http.post(
        "/api/v1/ctx/facts", json={"text": "hello", "session_id": None}, headers=AUTH
    )

    assert answer.status_code == 200


def test_each_unknown_field_is_noted_on_the_answer(fake: FakeSpectron) -> None:
    """The answer carries a note per unknown field, nested ones by their dotted path."""
    body = {
        "text": "alice drinks tea",
        "triples": [{"entity": {"type": "person", "name": "alice"}, "key": "drinks", "x": 1}],
        "sessionId": "sess-1",
    }
    request = ServiceRequest(
        "POST", "/api/v1/ctx/facts", headers=AUTH, body=json.dumps(body).encode()
    )

    answer = fake.handle(route("POST", "/api/v1/ctx/facts"), request)

    assert answer.status == 200
    assert answer.notes == (
        "unknown field 'triples.0.x' ignored by Spectron",
        "unknown field 'sessionId' ignored by Spectron",
    )


def test_a_flat_lens_is_a_400(http: httpx.Client) -> None:
    """The document types ``lens`` as ``ScopeSets``: "an array of clauses", each an array of paths.

    The client accepts a flat list from Python and sends the document's form; Spectron reads
    only that form, so a flat list on the wire is refused.
    """
    answer = http.post(
        "/api/v1/ctx/context", json={"query": "tea", "lens": ["team/a"]}, headers=AUTH
    )
    assert answer.status_code == 400
    assert "list of clauses" in answer.text
    clauses = {"query": "tea", "lens": [["team/a"]]}
    assert http.post("/api/v1/ctx/context", json=clauses, headers=AUTH).status_code == 200


@pytest.mark.parametrize("k", [2**31, -(2**31) - 1])
def test_an_integer_beyond_its_int32_format_is_a_400(http: httpx.Client, k: int) -> None:
    """``k`` is ``"type": "integer", "format": "int32"``: 2**31 is no int32, so no ``k``."""
    answer = http.post("/api/v1/ctx/documents/query", json={"query": "x", "k": k}, headers=AUTH)
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["field"] == "k"
