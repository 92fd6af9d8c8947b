"""Bad requests: 400 for request validation, 404, 405, 415, and 422 for a bad context id."""

from __future__ import annotations

import httpx
import pytest

from pytest_spectron import FakeSpectron, Spectron, SpectronNotFoundError, SpectronValidationError
from pytest_spectron.testing.fake import PRINCIPAL_ID

AUTH = {"authorization": "Bearer key"}


def test_bad_body_is_a_400_listing_each_field(http: httpx.Client) -> None:
    """A body failing the request model names every failing field (an unknown one is ignored)."""
    answer = http.post("/api/v1/ctx/query", json={"k": "many", "extra": 1}, headers=AUTH)

    errors = answer.json()["errors"]

    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/json"
    assert sorted(error["field"] for error in errors) == ["k", "query"]
    assert all(error["message"] for error in errors)


def test_nested_field_names_use_dotted_paths(http: httpx.Client) -> None:
    """A failing field inside a list is named by its path, in wire names."""
    body = {"messages": [{"role": "robot", "content": "hi"}]}

    answer = http.post("/api/v1/ctx/facts/batch", json=body, headers=AUTH)

    assert [error["field"] for error in answer.json()["errors"]] == ["messages.0.role"]


def test_body_that_is_not_json_is_a_400(http: httpx.Client, fake: FakeSpectron) -> None:
    """A body that does not parse is refused before anything is stored."""
    answer = http.post("/api/v1/ctx/facts", content=b"{not json", headers=AUTH)

    assert answer.status_code == 400
    assert "not JSON" in answer.json()["detail"]
    assert fake.facts("ctx") == []


def test_fact_without_text_or_triples_is_a_400(http: httpx.Client) -> None:
    """An empty fact names the missing ``text`` field."""
    answer = http.post("/api/v1/ctx/facts", json={}, headers=AUTH)

    assert answer.status_code == 400
    assert [error["field"] for error in answer.json()["errors"]] == ["text"]


@pytest.mark.parametrize("query", ["page=zero", "page=-1", "pageSize=-1"])
def test_bad_query_parameter_is_a_400(http: httpx.Client, query: str) -> None:
    """A query parameter that is not a valid value names the parameter."""
    answer = http.get(f"/api/v1/ctx/documents?{query}", headers=AUTH)

    assert answer.status_code == 400
    assert answer.json()["errors"][0]["field"] == query.partition("=")[0]


def test_invalid_page_through_the_client_is_a_validation_error(client: Spectron) -> None:
    """The typed client raises its validation error for the 400."""
    with pytest.raises(SpectronValidationError):
        client.documents.list(page=-1)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/ctx/documents/doc-999999",
        "/api/v1/ctx/sessions/sess-999999/turns",
        "/api/v1/ctx/traces/trc-999999",
        "/api/v1/ctx/entities/person/nobody",
        "/api/v1/ctx/documents/keywords/nothing",
        "/api/v1/ctx/principals/nobody",
    ],
)
def test_unknown_ids_are_404_problems(http: httpx.Client, path: str) -> None:
    """Every lookup of an id that does not exist answers a 404 problem for that path."""
    answer = http.get(path, headers=AUTH)

    assert answer.status_code == 404
    assert answer.json()["instance"] == path


def test_unknown_key_rotation_is_a_404(client: Spectron) -> None:
    """Rotating a key that was never minted is a 404."""
    with pytest.raises(SpectronNotFoundError):
        client.keys.rotate("missing")


def test_unknown_path_is_a_404_naming_the_nearest(http: httpx.Client) -> None:
    """``not_routed_response`` answers an unknown path with the nearest operations."""
    answer = http.get("/api/v1/ctx/stat", headers=AUTH)

    assert answer.status_code == 404
    assert "state" in answer.json()["nearest"]
    assert answer.headers["x-trace-id"]


def test_wrong_method_is_a_405_with_allow(http: httpx.Client) -> None:
    """``not_routed_response`` answers a wrong method with 405 and an ``Allow`` header."""
    answer = http.delete("/api/v1/ctx/state", headers=AUTH)

    assert (answer.status_code, answer.headers["allow"]) == (405, "GET")
    assert answer.headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("GET", "/documents/query", "POST"),
        ("GET", "/documents/recompute-links", "POST"),
        ("PUT", "/documents/keywords", "GET"),
        ("DELETE", "/traces/stats", "GET"),
        ("POST", "/documents/doc-1", "DELETE, GET, PUT"),
    ],
)
def test_a_path_of_another_method_is_a_405_with_its_own_allow(
    http: httpx.Client, method: str, path: str, allow: str
) -> None:
    """A document path asked with another method is a 405 naming that path's methods only.

    ``/documents/query`` is a path of the document (POST), not document ``query``: RFC 9110
    15.5.6, "The origin server MUST generate an Allow header field in a 405 response containing
    a list of the target resource's currently supported methods."
    """
    answer = http.request(method, f"/api/v1/ctx{path}", headers=AUTH)

    assert (answer.status_code, answer.headers["allow"]) == (405, allow)


