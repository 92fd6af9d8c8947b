"""The memory verbs: remember, recall, forget, chat, and the views of what is remembered."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from typing_extensions import Unpack

from pytest_spectron.client import models as m
from pytest_spectron.testing.fake._auth import filed_region
from pytest_spectron.testing.fake._call import (
    Answer,
    Call,
    StreamedReply,
    check_labels,
    handles,
    invalid,
    ok,
    rfc3339_seconds,
)
from pytest_spectron.testing.fake._context import ContextState
from pytest_spectron.testing.fake._facts import FactDetails
from pytest_spectron.testing.fake._scoping import freeze_scopes, seen_through_lens
from pytest_spectron.testing.fake._store import (
    Entity,
    Ids,
    StoredFact,
    StoredRelation,
    StoredSession,
    StoredTurn,
)
from pytest_spectron.testing.fake._text import best_first, tokens
from pytest_spectron.testing.fake._views import (
    NOTE_KEY,
    TIER_REASON,
    attribute_detail,
    current_attributes,
    entities,
    entity_detail,
    entity_id,
    extraction,
    relation_detail,
)
from pytest_spectron.testing.fake.handlers._observability import leave_trace
from pytest_spectron.testing.fake.handlers._sessions import append_turn, open_session
from pytest_spectron.testing.fake.handlers._uploads import Passage, passages

__all__ = [
    "DEFAULT_K",
    "MAX_K",
    "NOTHING_REMEMBERED",
    "REPLY_PREFIX",
    "chat_reply",
    "recall_hits",
    "remember_turn",
]

DEFAULT_K = 10
MAX_K = 50
"""The document's cap on ``k``; a larger ``k`` is served as 50."""
REPLY_PREFIX = "Based on what I remember: "
NOTHING_REMEMBERED = "I don't remember anything about that."

# -- Writing -----------------------------------------------------------------------------------


def remember_turn(
    state: ContextState,
    ids: Ids,
    time: tuple[str, float],
    session: StoredSession,
    text: str,
    **details: Unpack[FactDetails],
) -> tuple[StoredTurn, StoredFact]:
    """Record ``text`` as a turn of ``session`` at ``time`` (now, seconds), and as its fact."""
    now, seconds = time
    turn = append_turn(state, ids, now, session, details.get("role", "user"), text)
    fact = state.facts.add(
        ids, text, now=now, seconds=seconds, session_id=session.id, turn_id=turn.id, **details
    )
    return turn, fact


def _turn_fact(call: Call, turn: StoredTurn, text: str, details: FactDetails) -> StoredFact:
    """Remember ``text`` as a fact of ``turn``, now."""
    return call.state.facts.add(
        call.ids, text, now=call.now, seconds=call.seconds, session_id=turn.session_id,
        turn_id=turn.id, **details,
    )  # fmt: skip


def _triple_text(triple: m.Triple) -> str:
    """A triple as a sentence the lexical scorer can match: ``alice drink tea``."""
    parts = [triple.entity.name, triple.key.replace("_", " ")]
    if triple.target is not None:
        parts.append(triple.target.name)
    elif triple.value:
        parts.append(triple.value)
    return " ".join(parts)


def _write_mode(body: m.FactsRequest) -> str:
    """What a remember writes: ``full``, ``none``, ``triples`` or ``preview``; 400 if it cannot."""
    check_labels("labels", body.labels)
    mode = body.infer or ("triples" if body.triples and not body.text else "full")
    if mode == "triples" and not body.triples:
        raise invalid("triples", "infer 'triples' needs at least one triple")
    if mode != "triples" and not body.text:
        raise invalid("text", "a fact needs text (or triples, with infer 'triples')")
    return mode


def _named_entities(triples: Sequence[m.Triple]) -> set[Entity]:
    """The entities the triples name, as subject or as target."""
    named = {(triple.entity.type, triple.entity.name) for triple in triples}
    named.update((t.target.type, t.target.name) for t in triples if t.target is not None)
    return named


