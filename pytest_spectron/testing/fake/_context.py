"""Everything one context holds: its facts (indexed), relations, sessions, documents and more.

Facts, relations, documents, sessions and traces share the context's ``Sight``: within
``ContextState.seen_by`` every read of them shows only the rows in the caller's region.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections import deque
from collections.abc import Iterable, Iterator, MutableMapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pytest_spectron.testing.fake._facts import FactStore
from pytest_spectron.testing.fake._scoping import Placed, Sight
from pytest_spectron.testing.fake._store import (
    PIPELINE,
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

__all__ = ["RECORD_LIMIT", "ContextState", "RegionRows"]

RECORD_LIMIT = 10_000
"""Traces, audit rows and idempotent replays a context keeps, each: past it the oldest go first,
so a long-running ``serve`` stays bounded (Spectron keeps them for a retention window too)."""


RowT = TypeVar("RowT", bound=Placed)


class RegionRows(MutableMapping[str, RowT]):
    """Rows by id, oldest first, of which a call sees only those its ``Sight`` sees.

    To every read (``[id]``, ``get``, ``in``, ``values``, ``len``…) a row outside the caller's
    region does not exist: a 404 by id, absent from a listing, as for a fact. Storing and
    removing are not gated; ``every`` and ``stored`` read past the gate, for inspection and for
    bookkeeping on a row the call already holds. With a ``limit``, storing a new row past it
    drops the oldest.
    """

    def __init__(self, sight: Sight, limit: int | None = None) -> None:
        self._rows: dict[str, RowT] = {}
        self._sight = sight
        self._limit = limit

    def __getitem__(self, row_id: str) -> RowT:
        row = self._rows[row_id]
        if not self._sight.sees(row):
            raise KeyError(row_id)
        return row

    def __iter__(self) -> Iterator[str]:
        sees = self._sight.sees
        return iter([row_id for row_id, row in self._rows.items() if sees(row)])

    def __len__(self) -> int:
        return sum(1 for row in self._rows.values() if self._sight.sees(row))

    def __setitem__(self, row_id: str, row: RowT) -> None:
        if self._limit is not None and row_id not in self._rows and len(self._rows) >= self._limit:
            del self._rows[next(iter(self._rows))]
        self._rows[row_id] = row

    def __delitem__(self, row_id: str) -> None:
        del self._rows[row_id]

    def every(self) -> list[RowT]:
        """Every row, whoever may see it, oldest first."""
        return list(self._rows.values())

    def stored(self, row_id: str) -> RowT:
        """The row ``row_id`` names, whoever may see it; KeyError if there is none."""
        return self._rows[row_id]

    def __repr__(self) -> str:
        return f"RegionRows({self._rows!r})"


@dataclass
class ContextState:
    """Everything one context holds."""

    sight: Sight = field(default_factory=Sight)
    """What the running call may see; the facts, relations, documents, sessions and traces all
    read through it."""
    facts: FactStore = field(init=False)
    relations: RegionRows[StoredRelation] = field(init=False)
    sessions: RegionRows[StoredSession] = field(init=False)
    documents: RegionRows[StoredDocument] = field(init=False)
    processing: set[str] = field(default_factory=set)
    """Ids of the documents still being processed."""
    keys: dict[str, StoredKey] = field(default_factory=dict)
    """Key name → key."""
    scopes: dict[str, StoredScope] = field(default_factory=dict)
    principals: dict[str, Grants] = field(default_factory=dict)
    """Principal id → its grants in the directory (``principals.grant`` / ``revoke``)."""
    record_limit: int | None = RECORD_LIMIT
    """Traces, audit rows and replays kept, each, the oldest dropped first; None for all."""
    traces: RegionRows[StoredTrace] = field(init=False)
    """By trace id, oldest first: the last ``record_limit``."""
    audit: deque[StoredAudit] = field(init=False)
    replays: dict[tuple[str, str, str], tuple[str, ServiceResponse]] = field(
        init=False, default_factory=dict
    )
    """(principal, operation, Idempotency-Key) → the digest of the first body, and its answer."""

    def __post_init__(self) -> None:
        self.facts = FactStore(self.sight)
        self.relations = RegionRows(self.sight)
        self.sessions = RegionRows(self.sight)
        self.documents = RegionRows(self.sight)
        self.traces = RegionRows(self.sight, self.record_limit)
        self.audit = deque(maxlen=self.record_limit)

    @contextlib.contextmanager
    def seen_by(self, patterns: Iterable[str]) -> Iterator[None]:
        """Within the block, every read of the facts, relations, documents, sessions and traces
        (and so of the passages cut from the documents, and of the entities the facts and
        relations name) shows only the rows in the region ``patterns`` grant.

        The document: "permission gating from the caller's grants always applies".
        """
        with self.sight.confined_to(patterns):
            yield

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
            try:
                document = self.documents.stored(document_id)
            except KeyError:
                self.processing.discard(document_id)
                continue
            status = document.status_at(seconds)
            if status != document.status:
                self.documents[document_id] = dataclasses.replace(document, status=status)
            if status == PIPELINE[-1]:
                self.processing.discard(document_id)

    def live_relations(self) -> list[StoredRelation]:
        """Relations not forgotten, oldest first."""
        return [relation for relation in self.relations.values() if not relation.forgotten]

    def add_relations(self, relations: Iterable[StoredRelation]) -> None:
        """Keep new relations, after the others."""
        for relation in relations:
            self.relations[relation.id] = relation

    def update_relation(self, relation: StoredRelation, **changes: Any) -> StoredRelation:
        """Replace ``relation`` by a copy with ``changes``."""
        updated = dataclasses.replace(relation, **changes)
        self.relations[relation.id] = updated
        return updated

    def knows_entity(self, entity: Entity) -> bool:
        """Whether ``entity`` exists: a live fact or a live relation names it."""
        return bool(self.facts.of_entity(entity)) or any(
            entity in (relation.subject, relation.object) for relation in self.live_relations()
        )

    def trace(self, trace_id: str) -> StoredTrace | None:
        """The trace with this id, if any (and in the caller's region)."""
        return self.traces.get(trace_id)
