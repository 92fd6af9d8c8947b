"""Entities and the verbs that work over them: consolidate, reflect, elaborate, fsck, inspect."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from pytest_spectron.client import models as m
from pytest_spectron.testing.fake._auth import write_region
from pytest_spectron.testing.fake._call import (
    NO_CONTENT,
    Answer,
    Call,
    Problem,
    handles,
    invalid,
    not_found,
    ok,
)
from pytest_spectron.testing.fake._store import Entity, StoredFact, StoredRelation
from pytest_spectron.testing.fake._text import score
from pytest_spectron.testing.fake._views import (
    attribute_detail,
    current_attributes,
    entities,
    entity_detail,
    entity_id,
    histories,
    history,
    parse_entity_id,
    relation_detail,
    relation_label,
    relations_of,
    trace_record,
)
from pytest_spectron.testing.fake.handlers._memory import recall_hits
from pytest_spectron.testing.fake.handlers._observability import leave_trace

__all__ = ["FSCK_CHECKS", "INJECTION_PATTERNS"]

ELABORATED_LABEL = "related_to"
"""The label of relations ``elaborate`` proposes between entities met in the same session."""
FSCK_CHECKS = ("duplicates", "contradictions", "injection", "unscoped")
MAX_ENTITIES = 500
"""``entities.list`` gives every entity unless ``limit`` asks for fewer, capped at 500."""
INJECTION_PATTERNS: dict[str, re.Pattern[str]] = {
    "instruction_override": re.compile(r"ignore (all |any )?(previous|prior) instructions", re.I),
    "role_override": re.compile(r"\byou are now\b", re.I),
    "tool_override": re.compile(r"\b(call|run|use) the \w+ tool\b", re.I),
    "system_prompt_leak": re.compile(r"\b(reveal|print|show) (your|the) system prompt\b", re.I),
    "prompt_template_injection": re.compile(r"\{\{.*?\}\}|<\|im_start\|>"),
    "base64_instruction": re.compile(r"\b[A-Za-z0-9+/]{40,}={0,2}"),
}
"""What ``fsck`` flags as prompt injection in a remembered text, by the document's kinds."""


# -- Entities ----------------------------------------------------------------------------------


def _entity(call: Call, entity: Entity) -> list[StoredFact]:
    """The facts of a live entity (none for a bare relation end); a 404 if there is none."""
    if not call.state.knows_entity(entity):
        raise not_found("entity", entity_id(entity))
    return call.state.facts.of_entity(entity)


def _entity_response(call: Call, entity: Entity, facts: list[StoredFact]) -> m.EntityResponse:
    return m.EntityResponse(
        entity=entity_detail(entity, facts, call.now),
        attributes=current_attributes(facts),
        relations=[relation_detail(r) for r in relations_of(call.state, entity)],
    )


@handles("entities.list")
def entities_list(call: Call) -> Answer:
    """Entities ordered by type then name, optionally of one type, paged."""
    wanted = call.query.get("type")
    offset = call.integer("offset", 0)
    limit = call.integer("limit", MAX_ENTITIES, maximum=MAX_ENTITIES)
    listed = sorted(
        (entity, facts)
        for entity, facts in entities(call.state).items()
        if wanted in (None, entity[0])
    )
    return ok(
        m.EntityListResponse(
            entities=[
                entity_detail(entity, facts, call.now)
                for entity, facts in listed[offset : offset + limit]
            ]
        )
    )


@handles("entities.get")
def entities_get(call: Call) -> Answer:
    """An entity with its current attributes and its relations."""
    entity = (call.path["entity_type"], call.path["entity_name"])
    return ok(_entity_response(call, entity, _entity(call, entity)))


@handles("entities.delete")
def entities_delete(call: Call) -> Answer:
    """Soft-delete an entity's attributes and relations (204)."""
    # The document answers 204 whether or not the entity existed.
    entity = (call.path["entity_type"], call.path["entity_name"])
    for fact in call.state.facts.of_entity(entity):
        call.state.facts.update(fact, forgotten=True)
    for relation in relations_of(call.state, entity):
        call.state.update_relation(relation, forgotten=True)
    return NO_CONTENT


