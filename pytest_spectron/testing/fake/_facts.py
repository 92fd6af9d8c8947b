"""A context's facts, indexed by word and by entity so no read or write scans them all.

Recall and forget look only at the live facts sharing a word with the query (a fact sharing none
scores zero and is never a hit), and remember asks the entity index whether an entity is known.
Every change goes through ``FactStore``, which keeps both indexes in step with the facts. Its
reads show only the facts the running call's ``Sight`` sees (its region).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypedDict

from typing_extensions import Unpack

from pytest_spectron.testing.fake._scoping import Sight
from pytest_spectron.testing.fake._store import Entity, Ids, Scopes, StoredFact
from pytest_spectron.testing.fake._text import tokens

__all__ = ["FactDetails", "FactStore"]


class FactDetails(TypedDict, total=False):
    """What a new fact may carry beyond its text, time and source (``StoredFact``'s defaults)."""

    role: str
    labels: tuple[str, ...]
    scopes: Scopes
    region: Scopes
    memory_category: str
    entity: Entity | None
    key: str | None
    value: str | None
    source_kind: str


class FactStore:
    """Every fact of one context, oldest first; the live ones indexed by word and by entity.

    ``live``, ``sharing_words`` and ``of_entity`` show only the facts ``sight`` sees: a call
    reads only its caller's region, whatever handler does the reading.
    """

    def __init__(self, sight: Sight | None = None) -> None:
        self._sight = Sight() if sight is None else sight
        self._facts: dict[str, StoredFact] = {}
        self._rank: dict[str, int] = {}
        """Fact id → its place in the order facts were added, for reading index hits in order."""
        self._ranks = itertools.count()
        self._by_word: dict[str, set[str]] = {}
        self._by_entity: dict[Entity, set[str]] = {}

    # -- Writing -------------------------------------------------------------------------------

    def add(
        self,
        ids: Ids,
        text: str,
        *,
        now: str,
        seconds: float,
        session_id: str | None,
        turn_id: str | None,
        **details: Unpack[FactDetails],
    ) -> StoredFact:
        """Store a new fact, with the next ``fact-`` id, created at ``now`` (``seconds``)."""
        fact = StoredFact(
            id=ids.next("fact"),
            text=text,
            session_id=session_id,
            turn_id=turn_id,
            created_at=now,
            created_seconds=seconds,
            **details,
        )
        self._facts[fact.id] = fact
        self._rank[fact.id] = next(self._ranks)
        self._index(fact)
        return fact

    def update(self, fact: StoredFact, **changes: Any) -> StoredFact:
        """Replace ``fact`` by a copy with ``changes`` (``forgotten=True`` soft-deletes it)."""
        updated = dataclasses.replace(fact, **changes)
        self._unindex(self._facts[fact.id])
        self._facts[fact.id] = updated
        self._index(updated)
        return updated

    def purge(self, doomed: Callable[[StoredFact], bool]) -> list[StoredFact]:
        """Remove for good every fact (forgotten or not) ``doomed`` accepts; those facts."""
        gone = [fact for fact in self._facts.values() if doomed(fact)]
        for fact in gone:
            self._unindex(fact)
            del self._facts[fact.id], self._rank[fact.id]
        return gone

    # -- Reading -------------------------------------------------------------------------------

    def all(self) -> list[StoredFact]:
        """Every fact, soft-deleted ones too, oldest first, whoever may see them (inspection)."""
        return list(self._facts.values())

    def live(self) -> list[StoredFact]:
        """The facts not forgotten, oldest first."""
        sees = self._sight.sees
        return [fact for fact in self._facts.values() if not fact.forgotten and sees(fact)]

    def sharing_words(self, query: str) -> list[StoredFact]:
        """The live facts sharing at least one word (``tokens``) with ``query``, oldest first."""
        found: set[str] = set()
        for word in set(tokens(query)):
            found |= self._by_word.get(word, set())
        return self._in_order(found)

    def of_entity(self, entity: Entity) -> list[StoredFact]:
        """The live facts holding an attribute of ``entity``, oldest first."""
        return self._in_order(self._by_entity.get(entity, set()))

    # -- Indexes -------------------------------------------------------------------------------

    def _in_order(self, fact_ids: Iterable[str]) -> list[StoredFact]:
        ordered = [self._facts[fact_id] for fact_id in sorted(fact_ids, key=self._rank.__getitem__)]
        return [fact for fact in ordered if self._sight.sees(fact)]

    def _entries(self, fact: StoredFact) -> Iterator[set[str]]:
        """The index entries a live fact belongs in (created on demand)."""
        for word in set(tokens(fact.text)):
            yield self._by_word.setdefault(word, set())
        if fact.entity is not None:
            yield self._by_entity.setdefault(fact.entity, set())

    def _index(self, fact: StoredFact) -> None:
        if not fact.forgotten:
            for entry in self._entries(fact):
                entry.add(fact.id)

    def _unindex(self, fact: StoredFact) -> None:
        # An empty entry is left in place: it costs little, and a later fact may fill it again.
        if not fact.forgotten:
            for entry in self._entries(fact):
                entry.discard(fact.id)