def _write_triples(
    call: Call,
    triples: Sequence[m.Triple],
    turn: StoredTurn,
    category: str,
    shared: FactDetails,
) -> tuple[list[StoredFact], list[StoredRelation]]:
    """Store each triple: an attribute fact, or a relation when it has a target (lying where
    the write's facts lie: its scopes, else its writer's region)."""
    facts: list[StoredFact] = []
    relations: list[StoredRelation] = []
    for triple in triples:
        subject = (triple.entity.type, triple.entity.name)
        triple_category = triple.memory_category or category
        if triple.target is None:
            details: FactDetails = {
                **shared,
                "memory_category": triple_category,
                "entity": subject,
                "key": triple.key,
                "value": triple.value or "",
            }
            facts.append(_turn_fact(call, turn, _triple_text(triple), details))
            continue
        relations.append(
            StoredRelation(
                id=call.ids.next("rel"),
                subject=subject,
                label=triple.key,
                object=(triple.target.type, triple.target.name),
                created_at=call.now,
                memory_category=triple_category,
                session_id=turn.session_id,
                turn_id=turn.id,
                scopes=shared.get("scopes", ()),
                region=shared.get("region", ()),
            )
        )
    call.state.add_relations(relations)
    return facts, relations


@handles("remember")
def remember(call: Call) -> Answer:
    """Store a fact (text, triples or both) as a turn of a session."""
    body = call.body_as(m.FactsRequest)
    mode = _write_mode(body)
    if mode == "preview":
        if body.session_id is not None:
            open_session(call.state, call.ids, call.now, body.session_id)
        session_id = body.session_id or "sess-preview"
        return ok(m.FactsResponse(mode=mode, session_id=session_id, preview=True))
    triples = body.triples or []
    written = triples if mode in ("full", "triples") else []
    # Asked of the entity index, entity by entity: a remember never scans the store.
    named = _named_entities(written)
    known = {entity for entity in named if call.state.knows_entity(entity)}
    text = body.text or "; ".join(_triple_text(triple) for triple in triples)
    scopes = freeze_scopes(body.scopes)
    region = filed_region(scopes, call.caller.grants)
    session = open_session(
        call.state, call.ids, call.now, body.session_id, scopes=scopes, region=region
    )
    role = body.role or "user"
    turn = append_turn(call.state, call.ids, call.now, session, role, text)
    category = body.memory_category or "knowledge"
    shared = FactDetails(role=role, labels=tuple(body.labels or ()), scopes=scopes, region=region)
    facts: list[StoredFact] = []
    if body.text and mode in ("full", "none"):
        facts.append(_turn_fact(call, turn, body.text, {**shared, "memory_category": category}))
    triple_facts, relations = _write_triples(call, written, turn, category, shared)
    facts.extend(triple_facts)
    return ok(
        m.FactsResponse(
            mode=mode,
            session_id=session.id,
            turn_id=turn.id,
            chunk_id=facts[0].id if facts and facts[0].entity is None else None,
            extraction=(
                None if mode == "none" else extraction(turn.id, facts, relations, named - known)
            ),
        )
    )


@handles("remember_many")
def remember_many(call: Call) -> Answer:
    """Store each message of a batch as a turn and a fact."""
    body = call.body_as(m.FactsBatchRequest)
    check_labels("labels", body.labels)
    scopes = freeze_scopes(body.scopes)
    region = filed_region(scopes, call.caller.grants)
    session = open_session(
        call.state, call.ids, call.now, body.session_id, scopes=scopes, region=region
    )
    labels = tuple(body.labels or ())
    turn_ids = [
        remember_turn(
            call.state, call.ids, (call.now, call.seconds), session, message.content,
            role=message.role, labels=labels, scopes=scopes, region=region,
        )[0].id
        for message in body.messages
    ]  # fmt: skip
    return ok(
        m.FactsBatchResponse(
            session_id=session.id,
            turn_ids=turn_ids,
            extractions=[extraction(turn_id) for turn_id in turn_ids],
        )
    )