@handles("entities.history")
def entities_history(call: Call) -> Answer:
    """Every value an entity's key has had, newest first.

    An unknown entity has no history: the document lists no 404 here.
    """
    entity = (call.path["entity_type"], call.path["entity_name"])
    chain = history(call.state.facts.of_entity(entity), call.path["key"])
    newest_first = [attribute_detail(chain, index) for index in reversed(range(len(chain)))]
    return ok(m.EntityHistoryResponse(history=newest_first))


# -- Consolidate, reflect, elaborate -----------------------------------------------------------


@handles("consolidate")
def consolidate(call: Call) -> Answer:
    """One outcome per entity attribute: created, updated or superseded."""
    body = call.body_as(m.ConsolidateRequest)
    outcomes = []
    for (_, name), facts in entities(call.state).items():
        for key, chain in histories(facts).items():
            values = {fact.value for fact in chain}
            kind = "create" if len(chain) == 1 else "supersede" if len(values) > 1 else "update"
            outcomes.append(
                m.ConsolidateOutcome(
                    kind=kind,
                    entity_name=name,
                    key=key,
                    value=chain[-1].value or "",
                    proof_count=len(chain),
                    rationale=f"{len(chain)} observation(s) of {name}.{key}",
                )
            )
    if body.observation_limit is not None:
        outcomes = outcomes[: body.observation_limit]
    leave_trace(call, "decision", "consolidate")
    kinds = [outcome.kind for outcome in outcomes]
    return ok(
        m.ConsolidateResponse(
            trace_id=call.trace_id,
            created=kinds.count("create"),
            updated=kinds.count("update"),
            superseded=kinds.count("supersede"),
            dry_run=bool(body.dry_run),
            outcomes=outcomes,
        )
    )


@handles("reflect")
def reflect(call: Call) -> Answer:
    """A reflection quoting the best evidence, persisted on request."""
    body = call.body_as(m.ReflectRequest)
    hits = recall_hits(call, body.query, 3)
    evidence = [fact.text for _, fact in hits]
    reflection = (
        f"On {body.query!r}, memory holds: " + "; ".join(evidence)
        if evidence
        else "Nothing in memory bears on that."
    )
    persisted: list[m.AttributeSummary] = []
    if body.persist and evidence:
        fact = call.state.facts.add(
            call.ids,
            reflection,
            now=call.now,
            seconds=call.seconds,
            session_id=None,
            turn_id=None,
            role="system",
            key="reflection",
            value=reflection,
            source_kind="reflect",
            region=write_region(call.caller.grants),
        )
        detail = attribute_detail([fact], 0)
        persisted.append(
            m.AttributeSummary(
                id=fact.id,
                entity_id=detail.entity,
                key=detail.key,
                value=detail.value,
                memory_category=detail.memory_category,
            )
        )
    leave_trace(call, "decision", body.query, hits)
    return ok(
        m.ReflectResponse(
            reflection=reflection,
            evidence=evidence,
            persisted_attributes=persisted,
            trace_id=call.trace_id,
        )
    )


def _entity_ref(ref: str) -> Entity | None:
    return parse_entity_id(ref.removeprefix("entity:"))


def _to_elaborate(call: Call, body: m.ElaborateRequest, known: Iterable[Entity]) -> list[Entity]:
    """The entity ``entityRef`` names (400 if none such), or every entity in no relation yet."""
    if body.entity_ref is None:
        chosen = [entity for entity in known if not relations_of(call.state, entity)]
    else:
        entity = _entity_ref(body.entity_ref)
        if entity is None:
            raise invalid("entityRef", f"expected 'type/name', got {body.entity_ref!r}")
        if entity not in known:
            # The document lists 400, not 404, for elaborate.
            raise invalid("entityRef", f"no entity {entity_id(entity)!r} in this context")
        chosen = [entity]
    return chosen if body.budget is None else chosen[: body.budget]


