"""Who is calling and what they may do: bearer keys, grants, and the verb each operation needs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pytest_spectron.client._wire import ON_BEHALF_OF_HEADER
from pytest_spectron.testing.fake._scoping import covers, pattern_covers
from pytest_spectron.testing.fake._store import Grants, Scopes

__all__ = [
    "ALL_GRANTS",
    "DELEGATION_HEADERS",
    "OPERATION_GRANTS",
    "PRINCIPAL_ID",
    "SYSTEM_PRINCIPAL",
    "Caller",
    "all_grants",
    "bearer_key",
    "copy_grants",
    "filed_region",
    "grant_covers",
    "narrow",
    "region_verb",
    "widening",
    "write_region",
]

ALL_GRANTS: tuple[str, ...] = (
    "memory:read",
    "memory:write",
    "memory:forget",
    "scope:read",
    "scope:create",
    "scope:delete",
    "grant:manage",
)
"""Every grant verb Spectron knows."""

DELEGATION_HEADERS: tuple[str, ...] = (
    ON_BEHALF_OF_HEADER,
    "X-Memory-On-Behalf-Of",
    "X-Agent-Memory-On-Behalf-Of",
)
"""Where a call names the principal it acts for: the document's header, the one the official
Python SDK sends, and the one earlier SDKs sent."""

SYSTEM_PRINCIPAL = "system"
"""The principal the document calls immutable: its grants never change (403)."""

PRINCIPAL_ID = "user-1"
"""The principal every accepted key acts as."""

_READ, _WRITE, _FORGET, _MANAGE = "memory:read", "memory:write", "memory:forget", "grant:manage"
OPERATION_GRANTS: dict[str, str | None] = {
    "remember": _WRITE,
    "remember_many": _WRITE,
    "recall": _READ,
    "forget": _FORGET,
    "chat": _WRITE,
    "consolidate": _WRITE,
    "reflect": _READ,
    "elaborate": _WRITE,
    "query_context": _READ,
    "fsck": _READ,
    "inspect": _READ,
    "state": _READ,
    "whoami": None,
    "profile": _READ,
    "audit": _READ,
    "health": None,
    "documents.upload": _WRITE,
    "documents.list": _READ,
    "documents.get": _READ,
    "documents.reprocess": _WRITE,
    "documents.delete": _FORGET,
    "documents.fetch_raw": _READ,
    "documents.chunks": _READ,
    "documents.document_keywords": _READ,
    "documents.query": _READ,
    "documents.recompute_links": _WRITE,
    "documents.keywords": _READ,
    "documents.keyword": _READ,
    "documents.search_keywords": _READ,
    "sessions.create": _WRITE,
    "sessions.delete": _FORGET,
    "sessions.turns": _READ,
    "sessions.context": _READ,
    "entities.list": _READ,
    "entities.get": _READ,
    "entities.delete": _FORGET,
    "entities.history": _READ,
    "scopes.list": "scope:read",
    "scopes.register": "scope:create",
    "scopes.delete": "scope:delete",
    "scopes.forget": _FORGET,
    "scopes.grant": _MANAGE,
    "principals.list": _MANAGE,
    "principals.get": _MANAGE,
    "principals.effective": _MANAGE,
    "principals.grant": _MANAGE,
    "principals.revoke": _MANAGE,
    "keys.list": None,
    "keys.create": None,
    "keys.delete": None,
    "keys.rotate": None,
    "traces.list": _READ,
    "traces.get": _READ,
    "traces.stats": _READ,
    "lifecycle.decay": _WRITE,
    "lifecycle.expire": _FORGET,
}
"""The grant verb each operation needs; None: any accepted key will do (``health`` needs none).

Self-service keys (``keys.*``) and ``whoami`` act on the caller's own identity, as the document
says, so they need no verb.
"""


@dataclass(frozen=True)
class Caller:
    """An authenticated caller: its principal, the grants its key holds, and which key it is."""

    principal: str
    grants: Grants
    key_name: str | None = None
    """The name of a minted key; None for a key given to ``set_api_keys`` (or any key)."""
    token_grants: Grants | None = None
    """A minted key's attenuating grants, when it has some."""
    delegated_to: str | None = None
    """The principal a ``DELEGATION_HEADERS`` header names, when the call delegates."""

    def may(self, verb: str, path: str | None = None) -> bool:
        """Whether the caller holds ``verb`` (over ``path``, when one is given)."""
        return grant_covers(self.grants, verb, path)


def bearer_key(authorization: str | None) -> str | None:
    """The key of an ``Authorization: Bearer <key>`` header; None if absent, empty or not bearer."""
    scheme, _, key = (authorization or "").strip().partition(" ")
    key = key.strip()
    return key if scheme.lower() == "bearer" and key else None


def all_grants() -> Grants:
    """Every verb over every scope."""
    return {verb: ["*"] for verb in ALL_GRANTS}


def copy_grants(grants: Mapping[str, Iterable[str]] | None) -> Grants:
    """A private copy of ``grants``; None stands for every grant."""
    if grants is None:
        return all_grants()
    return {verb: list(patterns) for verb, patterns in grants.items()}


def grant_covers(grants: Grants, verb: str, path: str | None = None) -> bool:
    """Whether ``grants`` hold ``verb`` at all, or over ``path`` when one is given."""
    patterns = grants.get(verb, [])
    if path is None:
        return bool(patterns)
    return any(covers(pattern, path) for pattern in patterns)


def region_verb(operation: str) -> str:
    """The verb whose region an operation sees rows in: ``memory:forget`` for the forgetting
    operations (a forget counts only what its key may forget), ``memory:read`` for every other."""
    return _FORGET if OPERATION_GRANTS.get(operation) == _FORGET else _READ


def write_region(grants: Grants) -> Scopes:
    """Where an unscoped write is filed: the writer's ``memory:write`` patterns, OR'd."""
    return tuple((pattern,) for pattern in grants.get(_WRITE, []))


def filed_region(scopes: Scopes, grants: Grants) -> Scopes:
    """Where a new fact, document or session is filed for the region gate: () when it names
    scopes (it lies under them); else its writer's ``memory:write`` region, as the document
    files a write without scopes in "the caller's default write region"."""
    return () if scopes else write_region(grants)


def narrow(principal: Grants, key: Grants) -> Grants:
    """What a delegated call may do: the target ``principal``'s grants, narrowed by the ``key``.

    Per verb, a pattern both sides cover, the narrower of each overlapping pair: a principal
    holding ``team/*`` through a key holding ``team/a/*`` may act over ``team/a/*``.
    """
    narrowed: Grants = {}
    for verb, patterns in principal.items():
        held = key.get(verb, [])
        kept = [p for p in patterns if any(pattern_covers(k, p) for k in held)]
        kept += [k for k in held if any(pattern_covers(p, k) for p in patterns)]
        if kept:
            narrowed[verb] = list(dict.fromkeys(kept))
    return narrowed


def widening(requested: Grants, holder: Grants) -> list[str]:
    """The ``verb over pattern`` pairs of ``requested`` that ``holder`` does not cover.

    The document (``MintKeyBody.grants``): "Every requested pattern must be ⊆ the caller's
    effective region for that verb (fail-closed)".
    """
    return [
        f"{verb} over {pattern!r}"
        for verb, patterns in requested.items()
        for pattern in patterns
        if not any(pattern_covers(held, pattern) for held in holder.get(verb, []))
    ]
