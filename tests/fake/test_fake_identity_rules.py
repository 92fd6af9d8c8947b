"""Keys, delegation and idempotent replays, held to Spectron's rules rather than kinder ones."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from pytest_spectron import FakeSpectron, Spectron, SpectronValidationError

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
    assert "year 9999" in answer.json()["message"]


def test_the_largest_ttl_is_accepted(client: Spectron, http: httpx.Client) -> None:
    """A key may live until the last second of the year 9999, and not one second more."""
    last = 251_635_075_199  # 9999-12-31T23:59:59Z, from the first request (at the epoch)

    minted = client.keys.create(name="long", ttl_seconds=last)
    beyond = http.post(
        "/api/v1/ctx/keys", params={"ttlSeconds": last}, headers=admin_headers(), json={}
    )

    assert minted.valid_until == "9999-12-31T23:59:59Z"
    assert beyond.status_code == 400