# -- Reading -----------------------------------------------------------------------------------


def _matching_facts(
    call: Call, query: str, labels: Sequence[str], lens: Sequence[Sequence[str]] | None
) -> list[StoredFact]:
    """The live facts sharing a word with ``query``, carrying every label, in the lens."""
    # Only the facts sharing a word with the query can score above zero: the index has them.
    return [
        fact
        for fact in call.state.facts.sharing_words(query)
        if all(label in fact.labels for label in labels) and seen_through_lens(fact.scopes, lens)
    ]


Row = TypeVar("Row", StoredFact, "StoredFact | Passage")


def _best(
    query: str, rows: Sequence[Row], k: int | None, *, include_duplicates: bool = False
) -> list[tuple[float, Row]]:
    """The rows best matching ``query``, near-duplicates left out unless asked for, at most k."""
    hits: list[tuple[float, Row]] = []
    seen: set[tuple[str, ...]] = set()
    for value, row in best_first(query, [(row.text, row) for row in rows]):
        words = tuple(tokens(row.text))
        # Near-duplicates of an earlier hit are left out unless asked for, as Spectron does.
        if words in seen and not include_duplicates:
            continue
        seen.add(words)
        hits.append((value, row))
    return hits[: min(DEFAULT_K if k is None else k, MAX_K)]


def recall_hits(
    call: Call,
    query: str,
    k: int | None,
    labels: Sequence[str] = (),
    lens: Sequence[Sequence[str]] | None = None,
) -> list[tuple[float, StoredFact]]:
    """The live facts best matching ``query``: labelled, in the lens, best first, at most k."""
    return _best(query, _matching_facts(call, query, labels, lens), k)


RECALL_FAMILIES = ("facts", "passages")
"""What ``include`` selects; the document: 'Defaults to ["facts", "passages"] (both)'."""


def _validity_end(call: Call, fact: StoredFact) -> float | None:
    """When ``fact`` stopped being current: the next assertion of its entity's key, if any."""
    if fact.entity is None:
        return None
    later = [
        other.created_seconds
        for other in call.state.facts.of_entity(fact.entity)
        if other.key == fact.key and other.created_seconds > fact.created_seconds
    ]
    return min(later, default=None)


def _in_time(call: Call, body: m.QueryMemoryRequest) -> Callable[[float, float | None], bool]:
    """Whether a row valid from ``start`` until ``end`` (None: still) passes the time filters.

    The document: ``asOf`` surfaces "the row that was current as-of this instant";
    ``atInstant``, the state at that instant; ``validFrom`` "Filters rows whose `valid_from` is
    ≥ this timestamp"; ``validUntil`` "Filters rows whose `valid_until` is ≤ this timestamp".
    """
    bounds = {
        name: None if raw is None else rfc3339_seconds(name, raw)
        for name, raw in (
            ("asOf", body.as_of),
            ("atInstant", body.at_instant),
            ("validFrom", body.valid_from),
            ("validUntil", body.valid_until),
        )
    }
    as_of, at_instant = bounds["asOf"], bounds["atInstant"]
    valid_from, valid_until = bounds["validFrom"], bounds["validUntil"]

    def passes(start: float, end: float | None) -> bool:
        if as_of is not None and (start > as_of or (end is not None and end <= as_of)):
            return False
        if at_instant is not None and start > at_instant:
            return False
        if valid_from is not None and start < valid_from:
            return False
        return valid_until is None or (end is not None and end <= valid_until)

    return passes


