"""Who may do what: the caller (``whoami``), scopes, principals and grants, self-service keys."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone

from pytest_spectron.client import models as m
from pytest_spectron.testing.fake._auth import (
    ALL_GRANTS,
    SYSTEM_PRINCIPAL,
    copy_grants,
    grant_covers,
    widening,
)
from pytest_spectron.testing.fake._call import (
    NO_CONTENT,
    Answer,
    Call,
    Problem,
    handles,
    invalid,
    ok,
)
from pytest_spectron.testing.fake._context import ContextState
from pytest_spectron.testing.fake._keyring import Keyring
from pytest_spectron.testing.fake._scoping import canonical_path, covers, is_valid_path, paths_of
from pytest_spectron.testing.fake._store import (
    EPOCH,
    Grants,
    Ids,
    StoredKey,
    StoredScope,
    timestamp,
)

__all__ = ["mint_key"]


@handles("whoami")
def whoami(call: Call) -> Answer:
    """The caller's principal, its directory grants, and what its key may do."""
    caller = call.caller
    return ok(
        m.Whoami(
            principal_id=caller.principal,
            kind="human",
            display_name=caller.principal,
            grants=call.state.principals.get(caller.principal, {}),
            effective_grants=caller.grants,
            token_grants=caller.token_grants,
            delegated_principal_id=caller.delegated_to,
        )
    )


# -- Scopes ------------------------------------------------------------------------------------


def _scope_path(raw: str | None, field_name: str = "path") -> str:
    """A canonical scope path; a 400 if missing or malformed, as the document says."""
    if raw is None or not raw.strip():
        raise invalid(field_name, "a scope path is required, such as 'team/a'")
    if not is_valid_path(raw):
        raise Problem(400, f"invalid scope path {raw!r}: use slash-separated names, no wildcards")
    return canonical_path(raw)


def _scope_node(scope: StoredScope) -> m.ScopeNode:
    return m.ScopeNode(
        path=scope.path, created_at=scope.created_at, tombstoned_at=scope.tombstoned_at
    )


@handles("scopes.list")
def scopes_list(call: Call) -> Answer:
    """Every scope node the caller holds some grant over, live and tombstoned."""
    visible = [
        scope
        for path, scope in sorted(call.state.scopes.items())
        if any(grant_covers(call.caller.grants, verb, path) for verb in call.caller.grants)
    ]
    return ok([_scope_node(scope) for scope in visible])


@handles("scopes.register")
def scopes_register(call: Call) -> Answer:
    """Register a scope node (201) and any missing ancestors."""
    path = _scope_path(call.body_as(m.RegisterScopeRequest).path)
    segments = path.strip("/").split("/") if path != "/" else []
    # Registering a node brings its missing ancestors into being.
    for depth in range(1, len(segments) + 1):
        node = "/".join(segments[:depth]) + "/"
        existing = call.state.scopes.get(node)
        if existing is None:
            call.state.scopes[node] = StoredScope(node, call.now)
        elif existing.tombstoned_at is not None:
            call.state.scopes[node] = dataclasses.replace(existing, tombstoned_at=None)
    if path == "/":
        call.state.scopes.setdefault(path, StoredScope(path, call.now))
    return ok(_scope_node(call.state.scopes[path]), 201)


@handles("scopes.delete")
def scopes_delete(call: Call) -> Answer:
    """Tombstone a registered scope node (204); an unregistered path is left as it is (204).

    The document lists no 404 here: deleting is idempotent, as for entities.
    """
    path = _scope_path(call.query.get("path"))
    scope = call.state.scopes.get(path)
    if scope is not None and scope.tombstoned_at is None:
        call.state.scopes[path] = dataclasses.replace(scope, tombstoned_at=call.now)
    return NO_CONTENT


@handles("scopes.forget")
def scopes_forget(call: Call) -> Answer:
    """Erase every fact, relation and document tagged under a scope subtree."""
    root = _scope_path(call.body_as(m.ScopeForgetRequest).path)
    subtree = root + "*" if root != "/" else "/*"

    def tagged(scopes: tuple[tuple[str, ...], ...]) -> bool:
        return any(covers(subtree, path) for path in paths_of(scopes))

    state = call.state
    facts = state.facts.purge(lambda fact: tagged(fact.scopes))
    # Erased whoever may read them, as the facts: the key's grant covers the whole subtree.
    documents = [document for document in state.documents.every() if tagged(document.scopes)]
    for document in documents:
        del state.documents[document.id]
    relations = [relation for relation in state.relations.every() if tagged(relation.scopes)]
    for relation in relations:
        del state.relations[relation.id]
    return ok(m.ForgetScopeResponse(forgotten=len(facts) + len(documents) + len(relations)))


