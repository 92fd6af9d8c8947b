"""Keys, grants, scopes and principals: who may call what, and the keys the fake mints."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from pytest_spectron import (
    FakeSpectron,
    Spectron,
    SpectronAuthError,
    SpectronNotFoundError,
    SpectronScopeError,
    SpectronServerError,
)
from pytest_spectron.testing.fake import PRINCIPAL_ID

ClientWith = Callable[..., Spectron]


def test_missing_key_is_a_401_problem(http: httpx.Client) -> None:
    """No bearer token: 401 in the document's JSON format, its trace id the x-trace-id header."""
    answer = http.get("/api/v1/ctx/state")

    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/json"
    assert answer.json()["traceId"] == answer.headers["x-trace-id"]
    assert answer.json()["instance"] == "/api/v1/ctx/state"


@pytest.mark.parametrize("authorization", ["Bearer ", "Basic a2V5", "key"])
def test_empty_or_non_bearer_authorization_is_a_401(http: httpx.Client, authorization: str) -> None:
    """Only ``Bearer <non-empty key>`` authenticates."""
    assert (
        http.get("/api/v1/ctx/state", headers={"authorization": authorization}).status_code == 401
    )


def test_any_key_is_accepted_by_default(client_with: ClientWith) -> None:
    """Until ``set_api_keys``, any non-empty key may do anything."""
    assert client_with("whatever-key").forget("nothing").deleted == 0


def test_unknown_key_is_a_401_once_keys_are_set(
    fake: FakeSpectron, client_with: ClientWith
) -> None:
    """With configured keys, any other key is refused, and the message never echoes it."""
    fake.set_api_keys({"good": None})

    client_with("good").state()
    with pytest.raises(SpectronAuthError) as caught:
        client_with("s3cret-guess").state()
    assert "s3cret-guess" not in str(caught.value)


def test_key_without_the_verb_is_a_403(fake: FakeSpectron, client: Spectron) -> None:
    """A key that may read but not forget gets 403 from ``forget``, naming the verb."""
    fake.set_api_keys({"key": {"memory:read": ["*"]}})

    client.state()
    with pytest.raises(SpectronScopeError, match="memory:forget"):
        client.forget("anything")


def test_grants_are_checked_per_scope(fake: FakeSpectron, client: Spectron) -> None:
    """A key may write under the scopes its grant covers, and only there."""
    fake.set_api_keys({"key": {"memory:write": ["team/a/*"], "memory:read": ["*"]}})

    client.remember("allowed", scopes="team/a/notes")
    with pytest.raises(SpectronScopeError, match="does not cover scope 'team/b'"):
        client.remember("denied", scopes="team/b")
    assert [fact.text for fact in fake.facts("ctx")] == ["allowed"]


def test_minted_secret_is_shown_once(client: Spectron) -> None:
    """``keys.create`` answers 201 with the secret; ``keys.list`` never shows it."""
    minted = client.keys.create(name="ci")
    listed = client.keys.list()

    assert minted.key.startswith(f"sp-{minted.id}-")
    assert [(key.id, key.name) for key in listed] == [(minted.id, "ci")]
    assert minted.key not in repr(listed)


def test_minted_key_authenticates(
    fake: FakeSpectron, client: Spectron, client_with: ClientWith
) -> None:
    """A minted secret is a valid key even where only configured keys are accepted."""
    minted = client.keys.create(name="ci")
    fake.set_api_keys({"key": None})

    assert client_with(minted.key).whoami().principal_id == PRINCIPAL_ID
    assert client.keys.list()[0].last_used_at is not None


def test_minted_key_grants_only_attenuate(client: Spectron, client_with: ClientWith) -> None:
    """A key minted with read-only grants cannot write."""
    minted = client.keys.create(name="reader", grants={"memory:read": ["*"]})
    reader = client_with(minted.key)

    reader.state()
    with pytest.raises(SpectronScopeError):
        reader.remember("nope")
    assert reader.whoami().token_grants == {"memory:read": ["*"]}


def test_rotation_replaces_the_secret(client: Spectron, client_with: ClientWith) -> None:
    """After ``rotate`` the old secret is refused, even by a fake accepting any key."""
    old = client.keys.create(name="ci")
    new = client.keys.rotate("ci")

    assert (new.id, new.key != old.key) == (old.id, True)
    client_with(new.key).state()
    with pytest.raises(SpectronAuthError, match="rotated or deleted"):
        client_with(old.key).state()


