"""Response models built from stored records, shared by the handlers that show the same things.

Entities are not stored on their own: an entity exists while a live fact (a triple) or a live
relation names it. A newer value for the same entity and key supersedes the older one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pytest_spectron.client import models as m
from pytest_spectron.testing.fake._context import ContextState
from pytest_spectron.testing.fake._store import (
    Entity,
    StoredFact,
    StoredRelation,
    StoredTrace,
)

__all__ = [
    "NOTE_ENTITY",
    "NOTE_KEY",
    "TIER_REASON",
    "attribute_detail",
    "current_attributes",
    "entities",
    "entity_detail",
    "entity_id",
    "extraction",
    "history",
    "parse_entity_id",
    "relation_detail",
    "relation_label",
    "relations_of",
    "trace_record",
]

NOTE_ENTITY = "memory/notes"
"""The entity free-text facts are shown under, as ``note`` attributes."""
NOTE_KEY = "note"
TIER_REASON = "lexical overlap (pytest-spectron fake)"


def entity_id(entity: Entity) -> str:
    """``type/name``: how the fake names an entity on the wire and in inspect refs."""
    return f"{entity[0]}/{entity[1]}"


def parse_entity_id(ref: str) -> Entity | None:
    """(type, name) of a ``type/name`` ref, or None if it has no slash."""
    entity_type, slash, name = ref.partition("/")
    return (entity_type, name) if slash and entity_type and name else None


def entities(
    state: ContextState, live: Sequence[StoredFact] | None = None
) -> dict[Entity, list[StoredFact]]:
    """Every live entity, oldest first, with its live facts (an endpoint alone has none).

    :param live: ``state.facts.live()``, if the caller has it already (it scans every fact).
    """
    found: dict[Entity, list[StoredFact]] = {}
    for fact in state.facts.live() if live is None else live:
        if fact.entity is not None:
            found.setdefault(fact.entity, []).append(fact)
    for relation in state.live_relations():
        found.setdefault(relation.subject, [])
        found.setdefault(relation.object, [])
    return found


def history(facts: Iterable[StoredFact], key: str) -> list[StoredFact]:
    """The values an entity's ``key`` has had, oldest first: each supersedes the one before."""
    return [fact for fact in facts if fact.key == key]


def current_attributes(facts: Sequence[StoredFact]) -> list[m.AttributeDetail]:
    """An entity's current attributes: the newest value of each key, keys in first-seen order."""
    return [attribute_detail(chain, -1) for chain in histories(facts).values()]


def histories(facts: Iterable[StoredFact]) -> dict[str, list[StoredFact]]:
    """Each key's history (``history``), keys in first-seen order: one pass over the facts."""
    chains: dict[str, list[StoredFact]] = {}
    for fact in facts:
        if fact.key is not None:
            chains.setdefault(fact.key, []).append(fact)
    return chains


def attribute_detail(chain: Sequence[StoredFact], index: int) -> m.AttributeDetail:
    """The attribute at ``chain[index]``, linked to its neighbours in the supersession chain."""
    position = index % len(chain)
    fact = chain[position]
    entity = entity_id(fact.entity) if fact.entity is not None else NOTE_ENTITY
    return m.AttributeDetail(
        id=fact.id,
        entity=entity,
        key=fact.key or NOTE_KEY,
        value=fact.value if fact.value is not None else fact.text,
        memory_category=fact.memory_category,
        importance=fact.importance,
        created_at=fact.created_at,
        valid_from=fact.created_at,
        supersedes=chain[position - 1].id if position > 0 else None,
        superseded_by=chain[position + 1].id if position + 1 < len(chain) else None,
        source=m.SourceRef(
            kind=fact.source_kind,
            ref=f"turn:{fact.turn_id}" if fact.turn_id else None,
            session_id=fact.session_id,
        ),
    )


def entity_detail(entity: Entity, facts: Sequence[StoredFact], created_at: str) -> m.EntityDetail:
    """An entity's summary; ``created_at`` stands in when no fact names it (a bare endpoint)."""
    return m.EntityDetail(
        id=entity_id(entity),
        entity_type=entity[0],
        name=entity[1],
        memory_category=facts[0].memory_category if facts else "knowledge",
        importance=max((fact.importance for fact in facts), default=0.5),
        created_at=facts[0].created_at if facts else created_at,
        updated_at=facts[-1].created_at if facts else created_at,
    )


