"""Everything one context holds: its facts (indexed), relations, sessions, documents and more."""

from __future__ import annotations

import dataclasses
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from pytest_spectron.testing.fake._facts import FactStore
from pytest_spectron.testing.fake._store import (
    Entity,
    Grants,
    StoredAudit,
    StoredDocument,
    StoredKey,
    StoredRelation,
    StoredScope,
    StoredSession,
    StoredTrace,
)
from pytest_spectron.testing.http._exchange import ServiceResponse

__all__ = ["RECORD_LIMIT", "ContextState"]

RECORD_LIMIT = 10_000
"""Traces, audit rows and idempotent replays a context keeps, each: past it the oldest go first,
so a long-running ``serve`` stays bounded (Spectron keeps them for a retention window too)."""


@dataclass
class ContextState:
    """Everything one context holds."""

    facts: FactStore = field(default_factory=FactStore)
    relations: list[StoredRelation] = field(default_factory=list)
    sessions: dict[str, StoredSession] = field(default_factory=dict)
    documents: dict[str, StoredDocument] = field(default_factory=dict)
    processing: set[str] = field(default_factory=set)
    """Ids of the documents still being processed."""
    keys: dict[str, StoredKey] = field(default_factory=dict)
    """Key name → key."""
    scopes: dict[str, StoredScope] = field(default_factory=dict)
    principals: dict[str, Grants] = field(default_factory=dict)
    """Principal id → its grants in the directory (``principals.grant`` / ``revoke``)."""
    record_limit: int | None = RECORD_LIMIT
    """Traces, audit rows and replays kept, each, the oldest dropped first; None for all."""
    traces: deque[StoredTrace] = field(init=False)
    audit: deque[StoredAudit] = field(init=False)
    replays: dict[tuple[str, str, str], tuple[str, ServiceResponse]] = field(
        init=False, default_factory=dict
    )
    """(principal, operation, Idempotency-Key) → the digest of the first body, and its answer."""

    def __post_init__(self) -> None:
        self.traces = deque(maxlen=self.record_limit)
        self.audit = deque(maxlen=self.record_limit)

    def keep_replay(
        self, replay: tuple[str, str, str], digest: str, response: ServiceResponse
    ) -> None:
        """Remember the first answer to an idempotent call, forgetting the oldest past the limit."""
        self.replays[replay] = (digest, response)
        if self.record_limit is not None and len(self.replays) > self.record_limit:
            del self.replays[next(iter(self.replays))]

    def advance_documents(self, seconds: float) -> None:
        """Move each document in processing to its status at virtual time ``seconds``."""
        for document_id in sorted(self.processing):
            document = self.documents.get(document_id)
            if document is None:
                self.processing.discard(document_id)
                continue
            status = document.status_at(seconds)
            if status != document.status:
                self.documents[document_id] = dataclasses.replace(document, status=status)
            if self.documents[document_id].ready:
                self.processing.discard(document_id)

    def live_relations(self) -> list[StoredRelation]:
        """Relations not forgotten, oldest first."""
        return [relation for relation in self.relations if not relation.forgotten]

    def update_relation(self, relation: StoredRelation, **changes: Any) -> StoredRelation:
        """Replace ``relation`` by a copy with ``changes``."""
        updated = dataclasses.replace(relation, **changes)
        self.relations[self.relations.index(relation)] = updated
        return updated

    def knows_entity(self, entity: Entity) -> bool:
        """Whether ``entity`` exists: a live fact or a live relation names it."""
        return bool(self.facts.of_entity(entity)) or any(
            entity in (relation.subject, relation.object) for relation in self.live_relations()
        )

    def trace(self, trace_id: str) -> StoredTrace | None:
        """The trace with this id, if any."""
        return next((trace for trace in self.traces if trace.id == trace_id), None)