def test_deleted_key_stops_working(client: Spectron, client_with: ClientWith) -> None:
    """``keys.delete`` answers 204; the secret is refused from then on; a second delete 404s."""
    minted = client.keys.create(name="ci")

    client.keys.delete("ci")

    with pytest.raises(SpectronAuthError):
        client_with(minted.key).state()
    with pytest.raises(SpectronNotFoundError):
        client.keys.delete("ci")


def test_minted_key_belongs_to_its_context(fake: FakeSpectron, client_with: ClientWith) -> None:
    """A key minted in one context is refused in another."""
    secret = fake.add_key("ctx", "seeded")

    client_with(secret).state()
    with pytest.raises(SpectronAuthError, match="another context"):
        client_with(secret, "other").state()


def test_key_with_a_ttl_expires_on_the_virtual_clock(client_with: ClientWith) -> None:
    """``ttlSeconds`` sets ``validUntil``; past it the key is refused (one request = 1 s here)."""
    minted = client_with("admin").keys.create(name="short", ttl_seconds=2)
    short = client_with(minted.key)

    assert minted.valid_until == "2026-01-01T00:00:02Z"
    short.state()
    with pytest.raises(SpectronAuthError, match="expired"):
        short.state()


def test_duplicate_key_name_is_a_409(client: Spectron) -> None:
    """Key names are unique within a context."""
    client.keys.create(name="ci")

    with pytest.raises(Exception, match="already exists") as caught:
        client.keys.create(name="ci")
    assert getattr(caught.value, "status_code", None) == 409


def test_whoami_reports_grants_and_delegation(fake: FakeSpectron, client: Spectron) -> None:
    """``whoami`` shows the key's effective grants, and when delegating the principal's."""
    grants = {"memory:read": ["team/*"], "grant:manage": ["*"]}
    fake.set_api_keys({"key": grants})
    fake.add_principal("ctx", "bot-7", {"memory:read": ["team/a/*"]})

    me = client.whoami()
    delegated = client.whoami(on_behalf_of="bot-7")

    assert (me.effective_grants, me.delegated_principal_id) == (grants, None)
    assert delegated.effective_grants == {"memory:read": ["team/a/*"]}
    assert delegated.delegated_principal_id == "bot-7"


def test_scopes_register_with_their_ancestors(client: Spectron) -> None:
    """Registering ``org/apple/ipad`` answers 201 and brings ``org/`` and ``org/apple/`` too."""
    node = client.scopes.register("org/apple/ipad")

    assert node.path == "org/apple/ipad/"
    assert [scope.path for scope in client.scopes.list()] == [
        "org/",
        "org/apple/",
        "org/apple/ipad/",
    ]


def test_deleted_scope_is_tombstoned(client: Spectron) -> None:
    """``scopes.delete`` answers 204 and the node stays listed with ``tombstonedAt``."""
    client.scopes.register("team/a")

    client.scopes.delete("team/a")

    assert [(s.path, s.tombstoned_at is not None) for s in client.scopes.list()] == [
        ("team/", False),
        ("team/a/", True),
    ]


def test_deleting_an_unregistered_scope_is_a_204(http: httpx.Client) -> None:
    """An unknown scope path answers 204, as the document lists no 404 for ``scopes.delete``."""
    answer = http.delete(
        "/api/v1/ctx/scopes",
        params={"path": "never/registered"},
        headers={"authorization": "Bearer key"},
    )

    assert answer.status_code == 204


def test_scope_forget_erases_the_subtree(client: Spectron, fake: FakeSpectron) -> None:
    """``scopes.forget`` erases facts and documents tagged under the subtree, and counts them."""
    client.remember("team a note", scopes="team/a/notes")
    client.remember("team b note", scopes="team/b")
    client.documents.upload(b"team a doc", filename="a.txt", scopes="team/a")

    assert client.scopes.forget("team/a").forgotten == 2
    assert [fact.text for fact in fake.facts("ctx", include_forgotten=True)] == ["team b note"]
    assert fake.documents("ctx") == []


def test_scope_grants_is_not_implemented(client: Spectron) -> None:
    """``scope-grants`` answers 501, as Spectron's document says."""
    with pytest.raises(SpectronServerError) as caught:
        client.scopes.grant(subject="alice")
    assert caught.value.status_code == 501


