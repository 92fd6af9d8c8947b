"""Keys, delegation and idempotent replays, held to Spectron's rules rather than kinder ones."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from pytest_spectron import FakeSpectron, Spectron, SpectronScopeError, SpectronValidationError

ClientWith = Callable[..., Spectron]


def admin_headers(**extra: str) -> dict[str, str]:
    """The headers of a request made with the fixtures' default key."""
    return {"authorization": "Bearer key", **extra}


# -- Keys ----------------------------------------------------------------------------------------


def test_minting_wider_grants_than_the_caller_is_a_400(
    fake: FakeSpectron, client: Spectron
) -> None:
    """A key asking for more than its caller holds is refused, never minted narrowed.

    The document (``MintKeyBody.grants``): "Every requested pattern must be ⊆ the caller's
    effective region for that verb (fail-closed); an out-of-range pattern returns 400."
    """
    fake.set_api_keys({"key": {"memory:read": ["team/a/*"]}})

    with pytest.raises(SpectronValidationError) as caught:
        client.keys.create(name="wide", grants={"memory:read": ["team/*"]})

    assert caught.value.status_code == 400
    assert "memory:read over 'team/*'" in caught.value.message
    assert caught.value.body["errors"][0]["field"] == "grants"
    assert fake.keys("ctx") == []


def test_minting_an_unknown_verb_is_a_400(client: Spectron) -> None:
    """A grant map naming a verb Spectron does not know is refused, naming the known ones.

    The document (``/keys`` POST): "400": "Invalid grants or attenuation widens".
    """
    with pytest.raises(SpectronValidationError, match="unknown verbs \\['memory:admin'\\]"):
        client.keys.create(name="odd", grants={"memory:admin": ["*"]})


def test_minting_narrower_grants_still_works(fake: FakeSpectron, client: Spectron) -> None:
    """A key within its caller's region is minted with exactly the grants asked for.

    The document (``create_self_key``): "The optional ``grants`` body only attenuates (never
    widens) the caller's effective grants."
    """
    fake.set_api_keys({"key": {"memory:read": ["team/*"], "memory:write": ["team/*"]}})

    client.keys.create(name="narrow", grants={"memory:read": ["team/a/*", "team/b"]})

    assert fake.keys("ctx")[0].holds == {"memory:read": ["team/a/*", "team/b"]}


def test_rotating_a_key_wider_than_the_caller_is_a_400(
    client: Spectron, client_with: ClientWith
) -> None:
    """A read-only key may not rotate a key that holds every grant; the old secret still works.

    The document (``MintKeyBody.grants``): "Every requested pattern must be ⊆ the caller's
    effective region for that verb (fail-closed)"; a rotation keeps the key's grants ("The id
    stays stable (preserving the principal binding and attenuating grants)").
    """
    everything = client.keys.create(name="ci")
    reader = client_with(client.keys.create(name="reader", grants={"memory:read": ["*"]}).key)

    with pytest.raises(SpectronValidationError, match="would hold more than its caller"):
        reader.keys.rotate("ci")

    assert client_with(everything.key).whoami().principal_id


@pytest.mark.parametrize("ttl", ["10000000000000", str(2**63), str(2**64 + 5)])
@pytest.mark.parametrize("path", ["/api/v1/ctx/keys", "/api/v1/ctx/keys/ci/rotate"])
def test_ttl_seconds_out_of_range_is_a_400_naming_it(
    client: Spectron, http: httpx.Client, path: str, ttl: str
) -> None:
    """A ``ttlSeconds`` whose expiry no date-time can hold is a 400 naming it, never a 500.

    The document (``ttlSeconds``): "Seconds until the minted/rotated key expires", an
    ``int64`` whose answer ``validUntil`` is a ``date-time``.
    """
    client.keys.create(name="ci")

    answer = http.post(path, params={"ttlSeconds": ttl}, headers=admin_headers(), json={})

    assert answer.status_code == 400
    assert answer.json()["errors"][0]["field"] == "ttlSeconds"
    # Beyond int64 the format refuses it first; within, the date-time's last year does.
    assert ("int64" if int(ttl) >= 2**63 else "year 9999") in answer.json()["message"]


def test_the_largest_ttl_is_accepted(client: Spectron, http: httpx.Client) -> None:
    """A key may live until the last second of the year 9999, and not one second more."""
    last = 251_635_075_199  # 9999-12-31T23:59:59Z, from the first request (at the epoch)

    minted = client.keys.create(name="long", ttl_seconds=last)
    beyond = http.post(
        "/api/v1/ctx/keys", params={"ttlSeconds": last}, headers=admin_headers(), json={}
    )

    assert minted.valid_until == "9999-12-31T23:59:59Z"
    assert beyond.status_code == 400


# -- Delegation ----------------------------------------------------------------------------------

MANAGER = {"memory:read": ["*"], "memory:write": ["*"], "grant:manage": ["*"]}


