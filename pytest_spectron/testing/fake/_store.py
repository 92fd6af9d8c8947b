"""What the fake remembers, per context, as frozen records; changes replace a record whole."""

from __future__ import annotations

import functools
import itertools
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

__all__ = [
    "EPOCH",
    "PIPELINE",
    "PROCESSING_STAGE_SECONDS",
    "Entity",
    "Grants",
    "Ids",
    "Scopes",
    "StoredAudit",
    "StoredDocument",
    "StoredFact",
    "StoredKey",
    "StoredRelation",
    "StoredScope",
    "StoredSession",
    "StoredTrace",
    "StoredTurn",
    "timestamp",
]

EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)
"""Virtual time zero: the fake's timestamps are this plus the clock's seconds."""

Grants = dict[str, list[str]]
"""Grant verb → scope patterns."""
Scopes = tuple[tuple[str, ...], ...]
"""A DNF scope selector, frozen."""
Entity = tuple[str, str]
"""(type, name)."""


@functools.lru_cache(maxsize=1024)
def timestamp(seconds: float) -> str:
    """RFC 3339 for ``seconds`` after the epoch: ``2026-01-01T00:00:05Z`` (milliseconds if any).

    Cached: on a virtual clock, request after request asks for the same few moments.
    """
    moment = EPOCH + timedelta(milliseconds=round(seconds * 1000))
    if moment.microsecond:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class Ids:
    """Deterministic ids, one counter per prefix: ``fact-000001``, ``sess-000001``…"""

    def __init__(self) -> None:
        self._counters: defaultdict[str, Iterator[int]] = defaultdict(lambda: itertools.count(1))

    def next(self, prefix: str) -> str:
        """The next id with this prefix."""
        return f"{prefix}-{next(self._counters[prefix]):06d}"


@dataclass(frozen=True)
class StoredFact:
    """One remembered fact: free text, or one attribute of an entity (from a triple)."""

    id: str
    text: str
    session_id: str | None
    """The session of the turn it came from (None for a persisted reflection)."""
    turn_id: str | None
    created_at: str
    role: str = "user"
    labels: tuple[str, ...] = ()
    scopes: Scopes = ()
    region: Scopes = ()
    """Where an unscoped write was filed: its writer's ``memory:write`` region (the document:
    "Empty = the caller's default write region"); () for a row with scopes, or seeded (the
    whole tree)."""
    memory_category: str = "knowledge"
    entity: Entity | None = None
    """(type, name) when the fact is an entity's attribute."""
    key: str | None = None
    value: str | None = None
    importance: float = 0.5
    source_kind: str = "turn"
    """Provenance: ``turn`` (remembered) or ``reflect`` (a persisted reflection)."""
    forgotten: bool = False
    """Soft-deleted: kept, but no longer recalled or shown."""
    created_seconds: float = 0.0


@dataclass(frozen=True)
class StoredRelation:
    """A relation between two entities (a triple with a ``target``, or an elaboration)."""

    id: str
    subject: Entity
    label: str
    object: Entity
    created_at: str
    memory_category: str = "knowledge"
    session_id: str | None = None
    turn_id: str | None = None
    forgotten: bool = False
    scopes: Scopes = ()
    """The scopes of the write that made it (a triple's ``remember``); () if none."""
    region: Scopes = ()
    """Where a relation written without scopes was filed: its writer's ``memory:write`` region,
    as a fact; () for one with scopes."""


@dataclass(frozen=True)
class StoredTurn:
    """One turn of a session."""

    id: str
    session_id: str
    role: str
    content: str
    seq: int
    created_at: str


@dataclass(frozen=True)
class StoredSession:
    """A conversation session and its turns, oldest first."""

    id: str
    created_at: str
    scopes: Scopes = ()
    metadata: Any = None
    turns: tuple[StoredTurn, ...] = ()
    region: Scopes = ()
    """Where a session opened without scopes was filed: its opener's ``memory:write`` region
    (the document: "empty ⇒ the caller's default write region"); () for one with scopes, or
    seeded (the whole tree)."""


PIPELINE = ("queued", "extracting", "chunking", "embedding", "ready")
"""The statuses an upload goes through, as the document's ``DocumentStatus`` describes them:
"in Phase A the pipeline transitions straight from `Embedding` to `Ready`"."""
PROCESSING_STAGE_SECONDS = 1.0
"""Virtual seconds each stage of an upload's processing takes, by default."""


@dataclass(frozen=True)
class StoredDocument:
    """An uploaded document, with its exact bytes, and where its processing stands."""

    id: str
    title: str
    mime_type: str
    source: str
    content: bytes = field(repr=False)
    content_hash: str
    created_at: str
    updated_at: str
    version: int = 1
    labels: tuple[str, ...] = ()
    scopes: Scopes = ()
    region: Scopes = ()
    """Where an upload without scopes was filed: its uploader's ``memory:write`` region (the
    document: "Omitted ⇒ the document inherits the caller's whole write region"); () for one
    with scopes, or seeded (the whole tree)."""
    status: str = "ready"
    """Where processing stood at the context's last request (``PIPELINE``)."""
    processing_since: float = 0.0
    """The virtual second the upload (or reprocessing) was accepted."""
    stage_seconds: float = 0.0
    """Virtual seconds each stage takes; 0: ready at once."""

    def status_at(self, seconds: float) -> str:
        """The status at virtual time ``seconds``: one stage of ``PIPELINE`` per stage_seconds."""
        if self.stage_seconds <= 0:
            return PIPELINE[-1]
        stage = int((seconds - self.processing_since) // self.stage_seconds)
        return PIPELINE[min(max(stage, 0), len(PIPELINE) - 1)]

    @property
    def ready(self) -> bool:
        """Whether processing is over: chunks, keywords and search see the document."""
        return self.status == PIPELINE[-1]

    @property
    def text(self) -> str:
        """The content as text, for chunks, keywords and search."""
        return self.content.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class StoredKey:
    """A key minted through ``keys.create`` (or ``add_key``); the secret is never listed."""

    id: str
    name: str
    secret: str = field(repr=False)
    created_at: str
    grants: Grants | None = None
    """The attenuating grants asked for at minting; None: the minting caller's."""
    holds: Grants = field(default_factory=dict)
    """What the key may do: the grants asked for, as far as the minting caller held them."""
    valid_until: str | None = None
    expires_at_seconds: float | None = None
    last_used_at: str | None = None


@dataclass(frozen=True)
class StoredTrace:
    """What a ``recall``, ``query_context``, ``chat`` or other traced call left behind."""

    id: str
    kind: str
    """``retrieval``, ``response`` (chat) or ``decision``."""
    query_text: str
    created_at: str
    hits: tuple[tuple[str, float, str], ...] = ()
    """(fact id, score, text) of what was retrieved, best first."""
    session_id: str | None = None
    reply: str | None = None
    region: Scopes = ()
    """Where it lies: the whole region its call saw, as one AND-clause (``Sight.seen_region``),
    so only a reader seeing all of that region reads its query, hits and reply."""

    @property
    def scopes(self) -> Scopes:
        """Always (): no trace is written with scopes; it lies in its ``region``."""
        return ()


@dataclass(frozen=True)
class StoredScope:
    """A registered scope node; a deleted one is tombstoned, not removed."""

    path: str
    created_at: str
    tombstoned_at: str | None = None


@dataclass(frozen=True)
class StoredAudit:
    """One audit row: an authenticated call and how it ended."""

    trace_id: str
    operation: str
    kind: str
    status: int
    principal: str
    key_name: str | None
    created_at: str
    seconds: float