def test_principal_grants_add_up_and_revoke(fake: FakeSpectron, client: Spectron) -> None:
    """Grants add patterns per verb; effective verbs follow them; revoke takes them back."""
    fake.add_principal("ctx", "bot-7")

    client.principals.grant("bot-7", "team/*", ["memory:read", "memory:write"])
    assert client.principals.effective("bot-7", "team/a").verbs == ["memory:read", "memory:write"]
    client.principals.revoke("bot-7", "team/*", ["memory:write"])

    assert client.principals.get("bot-7").grants == {"memory:read": ["team/*"]}
    assert [p.id for p in client.principals.list()] == sorted([PRINCIPAL_ID, "bot-7"])


def test_unknown_principal_is_a_404(client: Spectron) -> None:
    """A principal not in the directory is a 404."""
    with pytest.raises(SpectronNotFoundError):
        client.principals.get("nobody")


def test_principals_need_grant_manage(fake: FakeSpectron, client: Spectron) -> None:
    """Reading the principal directory needs ``grant:manage``, as the document says."""
    fake.set_api_keys({"key": {"memory:read": ["*"], "scope:read": ["*"]}})

    with pytest.raises(SpectronScopeError, match="grant:manage"):
        client.principals.list()


def test_forbidden_is_a_403_problem_with_a_trace_id(fake: FakeSpectron, http: httpx.Client) -> None:
    """A key lacking the verb gets a 403 error carrying the x-trace-id."""
    fake.set_api_keys({"reader": {"memory:read": ["*"]}})

    answer = http.post(
        "/api/v1/ctx/forget", json={"query": "x"}, headers={"authorization": "Bearer reader"}
    )

    assert answer.status_code == 403
    assert answer.json()["traceId"] == answer.headers["x-trace-id"]


def test_mint_key_with_a_null_body(http: httpx.Client) -> None:
    """``keys.create`` takes a JSON ``null`` body, as the document's ``oneOf`` allows."""
    answer = http.post(
        "/api/v1/ctx/keys",
        content=b"null",
        headers={"authorization": "Bearer key", "content-type": "application/json"},
    )

    assert answer.status_code == 201


def test_forget_scope_without_a_path_is_a_400(http: httpx.Client) -> None:
    """``scopes.forget`` with ``{}`` is the document's 400 "Missing or invalid scope path"."""
    answer = http.post(
        "/api/v1/ctx/scopes/forget", json={}, headers={"authorization": "Bearer key"}
    )

    assert (answer.status_code, answer.json()["errors"][0]["field"]) == (400, "path")


def test_official_sdk_delegation_header_is_honoured(fake: FakeSpectron, http: httpx.Client) -> None:
    """``X-Memory-On-Behalf-Of``, as the official Python SDK sends it, delegates the call."""
    fake.add_principal("ctx", "bot-7")
    answer = http.get(
        "/api/v1/ctx/me",
        headers={"authorization": "Bearer key", "X-Memory-On-Behalf-Of": "bot-7"},
    )

    assert answer.json()["delegatedPrincipalId"] == "bot-7"


def test_delegation_strips_the_principal_prefix(fake: FakeSpectron, http: httpx.Client) -> None:
    """``principal:bot-7`` and ``bot-7`` name the same principal, as Spectron reads them."""
    fake.add_principal("ctx", "bot-7")
    answer = http.get(
        "/api/v1/ctx/me",
        headers={"authorization": "Bearer key", "X-Spectron-On-Behalf-Of": "principal:bot-7"},
    )

    assert answer.json()["delegatedPrincipalId"] == "bot-7"


def test_delegation_without_grant_manage_is_a_403(fake: FakeSpectron, client: Spectron) -> None:
    """A key without ``grant:manage`` may not act on behalf of another principal."""
    fake.set_api_keys({"key": {"memory:read": ["*"]}})

    with pytest.raises(SpectronScopeError, match="grant:manage"):
        client.state(on_behalf_of="bot-7")


def test_conflicting_delegation_headers_are_a_400(http: httpx.Client) -> None:
    """Both delegation headers naming different principals is refused, naming both."""
    answer = http.get(
        "/api/v1/ctx/me",
        headers={
            "authorization": "Bearer key",
            "X-Spectron-On-Behalf-Of": "bot-1",
            "X-Memory-On-Behalf-Of": "bot-2",
        },
    )

    assert answer.status_code == 400
    assert "'bot-1', 'bot-2'" in answer.json()["message"]
