"""Everything one context holds: its facts (indexed), relations, sessions, documents and more."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from pytest_spectron.testing._exchange import ServiceResponse
from pytest_spectron.testing._fake._facts import FactStore
from pytest_spectron.testing._fake._store import (
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

__all__ = ["ContextState"]


@dataclass
class ContextState:
    """Everything one context holds."""

    facts: FactStore = field(default_factory=FactStore)
    relations: list[StoredRelation] = field(default_factory=list)
    sessions: dict[str, StoredSession] = field(default_factory=dict)
    documents: dict[str, StoredDocument] = field(default_factory=dict)
    keys: dict[str, StoredKey] = field(default_factory=dict)
    """Key name → key."""
    scopes: dict[str, StoredScope] = field(default_factory=dict)
    principals: dict[str, Grants] = field(default_factory=dict)
    """Principal id → its grants in the directory (``principals.grant`` / ``revoke``)."""
    traces: list[StoredTrace] = field(default_factory=list)
    audit: list[StoredAudit] = field(default_factory=list)
    replays: dict[tuple[str, str], ServiceResponse] = field(default_factory=dict)
    """(operation, Idempotency-Key) → the first answer."""

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