@pytest.mark.parametrize(
    "as_of", ["yesterday", "2026-01-01", "2026-01-01T00:00:00", "2026-13-01T00:00:00Z"]
)
def test_effective_grants_refuse_an_as_of_that_is_no_date_time(
    http: httpx.Client, as_of: str
) -> None:
    """``principals.effective?asOf=`` must be an RFC 3339 instant: a 400 naming it otherwise.

    The document: "asOf: RFC 3339 instant: resolve against grant history at that time instead of
    current grants", echoed in ``EffectiveGrantsJson.asOf`` (``format: date-time``).
    """
    answer = http.get(
        f"/api/v1/ctx/principals/{PRINCIPAL_ID}/effective",
        params={"path": "team/a", "asOf": as_of},
        headers=AUTH,
    )

    assert answer.status_code == 400
    assert answer.json()["errors"][0]["field"] == "asOf"


def test_effective_grants_echo_an_rfc3339_as_of(client: Spectron) -> None:
    """A valid ``asOf`` is echoed as given."""
    client.whoami()
    effective = client.principals.effective(PRINCIPAL_ID, "team/a", as_of="2026-01-01T00:00:00Z")

    assert effective.as_of == "2026-01-01T00:00:00Z"


def test_malformed_inspect_ref_is_a_400(http: httpx.Client) -> None:
    """A ref that fits none of the document's forms is a 400 listing the grammar."""
    answer = http.get("/api/v1/ctx/inspect", params={"ref": "entity:nobody"}, headers=AUTH)

    assert answer.status_code == 400
    assert "attribute:<type>/<name>/<key>" in answer.json()["detail"]


def test_missing_required_query_parameter_is_a_400(http: httpx.Client) -> None:
    """``inspect`` without ``ref`` names the parameter."""
    answer = http.get("/api/v1/ctx/inspect", headers=AUTH)

    assert (answer.status_code, answer.json()["errors"][0]["field"]) == (400, "ref")


@pytest.mark.parametrize(
    "context", ["no%20spaces", "a%2Fb", "-leading-dash", "x" * 129, "caf%C3%A9", "%2E%2E"]
)
def test_invalid_context_id_is_a_422(http: httpx.Client, fake: FakeSpectron, context: str) -> None:
    """A context id outside the fake's pattern gets the document's 422, and no state."""
    answer = http.get(f"/api/v1/{context}/state", headers=AUTH)

    assert answer.status_code == 422
    assert "invalid context id" in answer.json()["message"]
    assert fake.contexts() == []


@pytest.mark.parametrize("context", ["acme-prod", "Team.notes_2", "7", "x" * 128])
def test_valid_context_ids_are_served(http: httpx.Client, context: str) -> None:
    """Letters, digits, ``.``, ``_`` and ``-``, up to 128, starting alphanumeric, are served."""
    assert http.get(f"/api/v1/{context}/state", headers=AUTH).status_code == 200


@pytest.mark.parametrize(
    "listing",
    [
        "documents?page=0&pageSize=0",
        "documents/{document}/chunks?page=0&pageSize=0",
        "documents/keywords?page=0&pageSize=0",
        "traces?limit=0",
        "audit?limit=0",
        "entities?limit=0&offset=0",
        "sessions/{session}/turns?limit=0&offset=0",
    ],
)
def test_zero_pages_and_limits_are_accepted(
    http: httpx.Client, fake: FakeSpectron, listing: str
) -> None:
    """``page=0``, ``pageSize=0`` and ``limit=0`` pass, as the document's ``minimum: 0`` says."""
    fake.add_fact("ctx", "a fact in a session")
    ids = {"document": fake.add_document("ctx", b"text"), "session": fake.sessions("ctx")[0].id}

    answer = http.get(f"/api/v1/ctx/{listing.format(**ids)}", headers=AUTH)

    assert answer.status_code == 200, answer.text


def test_page_size_zero_is_an_empty_page_with_the_total(
    client: Spectron, fake: FakeSpectron
) -> None:
    """``pageSize=0`` lists nothing and still counts every document."""
    fake.add_document("ctx", b"one")

    page = client.documents.list(page=0, page_size=0)

    assert (page.documents, page.total) == ([], 1)


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/documents", {"pageSize": "2147483648"}),
        ("/entities", {"offset": "2147483648"}),
        ("/traces", {"limit": "99999999999"}),
        ("/documents/keywords", {"minDocumentCount": "9223372036854775808"}),
    ],
)
def test_an_integer_beyond_its_format_is_a_400(
    http: httpx.Client, path: str, query: dict[str, str]
) -> None:
    """A query integer beyond the document's ``format: int32`` (or ``int64``) is refused, not
    capped: it is no such integer."""
    answer = http.get(f"/api/v1/ctx{path}", params=query, headers=AUTH)

    assert answer.status_code == 400
    assert answer.json()["errors"][0]["field"] == next(iter(query))


def test_a_key_ttl_beyond_int64_is_a_400_not_a_server_error(http: httpx.Client) -> None:
    """``keys.create?ttlSeconds=`` is ``format: int64``: a larger number, or one whose expiry no
    date can hold, is a 400 naming it."""
    for ttl in (2**63, 2**63 - 2):
        answer = http.post(
            "/api/v1/ctx/keys", params={"ttlSeconds": str(ttl)}, json={"name": "k"}, headers=AUTH
        )

        assert (answer.status_code, answer.json()["errors"][0]["field"]) == (400, "ttlSeconds")