def test_delegation_runs_with_the_targets_grants_narrowed_by_the_key(
    fake: FakeSpectron, client: Spectron
) -> None:
    """On behalf of bot-7, a call reads only bot-7's region and may not write as bot-7 can't.

    The document (``WhoamiJson.effectiveGrants``): "Effective per-verb grants after attenuation
    + delegation. This is what gates every read/write".
    """
    fake.set_api_keys({"key": MANAGER})
    fake.add_principal("ctx", "bot-7", {"memory:read": ["team/a/*"]})
    client.remember("the team a budget is fixed", scopes="team/a")
    client.remember("the team b budget is open", scopes="team/b")

    hits = client.recall("budget", on_behalf_of="bot-7").hits
    me = client.whoami(on_behalf_of="bot-7")

    assert [hit.text for hit in hits] == ["the team a budget is fixed"]
    assert (me.delegated_principal_id, me.effective_grants) == (
        "bot-7",
        {"memory:read": ["team/a/*"]},
    )
    assert client.principals.effective("bot-7", "team/a").verbs == ["memory:read"]
    with pytest.raises(SpectronScopeError, match="'bot-7' lacks the 'memory:write' grant"):
        client.remember("written as bot-7", on_behalf_of="bot-7")


def test_delegation_never_widens_the_key(fake: FakeSpectron, client: Spectron) -> None:
    """A key confined to team/a acting for a principal holding everything keeps to team/a.

    The document (``WhoamiJson.effectiveGrants``): "Effective per-verb grants after attenuation
    + delegation".
    """
    fake.set_api_keys({"key": {"memory:read": ["team/a/*"], "grant:manage": ["*"]}})
    fake.add_principal("ctx", "root-bot", {"memory:read": ["*"], "memory:write": ["*"]})

    me = client.whoami(on_behalf_of="root-bot")

    assert me.effective_grants == {"memory:read": ["team/a/*"]}


def test_delegating_to_an_unknown_principal_is_a_403(fake: FakeSpectron, client: Spectron) -> None:
    """A principal not in the context's directory cannot be acted for: never the key's grants.

    The document (``WhoamiJson.delegatedPrincipalId``): "When the token is delegating
    (``X-Spectron-On-Behalf-Of``), the target principal id"; the SDKs' errors guide: a 403 is a
    "Scope or principal denial".
    """
    with pytest.raises(SpectronScopeError, match="no such principal") as caught:
        client.state(on_behalf_of="nobody")

    assert "nobody" in caught.value.message


@pytest.mark.parametrize(
    "header", ["X-Spectron-On-Behalf-Of", "X-Memory-On-Behalf-Of", "X-Agent-Memory-On-Behalf-Of"]
)
def test_every_delegation_header_spelling_delegates(
    fake: FakeSpectron, http: httpx.Client, header: str
) -> None:
    """Each spelling the SDKs have sent delegates the call.

    The document's header is ``X-Spectron-On-Behalf-Of``; the official Python SDK
    (``surrealdb_memory/_transport.py``): "Build the optional ``X-Memory-On-Behalf-Of``
    delegation header."
    """
    fake.add_principal("ctx", "bot-7", {"memory:read": ["team/*"]})

    answer = http.get("/api/v1/ctx/me", headers=admin_headers(**{header: "bot-7"}))

    assert answer.json()["delegatedPrincipalId"] == "bot-7"
    assert answer.json()["effectiveGrants"] == {"memory:read": ["team/*"]}


@pytest.mark.parametrize("verb", ["grant", "revoke"])
def test_grants_on_the_system_principal_are_a_403(client: Spectron, verb: str) -> None:
    """The ``system`` principal's grants never change.

    The document (``principals.grant``, ``principals.revoke``): "403": "Caller lacks
    ``grant:manage`` over the region, or the target is the immutable ``system`` principal".
    """
    change = getattr(client.principals, verb)

    with pytest.raises(SpectronScopeError, match="'system' principal is immutable"):
        change("system", "team/*", ["memory:read"])


# -- Idempotency ---------------------------------------------------------------------------------


def remember_with_key(http: httpx.Client, text: str, **headers: str) -> httpx.Response:
    """``remember`` with ``Idempotency-Key: key-1`` and any further headers."""
    return http.post(
        "/api/v1/ctx/facts",
        json={"text": text},
        headers=admin_headers(**{"Idempotency-Key": "key-1", **headers}),
    )


def test_a_reused_idempotency_key_with_another_body_is_a_409(
    fake: FakeSpectron, http: httpx.Client
) -> None:
    """The same key with a different body is refused, never answered with the first reply.

    The document (``remember``, ``remember_many``): "409": "Idempotency-Key reused with a
    different body".
    """
    first = remember_with_key(http, "the office opens at 9")
    again = remember_with_key(http, "the office opens at 9")
    other = remember_with_key(http, "the office opens at 10")

    assert (first.status_code, again.status_code, other.status_code) == (200, 200, 409)
    assert again.json() == first.json()
    assert "different body" in other.json()["message"]
    assert [fact.text for fact in fake.facts("ctx")] == ["the office opens at 9"]


def test_idempotent_replays_are_kept_per_principal(fake: FakeSpectron, http: httpx.Client) -> None:
    """One key and body sent for two principals stores twice: a replay never crosses principals.

    The document (``remember``): "409": "Idempotency-Key reused with a different body"; a replay
    stands for one caller's request, so it is keyed by the principal the call acts for.
    """
    for principal in ("bot-1", "bot-2"):
        fake.add_principal("ctx", principal, {"memory:write": ["*"]})

    answers = [
        remember_with_key(http, "shared text", **{"X-Spectron-On-Behalf-Of": principal})
        for principal in ("bot-1", "bot-2", "bot-1")
    ]

    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert answers[2].json() == answers[0].json() != answers[1].json()
    assert len(fake.facts("ctx")) == 2