@handles("scopes.grant")
def scopes_grant(call: Call) -> Answer:
    """Always 501: the document locks ``scope-grants`` as a stub."""
    raise Problem(
        501,
        "scope-grants is not implemented by Spectron (the document locks it as a stub): "
        "grant with principals.grant instead",
    )


# -- Principals --------------------------------------------------------------------------------


def _principal(call: Call) -> tuple[str, Grants]:
    principal_id = call.path["principal_id"]
    grants = call.named(call.state.principals, "principal_id", "principal")
    return principal_id, grants


def _principal_model(principal_id: str, grants: Grants) -> m.Principal:
    return m.Principal(id=principal_id, kind="human", display_name=principal_id, grants=grants)


def _grant_request(call: Call) -> m.GrantRequest:
    if call.path["principal_id"] == SYSTEM_PRINCIPAL:
        # The document: 403 when "the target is the immutable ``system`` principal".
        raise Problem(
            403,
            f"the {SYSTEM_PRINCIPAL!r} principal is immutable: its grants cannot be changed; "
            "grant to another principal",
        )
    body = call.body_as(m.GrantRequest)
    unknown = [verb for verb in body.verbs if verb not in ALL_GRANTS]
    if unknown:
        raise invalid("verbs", f"unknown verbs {unknown}; known: {', '.join(ALL_GRANTS)}")
    if not body.path.strip():
        raise Problem(400, "the scope pattern is empty: use a path such as 'team/a' or 'team/*'")
    return body


@handles("principals.list")
def principals_list(call: Call) -> Answer:
    """The context's principal directory, by id."""
    listed = sorted(call.state.principals.items())
    return ok([_principal_model(principal_id, grants) for principal_id, grants in listed])


@handles("principals.get")
def principals_get(call: Call) -> Answer:
    """One principal and its grants."""
    return ok(_principal_model(*_principal(call)))


@handles("principals.effective")
def principals_effective(call: Call) -> Answer:
    """The verbs a principal holds at a scope path."""
    _, grants = _principal(call)
    path = _scope_path(call.query.get("path"))
    verbs = [verb for verb in ALL_GRANTS if grant_covers(grants, verb, path)]
    call.instant("asOf")  # echoed into a date-time field: it must be one
    return ok(m.EffectiveGrants(path=path, verbs=verbs, as_of=call.query.get("asOf")))


@handles("principals.grant")
def principals_grant(call: Call) -> Answer:
    """Add a scope pattern to a principal's verbs."""
    body = _grant_request(call)
    principal_id, grants = _principal(call)
    for verb in body.verbs:
        patterns = grants.setdefault(verb, [])
        if body.path not in patterns:
            patterns.append(body.path)
    return ok(_principal_model(principal_id, grants))


@handles("principals.revoke")
def principals_revoke(call: Call) -> Answer:
    """Take a scope pattern back from a principal's verbs."""
    body = _grant_request(call)
    principal_id, grants = _principal(call)
    for verb in body.verbs:
        kept = [pattern for pattern in grants.get(verb, []) if pattern != body.path]
        if kept:
            grants[verb] = kept
        else:
            grants.pop(verb, None)
    return ok(_principal_model(principal_id, grants))


# -- Self-service keys -------------------------------------------------------------------------


def mint_key(
    state: ContextState,
    ids: Ids,
    keyring: Keyring,
    context_id: str,
    *,
    now: str,
    seconds: float,
    name: str | None,
    grants: Grants | None,
    holder: Grants,
    ttl_seconds: int | None = None,
) -> StoredKey:
    """Mint a key for the caller holding ``holder``; a 400 if it asks for more than ``holder``."""
    if grants is not None:
        _check_attenuates(grants, holder)
    _check_ttl(seconds, ttl_seconds)
    if name is not None and name in state.keys:
        raise Problem(409, f"a key named {name!r} already exists: rotate it or pick another name")
    key_id = ids.next("key")
    name = name or key_id
    key = StoredKey(
        id=key_id,
        name=name,
        secret=keyring.new_secret(key_id),
        created_at=now,
        grants=None if grants is None else copy_grants(grants),
        holds=copy_grants(holder if grants is None else grants),
    )
    key = _with_ttl(key, seconds, ttl_seconds)
    state.keys[name] = key
    keyring.register(key.secret, context_id, name)
    return key