@handles("recall")
def recall(call: Call) -> Answer:
    """The best matching facts and document passages, with the trace the search left.

    ``include`` picks the families (facts, passages; both by default, unknown names select
    nothing); ``sessionId`` must name a session and is kept on the trace; the time filters
    (``asOf``, ``atInstant``, ``validFrom``, ``validUntil``) take RFC 3339 instants.
    """
    body = call.body_as(m.QueryMemoryRequest)
    families = set(RECALL_FAMILIES if body.include is None else body.include)
    if body.session_id is not None and body.session_id not in call.state.sessions:
        raise invalid("sessionId", f"names no session of this context: {body.session_id!r}")
    in_time = _in_time(call, body)
    labels = body.labels or ()
    rows: list[StoredFact | Passage] = []
    if "facts" in families:
        rows += [
            fact
            for fact in _matching_facts(call, body.query, labels, body.lens)
            if in_time(fact.created_seconds, _validity_end(call, fact))
        ]
    if "passages" in families:
        rows += [
            passage
            for passage in passages(call.state)
            if all(label in passage.document.labels for label in labels)
            and seen_through_lens(passage.document.scopes, body.lens)
            and in_time(passage.document.processing_since, None)
        ]
    hits = _best(body.query, rows, body.k, include_duplicates=bool(body.include_duplicates))
    leave_trace(call, "retrieval", body.query, hits, session_id=body.session_id)
    seeds = dict.fromkeys(
        entity_id(row.entity) for _, row in hits if isinstance(row, StoredFact) and row.entity
    )
    return ok(
        m.QueryMemoryResponse(
            tier="hybrid",
            classification_kind="hybrid",
            query_ms=0,
            seed_entities=list(seeds),
            hits=[
                m.MemoryHit(
                    id=row.id,
                    text=row.text,
                    source="memory_chunk" if isinstance(row, StoredFact) else "chunk",
                    score=value,
                )
                for value, row in hits
            ],
            trace=m.QueryTrace(
                trace_id=call.trace_id,
                resolution_tier="hybrid",
                tier_reason=TIER_REASON,
                latency_ms=0,
                retrieved_count=len(hits),
                top_scores=[value for value, _ in hits],
            ),
        )
    )


@handles("query_context")
def query_context(call: Call) -> Answer:
    """The best matching facts as a prompt-ready context string."""
    body = call.body_as(m.ContextQueryRequest)
    hits = recall_hits(call, body.query, body.k, body.labels or (), body.lens)
    leave_trace(call, "retrieval", body.query, hits)
    lines = "\n".join(f"- {fact.text}" for _, fact in hits)
    return ok(m.ContextQueryResponse(context=lines, tier="hybrid", query_ms=0))


@handles("forget")
def forget(call: Call) -> Answer:
    """Soft-delete (or purge, or just count) the facts matching the query."""
    body = call.body_as(m.ForgetRequest)
    if not tokens(body.query):
        raise invalid("query", "must contain at least one word to match memories by")
    candidates = call.state.facts.sharing_words(body.query)
    matching = [fact for _, fact in best_first(body.query, _texts(candidates))]
    if not body.dry_run:
        if body.purge:
            gone = {fact.id for fact in matching}
            call.state.facts.purge(lambda fact: fact.id in gone)
        else:
            for fact in matching:
                call.state.facts.update(fact, forgotten=True)
    return ok(m.ForgetResponse(deleted=len(matching)))


def _texts(facts: Sequence[StoredFact]) -> list[tuple[str, StoredFact]]:
    return [(fact.text, fact) for fact in facts]


# -- Chat --------------------------------------------------------------------------------------


def chat_reply(hits: Sequence[tuple[float, StoredFact]]) -> str:
    """The fake's deterministic reply: the best matching fact, or an admission."""
    return REPLY_PREFIX + hits[0][1].text if hits else NOTHING_REMEMBERED


def _deltas(reply: str) -> list[str]:
    """The reply cut into word-sized deltas that concatenate back to it."""
    words = reply.split(" ")
    return [word if index == 0 else " " + word for index, word in enumerate(words)]