def relations_of(state: ContextState, entity: Entity) -> list[StoredRelation]:
    """The live relations an entity takes part in, oldest first."""
    return [r for r in state.live_relations() if entity in (r.subject, r.object)]


def relation_label(relation: StoredRelation) -> str:
    """``type/name-[label]->type/name``, the inspect ref of a relation without its prefix."""
    return f"{entity_id(relation.subject)}-[{relation.label}]->{entity_id(relation.object)}"


def relation_detail(relation: StoredRelation) -> m.RelationDetail:
    """A relation as the document shows it."""
    return m.RelationDetail(
        id=relation.id,
        subject=entity_id(relation.subject),
        label=relation.label,
        object=entity_id(relation.object),
        memory_category=relation.memory_category,
        created_at=relation.created_at,
        valid_from=relation.created_at,
        source=m.SourceRef(
            kind="turn" if relation.turn_id else "elaboration",
            ref=f"turn:{relation.turn_id}" if relation.turn_id else None,
            session_id=relation.session_id,
        ),
    )


def extraction(
    turn_id: str,
    facts: Sequence[StoredFact] = (),
    relations: Sequence[StoredRelation] = (),
    new_entities: Iterable[Entity] = (),
) -> m.ExtractionResult:
    """What a write extracted: the entities, attributes and relations its triples made."""
    new = set(new_entities)
    named: dict[Entity, str] = {}
    for fact in facts:
        if fact.entity is not None:
            named.setdefault(fact.entity, fact.memory_category)
    for relation in relations:
        named.setdefault(relation.subject, relation.memory_category)
        named.setdefault(relation.object, relation.memory_category)
    return m.ExtractionResult(
        turn_id=turn_id,
        entities=[
            m.EntitySummary(
                id=entity_id(entity),
                name=entity[1],
                entity_type=entity[0],
                memory_category=category,
                is_new=entity in new,
            )
            for entity, category in named.items()
        ],
        attributes=[
            m.AttributeSummary(
                id=fact.id,
                entity_id=entity_id(fact.entity),
                key=fact.key,
                value=fact.value or "",
                memory_category=fact.memory_category,
            )
            for fact in facts
            if fact.entity is not None and fact.key is not None
        ],
        relations=[
            m.RelationSummary(
                subject=entity_id(relation.subject),
                label=relation.label,
                object=entity_id(relation.object),
                memory_category=relation.memory_category,
            )
            for relation in relations
        ],
        instructions=[],
        uncertainties=[],
        corrections=[],
    )


def trace_record(trace: StoredTrace) -> m.TraceRecord:
    """A trace with its one-hop neighbourhood: the retrieval it did, the chat that owned it."""
    parent = None
    if trace.kind == "response":
        parent = m.ResponseTraceSummary(
            id=trace.id,
            cached=False,
            created_at=trace.created_at,
            latency_ms=0,
            response_text=trace.reply or "",
            session_id=trace.session_id,
            source="chat",
            user_message=trace.query_text,
        )
    retrieval = m.RetrievalTraceSummary(
        id=trace.id,
        created_at=trace.created_at,
        latency_ms=0,
        mode="lexical",
        # A passage's id is its document's and its position (doc-000001/0); a fact's has no "/".
        retrieved_ids=[
            f"{'chunk' if '/' in row_id else 'memory_chunk'}:{row_id}"
            for row_id, _, _ in trace.hits
        ],
        returned=[
            m.ReturnedRef(
                id=f"memory_chunk:{fact_id}",
                table="memory_chunk",
                label=text[:60],
                rank=rank,
                score=value,
            )
            for rank, (fact_id, value, text) in enumerate(trace.hits, start=1)
        ],
        scores=[value for _, value, _ in trace.hits],
        tier_entered=3,
        tier_reason=TIER_REASON,
    )
    return m.TraceRecord(
        id=trace.id,
        query_text=trace.query_text,
        resolution_tier="hybrid",
        tier_reason=TIER_REASON,
        latency_ms=0,
        cached=False,
        created_at=trace.created_at,
        parent=parent,
        retrievals=[retrieval],
    )