def _elaboration(
    call: Call, entity: Entity, proposed: Sequence[Entity], *, dry_run: bool
) -> m.ElaborateOutcome:
    """What elaborating ``entity`` did: the relations it proposed, and emitted unless dry."""
    return m.ElaborateOutcome(
        entity_type=entity[0],
        entity_name=entity[1],
        trace_id=call.trace_id,
        dry_run=dry_run,
        relations_emitted=0 if dry_run else len(proposed),
        proposed_relations=[
            m.ElaborateProposedRelation(
                subject=entity_id(entity), label=ELABORATED_LABEL, object=entity_id(other)
            )
            for other in proposed
        ],
    )


@handles("elaborate")
def elaborate(call: Call) -> Answer:
    """Propose (or emit) relations between entities met in the same session."""
    body = call.body_as(m.ElaborateRequest)
    dry_run = bool(body.dry_run)
    known = entities(call.state)
    sessions = {
        entity: {f.session_id for f in facts if f.session_id} for entity, facts in known.items()
    }
    related = {(r.subject, r.object) for r in call.state.live_relations()}
    outcomes = []
    for entity in _to_elaborate(call, body, known):
        proposed = [
            other
            for other in known
            if other != entity
            and sessions[entity] & sessions[other]
            and not {(entity, other), (other, entity)} & related
        ]
        related.update((entity, other) for other in proposed)
        if not dry_run:
            # Written without scopes, so filed in the writer's region, as any such write.
            region = write_region(call.caller.grants)
            call.state.add_relations(
                StoredRelation(
                    call.ids.next("rel"), entity, ELABORATED_LABEL, other, call.now, region=region
                )
                for other in proposed
            )
        outcomes.append(_elaboration(call, entity, proposed, dry_run=dry_run))
    leave_trace(call, "decision", "elaborate")
    emitted = sum(outcome.relations_emitted for outcome in outcomes)
    return ok(m.ElaborateResponse(relations_emitted=emitted, outcomes=outcomes))


# -- fsck --------------------------------------------------------------------------------------


def _duplicates(facts: Sequence[StoredFact], threshold: float) -> list[m.DuplicateFinding]:
    """Pairs of facts whose texts score at least ``threshold`` against each other."""
    found = []
    for index, older in enumerate(facts):
        for newer in facts[index + 1 :]:
            similarity = score(older.text, newer.text)
            if similarity > 0 and similarity >= threshold:
                found.append(
                    m.DuplicateFinding(entity_a=older.id, entity_b=newer.id, similarity=similarity)
                )
    return found


def _contradictions(call: Call) -> list[m.ContradictionFinding]:
    """Entity attributes that have held more than one value."""
    found = []
    for entity, facts in entities(call.state).items():
        for key, chain in histories(facts).items():
            values = list(dict.fromkeys(fact.value or "" for fact in chain))
            if len(values) > 1:
                found.append(
                    m.ContradictionFinding(entity=entity_id(entity), key=key, values=values)
                )
    return found


def _injection(facts: Sequence[StoredFact]) -> list[m.InjectionFinding]:
    """Each remembered text matching one of ``INJECTION_PATTERNS``, with what matched."""
    return [
        m.InjectionFinding(kind=kind, row_id=fact.id, snippet=found.group(0))
        for fact in facts
        for kind, pattern in INJECTION_PATTERNS.items()
        if (found := pattern.search(fact.text))
    ]


def _unscoped(call: Call, facts: Sequence[StoredFact]) -> list[m.UnscopedContentFinding]:
    """Per table, the rows written without a scope: how many, and the first few ids."""
    found = []
    for table, ids in (
        ("memory_chunk", [fact.id for fact in facts if not fact.scopes]),
        ("document", [d.id for d in call.state.documents.values() if not d.scopes]),
    ):
        if ids:
            found.append(m.UnscopedContentFinding(table=table, count=len(ids), sample_ids=ids[:5]))
    return found