def _check_attenuates(grants: Grants, holder: Grants) -> None:
    """The document's 400 "Invalid grants or attenuation widens", never a silent narrowing."""
    unknown = sorted(verb for verb in grants if verb not in ALL_GRANTS)
    if unknown:
        raise invalid("grants", f"unknown verbs {unknown}; known: {', '.join(ALL_GRANTS)}")
    wider = widening(grants, holder)
    if wider:
        raise invalid(
            "grants",
            f"the key would hold more than its caller: {', '.join(wider)} "
            "lie outside the caller's effective grants; ask only for patterns within them "
            "(whoami shows effectiveGrants)",
        )


_LAST_MOMENT = (datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc) - EPOCH).total_seconds()
"""The last second RFC 3339 can write (year 9999), in the fake's seconds."""


def _check_ttl(seconds: float, ttl_seconds: int | None) -> None:
    """A 400 naming ``ttlSeconds`` if the expiry it sets cannot be written as a date-time."""
    if ttl_seconds is not None and seconds + ttl_seconds > _LAST_MOMENT:
        raise invalid(
            "ttlSeconds",
            f"must be at most {int(_LAST_MOMENT - seconds)}: a key's validUntil is an RFC 3339 "
            f"date-time, which ends with the year 9999; got {ttl_seconds}",
        )


def _with_ttl(key: StoredKey, seconds: float, ttl_seconds: int | None) -> StoredKey:
    if ttl_seconds is None:
        return key
    expires = seconds + ttl_seconds
    return dataclasses.replace(key, valid_until=timestamp(expires), expires_at_seconds=expires)


def _ttl(call: Call) -> int | None:
    """``ttlSeconds``, if given: an ``int64``, or a 400 naming it (``_check_ttl`` bounds it)."""
    if "ttlSeconds" not in call.query:
        return None
    return call.integer("ttlSeconds", 0, bits=64)


def _self_service(call: Call) -> None:
    if call.caller.delegated_to is not None:
        raise Problem(403, "self-service keys cannot be managed on behalf of another principal")


def _own_key(call: Call) -> StoredKey:
    return call.named(call.state.keys, "key_name", "key")


def _minted(key: StoredKey) -> m.MintedKey:
    return m.MintedKey(id=key.id, key=key.secret, valid_until=key.valid_until)


@handles("keys.list")
def keys_list(call: Call) -> Answer:
    """The context's minted keys, never with their secrets."""
    return ok(
        [
            m.KeyDetail(
                id=key.id,
                name=key.name,
                created_at=key.created_at,
                grants=key.grants,
                last_used_at=key.last_used_at,
                valid_until=key.valid_until,
            )
            for key in call.state.keys.values()
        ]
    )


@handles("keys.create")
def keys_create(call: Call) -> Answer:
    """Mint a key (201); the answer is the only place its secret appears."""
    _self_service(call)
    body = call.body_as(m.MintKeyBody)
    key = mint_key(
        call.state,
        call.ids,
        call.keyring,
        call.context_id,
        now=call.now,
        seconds=call.seconds,
        name=body.name,
        grants=body.grants,
        holder=call.caller.grants,
        ttl_seconds=_ttl(call),
    )
    return ok(_minted(key), 201)


@handles("keys.delete")
def keys_delete(call: Call) -> Answer:
    """Delete a key (204); its secret stops working at once."""
    _self_service(call)
    key = _own_key(call)
    call.keyring.revoke(key.secret)
    del call.state.keys[key.name]
    return NO_CONTENT


@handles("keys.rotate")
def keys_rotate(call: Call) -> Answer:
    """Give a key a new secret; the old one stops working at once."""
    _self_service(call)
    key = _own_key(call)
    # A rotation keeps the key's grants: the caller may not renew a key that holds more than
    # it does, as it may not mint one.
    _check_attenuates(key.holds, call.caller.grants)
    ttl_seconds = _ttl(call)
    _check_ttl(call.seconds, ttl_seconds)
    call.keyring.revoke(key.secret)
    rotated = dataclasses.replace(key, secret=call.keyring.new_secret(key.id))
    # ``ttlSeconds`` resets the expiry when given; otherwise the key keeps the one it had.
    rotated = _with_ttl(rotated, call.seconds, ttl_seconds)
    call.state.keys[key.name] = rotated
    call.keyring.register(rotated.secret, call.context_id, key.name)
    return ok(_minted(rotated))