@handles("chat")
def chat(call: Call) -> Answer:
    """Reply from the best fact, record both turns, and stream on request."""
    body = call.body_as(m.ChatRequest)
    if not body.message.strip():
        raise invalid("message", "must not be empty")
    check_labels("labels", body.labels)
    scopes = freeze_scopes(body.scopes)
    session = open_session(
        call.state,
        call.ids,
        call.now,
        body.session_id,
        field_name="sessionId",
        scopes=scopes,
        region=filed_region(scopes, call.caller.grants),
    )
    hits = recall_hits(call, body.message, 5)
    reply = chat_reply(hits)
    user_turn = append_turn(call.state, call.ids, call.now, session, "user", body.message)
    append_turn(call.state, call.ids, call.now, session, "assistant", reply)
    leave_trace(call, "response", body.message, hits, session_id=session.id, reply=reply)
    if not body.stream:
        return ok(
            m.ChatResponse(
                reply=reply,
                memory_updates=extraction(user_turn.id),
                trace_id=call.trace_id,
                session_id=session.id,
            )
        )
    streamed = StreamedReply(tuple(_deltas(reply)), reply, call.trace_id, session.id)
    return Answer(content_type="text/event-stream", stream=streamed)


# -- Views -------------------------------------------------------------------------------------


def _category_state(
    call: Call, category: str, named: dict[Entity, list[StoredFact]], notes: list[StoredFact]
) -> m.CategoryState:
    in_category = {
        entity: facts
        for entity, facts in named.items()
        if facts and facts[0].memory_category == category
    }
    return m.CategoryState(
        entities=[entity_detail(entity, facts, call.now) for entity, facts in in_category.items()],
        attributes=[
            *(detail for facts in in_category.values() for detail in current_attributes(facts)),
            *(attribute_detail([note], 0) for note in notes if note.memory_category == category),
        ],
        relations=[
            relation_detail(relation)
            for relation in call.state.live_relations()
            if relation.memory_category == category
        ],
    )  # fmt: skip


@handles("state")
def state(call: Call) -> Answer:
    """Entities, attributes and relations, grouped by memory category."""
    live = call.state.facts.live()
    named = entities(call.state, live)  # once for the three categories
    notes = [fact for fact in live if fact.entity is None]
    return ok(
        m.StateResponse(
            identity=_category_state(call, "identity", named, notes),
            knowledge=_category_state(call, "knowledge", named, notes),
            context=_category_state(call, "context", named, notes),
            instructions=[],
            unknowns=[],
        )
    )


_PREFERENCE_WORDS = ("prefer", "like", "favourite", "favorite", "love")


@handles("profile")
def profile(call: Call) -> Answer:
    """Profile entries: current attributes, preferences and recent notes."""
    # Plain entries, validated all at once below: one ``model_validate`` checks every entry
    # against ``ProfileEntry`` as building each one would, without a Python call per entry.
    static: list[dict[str, str]] = []
    preferences: list[dict[str, str]] = []
    preferred: dict[str, bool] = {}  # per key: entities share their keys
    # One pass over the live facts (oldest first) for each entity's current value per key,
    # entities and keys in first-seen order: what ``entities`` then ``histories`` give, with
    # the last of each chain, without building the chains. A relation's bare endpoint has no
    # attribute, so no entry: the relations need no visit.
    current: dict[Entity, dict[str, StoredFact]] = {}
    notes: list[StoredFact] = []
    for fact in call.state.facts.live():
        if fact.entity is None:
            notes.append(fact)
            continue
        keys = current.setdefault(fact.entity, {})
        if fact.key is not None:
            keys[fact.key] = fact
    for (_, name), keys in current.items():
        for key, fact in keys.items():
            value = fact.value if fact.value is not None else fact.text
            entry = {"key": f"{name}.{key}", "value": value}
            static.append(entry)
            if key not in preferred:
                preferred[key] = any(word in key.lower() for word in _PREFERENCE_WORDS)
            if preferred[key]:
                preferences.append(entry)
    dynamic = [{"key": NOTE_KEY, "value": fact.text} for fact in reversed(notes)]
    return ok(
        m.ProfileResponse.model_validate(
            {"static": static, "dynamic": dynamic, "preferences": preferences, "instructions": []}
        )
    )