@handles("fsck")
def fsck(call: Call) -> Answer:
    """Duplicates, contradictions, injection patterns and unscoped content."""
    body = call.body_as(m.FsckRequest)
    if body.check is not None and body.check not in FSCK_CHECKS:
        raise invalid("check", f"must be one of {', '.join(FSCK_CHECKS)}; got {body.check!r}")
    checks = FSCK_CHECKS if body.check is None else (body.check,)
    facts = call.state.facts.live()
    threshold = 0.9 if body.duplicate_threshold is None else body.duplicate_threshold
    duplicates = _duplicates(facts, threshold) if "duplicates" in checks else []
    contradictions = _contradictions(call) if "contradictions" in checks else []
    injection = _injection(facts) if "injection" in checks else []
    unscoped = _unscoped(call, facts) if "unscoped" in checks else []
    limit = body.max_results
    if limit is not None:
        duplicates, contradictions = duplicates[:limit], contradictions[:limit]
        injection, unscoped = injection[:limit], unscoped[:limit]
    return ok(
        m.FsckReport(
            duplicates=duplicates,
            contradictions=contradictions,
            injection=injection,
            unscoped_content=unscoped,
            total=len(duplicates) + len(contradictions) + len(injection) + len(unscoped),
        )
    )


# -- inspect -----------------------------------------------------------------------------------

_RELATION_REF = re.compile(r"^(?P<subject>[^/]+/[^-]+)-\[(?P<label>[^\]]+)\]->(?P<object>.+/.+)$")
_REF_GRAMMAR = (
    "entity:<type>/<name>, attribute:<type>/<name>/<key>, "
    "relation:<type>/<name>-[<label>]-><type>/<name>, trace:<id> "
    "(a bare 'type/name' or trace id works too)"
)


@handles("inspect")
def inspect(call: Call) -> Answer:
    """Resolve an inspect ref to an entity, attribute, relation or trace."""
    ref = call.required("ref")
    kind, colon, rest = ref.partition(":")
    if not colon:
        # A bare trace id, or a bare ``type/name``.
        kind, rest = ("trace", ref) if call.state.trace(ref) else ("entity", ref)
    if kind == "trace":
        trace = call.state.trace(rest)
        if trace is None:
            raise not_found("trace", rest)
        return ok(m.InspectTrace(kind="trace", trace=trace_record(trace)))
    if kind == "entity":
        entity = parse_entity_id(rest)
        if entity is None:
            raise _malformed(ref)
        response = _entity_response(call, entity, _entity(call, entity))
        return ok(
            m.InspectEntity(
                kind="entity",
                entity=response.entity,
                attributes=response.attributes,
                relations=response.relations,
            )
        )
    if kind == "attribute":
        entity_part, slash, key = rest.rpartition("/")
        entity = parse_entity_id(entity_part)
        if entity is None or not slash or not key:
            raise _malformed(ref)
        chain = history(_entity(call, entity), key)
        if not chain:
            raise not_found("attribute", rest)
        return ok(
            m.InspectAttribute(
                kind="attribute",
                current=attribute_detail(chain, -1),
                history=[attribute_detail(chain, i) for i in reversed(range(len(chain)))],
            )
        )
    if kind == "relation":
        match = _RELATION_REF.match(rest)
        if match is None:
            raise _malformed(ref)
        matches = [r for r in call.state.live_relations() if relation_label(r) == rest]
        if not matches:
            raise not_found("relation", rest)
        return ok(m.InspectRelation(kind="relation", matches=[relation_detail(r) for r in matches]))
    if kind == "passage":
        raise Problem(501, f"the fake does not inspect passages yet ({ref!r}); use {_REF_GRAMMAR}")
    raise _malformed(ref)


def _malformed(ref: str) -> Problem:
    return Problem(400, f"malformed inspect ref {ref!r}: expected {_REF_GRAMMAR}")
