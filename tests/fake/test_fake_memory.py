"""Memory verbs: what is remembered is recalled, forgotten, shown in state and profile."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest
from pydantic import ValidationError

from pytest_spectron import (
    AsyncSpectron,
    FakeSpectron,
    Spectron,
    SpectronNotFoundError,
    SpectronValidationError,
)
from pytest_spectron.client.models import BatchMessage, Triple, TripleEntity

ALICE = TripleEntity(type="person", name="alice")


def test_remembered_fact_is_recalled_best_first(client: Spectron) -> None:
    """``recall`` ranks facts by shared words; a fact sharing none is not a hit."""
    client.remember("Alice drinks green tea every morning")
    client.remember("Bob drinks coffee")
    client.remember("The office is in Lyon")

    hits = client.recall("who drinks tea").hits

    assert [hit.text for hit in hits] == [
        "Alice drinks green tea every morning",
        "Bob drinks coffee",
    ]
    assert hits[0].score > hits[1].score > 0


def test_equal_scores_keep_insertion_order(client: Spectron) -> None:
    """Ties are broken by the order facts were remembered in."""
    for colour in ("red", "blue", "green"):
        client.remember(f"the {colour} kettle")

    assert [hit.text for hit in client.recall("kettle").hits] == [
        "the red kettle",
        "the blue kettle",
        "the green kettle",
    ]


def test_recall_honours_k_and_its_default_of_ten(client: Spectron) -> None:
    """``k`` caps the hits; without it at most ten come back."""
    for number in range(12):
        client.remember(f"note {number} about tea")

    assert len(client.recall("tea", k=3).hits) == 3
    assert len(client.recall("tea").hits) == 10


def test_recall_keeps_only_facts_with_every_label(client: Spectron) -> None:
    """Every label asked for must be on a fact for it to be a hit."""
    client.remember("tea receipt", labels=["kind=receipt", "shop=a"])
    client.remember("tea note", labels=["kind=note"])
    client.remember("tea receipt elsewhere", labels=["kind=receipt"])

    hits = client.recall("tea", labels=["kind=receipt", "shop=a"]).hits

    assert [hit.text for hit in hits] == ["tea receipt"]


def test_recall_honours_a_scope_lens(client: Spectron) -> None:
    """A lens shows the facts involving every path of one of its clauses, and hides the rest."""
    client.remember("team a roadmap", scopes="team/a")
    client.remember("team b roadmap", scopes="team/b")
    client.remember("secret team b roadmap", scopes=[["team/b", "clearance/secret"]])

    def seen(lens: str | list[str] | list[list[str]]) -> list[str]:
        return sorted(hit.text for hit in client.recall("roadmap", lens=lens).hits)

    assert seen("team/a") == ["team a roadmap"]
    assert seen([["team/b", "clearance/secret"]]) == ["secret team b roadmap"]
    assert seen("team/*") == ["secret team b roadmap", "team a roadmap", "team b roadmap"]


def test_recall_answers_with_its_trace(client: Spectron) -> None:
    """The inline trace carries the hit count, top scores and a trace id ``traces.get`` knows."""
    client.remember("traced fact")

    answer = client.recall("traced")

    assert (answer.trace.retrieved_count, answer.trace.top_scores) == (1, [answer.hits[0].score])
    assert client.traces.get(answer.trace.trace_id).query_text == "traced"


def test_remember_opens_a_session_and_records_the_turn(client: Spectron) -> None:
    """A fact without a session opens one; a fact naming it joins it as the next turn."""
    first = client.remember("first fact")
    again = client.remember("second fact", session_id=first.session_id, role="assistant")

    turns = client.sessions.turns(first.session_id).turns

    assert again.session_id == first.session_id
    assert [(t.seq, t.role, t.content) for t in turns] == [
        (1, "user", "first fact"),
        (2, "assistant", "second fact"),
    ]
    assert [turn.id for turn in turns] == [first.turn_id, again.turn_id]


def test_remember_into_an_unknown_session_is_a_400(client: Spectron, fake: FakeSpectron) -> None:
    """Naming a session that does not exist is a 400 (the document lists no 404 here)."""
    with pytest.raises(SpectronValidationError, match="sess-404"):
        client.remember("orphan", session_id="sess-404")
    assert fake.facts("ctx") == []


def test_remember_many_stores_each_message_as_a_turn(client: Spectron, fake: FakeSpectron) -> None:
    """A batch is one session, a turn per message, and each message is recallable."""
    answer = client.remember_many(
        [
            BatchMessage(role="user", content="I moved to Lyon"),
            BatchMessage(role="assistant", content="Noted: Lyon"),
        ]
    )

    assert len(answer.turn_ids) == len(answer.extractions) == 2
    assert [turn.role for turn in fake.sessions("ctx")[0].turns] == ["user", "assistant"]
    assert next(hit.text for hit in client.recall("moved Lyon").hits) == "I moved to Lyon"


def test_triples_become_entities_with_a_supersession_history(client: Spectron) -> None:
    """A newer value supersedes the older one; history lists both, newest first."""
    first = client.remember(triples=[Triple(entity=ALICE, key="drink", value="coffee")])
    client.remember(triples=[Triple(entity=ALICE, key="drink", value="tea")])

    entity = client.entities.get("person", "alice")
    history = client.entities.history("person", "alice", "drink").history

    assert first.mode == "triples"
    assert first.extraction is not None
    assert first.extraction.entities[0].is_new
    assert [attribute.value for attribute in entity.attributes] == ["tea"]
    assert [attribute.value for attribute in history] == ["tea", "coffee"]
    assert history[0].supersedes == history[1].id
    assert history[1].superseded_by == history[0].id


def test_triple_with_a_target_is_a_relation(client: Spectron) -> None:
    """A triple naming a target entity relates the two, and both become entities."""
    acme = TripleEntity(type="org", name="acme")
    client.remember(triples=[Triple(entity=ALICE, key="works_at", target=acme)])

    relations = client.entities.get("org", "acme").relations

    assert [(r.subject, r.label, r.object) for r in relations] == [
        ("person/alice", "works_at", "org/acme")
    ]
    assert client.inspect("relation:person/alice-[works_at]->org/acme").kind == "relation"


def test_inspect_resolves_the_documented_refs(client: Spectron) -> None:
    """Entity, attribute and trace refs resolve; an unknown referent is a 404."""
    client.remember(triples=[Triple(entity=ALICE, key="drink", value="tea")])
    trace_id = client.recall("alice").trace.trace_id

    assert client.inspect("entity:person/alice").kind == "entity"
    assert client.inspect("person/alice").kind == "entity"
    assert client.inspect("attribute:person/alice/drink").kind == "attribute"
    assert client.inspect(f"trace:{trace_id}").kind == "trace"
    with pytest.raises(SpectronNotFoundError):
        client.inspect("entity:person/bob")


def test_forget_dry_run_counts_without_deleting(client: Spectron) -> None:
    """``dryRun`` answers the count of matches and keeps them all."""
    client.remember("the door code is 1234")
    client.remember("the door is red")
    client.remember("lunch at noon")

    assert client.forget("door", dry_run=True).deleted == 2
    assert len(client.recall("door").hits) == 2


def test_forget_soft_deletes_what_matches(client: Spectron, fake: FakeSpectron) -> None:
    """Forgotten facts are no longer recalled but are kept, marked forgotten."""
    client.remember("the door code is 1234")
    client.remember("lunch at noon")

    assert client.forget("door").deleted == 1
    assert client.recall("door").hits == []
    assert [hit.text for hit in client.recall("lunch").hits] == ["lunch at noon"]
    assert [f.forgotten for f in fake.facts("ctx", include_forgotten=True)] == [True, False]


def test_forget_with_purge_removes_for_good(client: Spectron, fake: FakeSpectron) -> None:
    """``purge`` erases the matching facts from the store."""
    client.remember("the door code is 1234")

    assert client.forget("door", purge=True).deleted == 1
    assert fake.facts("ctx", include_forgotten=True) == []


def test_state_reflects_facts_by_memory_category(client: Spectron) -> None:
    """Free-text facts show under their category; entities under theirs."""
    client.remember("I am a night owl", memory_category="identity")
    client.remember("Paris is in France")
    client.remember(triples=[Triple(entity=ALICE, key="drink", value="tea")])
    client.forget("Paris")

    state = client.state()

    assert [a.value for a in state.identity.attributes] == ["I am a night owl"]
    assert [a.value for a in state.knowledge.attributes] == ["tea"]
    assert [e.id for e in state.knowledge.entities] == ["person/alice"]


def test_profile_comes_from_triples_and_notes(client: Spectron) -> None:
    """Static entries are current attribute values; dynamic entries the newest notes first."""
    client.remember(triples=[Triple(entity=ALICE, key="favourite_drink", value="coffee")])
    client.remember(triples=[Triple(entity=ALICE, key="favourite_drink", value="tea")])
    client.remember("first note")
    client.remember("second note")

    profile = client.profile()

    assert [(e.key, e.value) for e in profile.static] == [("alice.favourite_drink", "tea")]
    assert profile.preferences == profile.static
    assert [e.value for e in profile.dynamic] == ["second note", "first note"]


def test_query_context_composes_the_hits(client: Spectron) -> None:
    """The context string lists the hits, best first, one per line."""
    client.remember("Standup is at 9:30")
    client.remember("Standup happens in room 4")

    context = client.query_context("standup room").context

    assert context == "- Standup happens in room 4\n- Standup is at 9:30"


def test_reflect_and_consolidate_derive_from_the_store(client: Spectron) -> None:
    """``reflect`` quotes its evidence; ``consolidate`` reports the superseded attribute."""
    client.remember(triples=[Triple(entity=ALICE, key="drink", value="coffee")])
    client.remember(triples=[Triple(entity=ALICE, key="drink", value="tea")])

    reflection = client.reflect("alice drink")
    outcomes = client.consolidate().outcomes

    assert reflection.evidence == ["alice drink coffee", "alice drink tea"]
    assert [(o.kind, o.entity_name, o.value, o.proof_count) for o in outcomes] == [
        ("supersede", "alice", "tea", 2)
    ]


def test_fsck_finds_duplicates_and_contradictions(client: Spectron) -> None:
    """Two facts with the same words are duplicates; an attribute with two values disagrees."""
    client.remember("The office is in Lyon")
    client.remember("the office is in lyon!")
    client.remember(triples=[Triple(entity=ALICE, key="drink", value="coffee")])
    client.remember(triples=[Triple(entity=ALICE, key="drink", value="tea")])

    report = client.fsck()

    assert len(report.duplicates) == 1
    assert [(c.entity, c.values) for c in report.contradictions] == [
        ("person/alice", ["coffee", "tea"])
    ]


def test_replayed_idempotency_key_stores_once(client: Spectron, fake: FakeSpectron) -> None:
    """The same Idempotency-Key twice gives the first answer and one stored fact."""
    first = client.remember("only once", idempotency_key="key-1")
    second = client.remember("only once", idempotency_key="key-1")

    assert second == first
    assert [fact.text for fact in fake.facts("ctx")] == ["only once"]


def test_replay_returns_the_first_answer_byte_for_byte(http: httpx.Client) -> None:
    """A replay answers the first status, headers and body (a changed body is a 409 instead)."""
    headers = {"authorization": "Bearer key", "idempotency-key": "same"}
    first = http.post("/api/v1/ctx/facts", json={"text": "one"}, headers=headers)
    second = http.post("/api/v1/ctx/facts", json={"text": "one"}, headers=headers)

    assert (second.status_code, second.content) == (first.status_code, first.content)
    assert second.headers["x-trace-id"] == first.headers["x-trace-id"]


def test_idempotency_keys_are_per_context(
    fake: FakeSpectron, client: Spectron, client_with: Callable[..., Spectron]
) -> None:
    """The same key in another context is a new write."""
    other = client_with("key", "other")
    client.remember("here", idempotency_key="k")
    other.remember("there", idempotency_key="k")

    assert [f.text for f in fake.facts("ctx")] == ["here"]
    assert [f.text for f in fake.facts("other")] == ["there"]


def test_contexts_are_isolated(
    client: Spectron, fake: FakeSpectron, client_with: Callable[..., Spectron]
) -> None:
    """Facts remembered in one context are not recalled in another."""
    client.remember("context one fact")
    other = client_with("key", "other")

    assert other.recall("context").hits == []
    assert fake.contexts() == ["ctx", "other"]


def test_async_client_sees_the_same_state(async_client: AsyncSpectron) -> None:
    """The async client remembers and recalls through the same fake."""

    async def main() -> list[str]:
        async with async_client:
            await async_client.remember("async facts work")
            return [hit.text for hit in (await async_client.recall("async")).hits]

    assert asyncio.run(main()) == ["async facts work"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("facts", {"text": "x", "labels": ["_k=v"]}),
        ("facts/batch", {"messages": [{"role": "user", "content": "x"}], "labels": ["_k=v"]}),
        ("chat", {"message": "x", "labels": ["_k=v"]}),
    ],
)
def test_reserved_label_keys_are_a_400(
    http: httpx.Client, fake: FakeSpectron, path: str, body: dict[str, object]
) -> None:
    """A label whose key starts with ``_`` is refused, as the document says, and not stored."""
    answer = http.post(f"/api/v1/ctx/{path}", json=body, headers={"authorization": "Bearer key"})

    assert (answer.status_code, answer.json()["errors"][0]["field"]) == (400, "labels")
    assert fake.sessions("ctx") == []


def test_history_of_an_unknown_entity_is_empty(client: Spectron) -> None:
    """``entities.history`` lists no 404: an entity never seen has no history."""
    assert client.entities.history("person", "nobody", "drink").history == []


def test_elaborating_an_unknown_entity_is_a_400(client: Spectron) -> None:
    """``elaborate`` lists 400, not 404: an unknown ``entityRef`` is an invalid request."""
    with pytest.raises(SpectronValidationError, match="person/nobody"):
        client.elaborate(entity_ref="entity:person/nobody")


# -- recall's options, as the document's QueryMemoryRequestJson describes them ------------------


class Clock:
    """A fake's clock the test sets by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def at(seconds: int) -> str:
    """The RFC 3339 instant ``seconds`` after the fake's epoch."""
    return f"2026-01-01T00:00:{seconds:02d}Z"


@pytest.fixture
def timed(transport_for: Callable[[FakeSpectron], httpx.MockTransport]) -> tuple[Spectron, Clock]:
    """A client on a fake whose clock the test sets; Alice drank coffee at 10 s, tea from 20 s."""
    clock = Clock()
    fake = FakeSpectron(clock=clock)
    client = Spectron("ctx", "http://spectron.test", "key", transport=transport_for(fake))
    for seconds, drink in ((10, "coffee"), (20, "tea")):
        clock.now = seconds
        client.remember(triples=[Triple(entity=ALICE, key="drink", value=drink)], infer="triples")
    clock.now = 30
    return client, clock


def drinks(client: Spectron, **options: str) -> list[str]:
    """What recall finds of Alice's drinks with these options."""
    return [hit.text for hit in client.recall("alice drink", **options).hits]  # type: ignore[arg-type]


def test_recall_as_of_surfaces_the_row_current_then(timed: tuple[Spectron, Clock]) -> None:
    """``asOf``: "the retrieval path walks the supersession chain to surface the row that was
    current as-of this instant"."""
    client, _ = timed

    assert drinks(client, as_of=at(15)) == ["alice drink coffee"]
    assert drinks(client, as_of=at(25)) == ["alice drink tea"]
    assert drinks(client, as_of=at(5)) == []


def test_recall_at_instant_sees_the_rows_that_existed(timed: tuple[Spectron, Clock]) -> None:
    """``atInstant``: the substrate "state at the supplied instant", superseded rows included."""
    client, _ = timed

    assert drinks(client, at_instant=at(15)) == ["alice drink coffee"]
    assert sorted(drinks(client, at_instant=at(25))) == ["alice drink coffee", "alice drink tea"]


def test_recall_valid_bounds_filter_on_valid_time(timed: tuple[Spectron, Clock]) -> None:
    """``validFrom``: "Filters rows whose `valid_from` is ≥ this timestamp"; ``validUntil``:
    "Filters rows whose `valid_until` is ≤ this timestamp" (coffee stopped being valid at 20)."""
    client, _ = timed

    assert drinks(client, valid_from=at(15)) == ["alice drink tea"]
    assert drinks(client, valid_until=at(25)) == ["alice drink coffee"]
    assert drinks(client, valid_until=at(15)) == []


@pytest.mark.parametrize("field", ["asOf", "atInstant", "validFrom", "validUntil"])
def test_recall_time_filter_that_is_no_instant_is_a_400(http: httpx.Client, field: str) -> None:
    """A time filter that is not an RFC 3339 instant is an invalid request naming the field."""
    answer = http.post(
        "/api/v1/ctx/query",
        json={"query": "tea", field: "last tuesday"},
        headers={"authorization": "Bearer key"},
    )

    assert answer.status_code == 400
    assert answer.json()["errors"][0]["field"] == field


def test_recall_includes_document_passages(client: Spectron, fake: FakeSpectron) -> None:
    """``include`` "Defaults to ["facts", "passages"] (both)": a ready document's matching chunk
    is a hit with ``source`` ``chunk`` (the row table it lives in), its id and its text."""
    client.remember("Kettles need descaling")
    document = fake.add_document("ctx", b"kettles boil water")

    answer = client.recall("kettles")

    assert sorted((hit.source, hit.id, hit.text) for hit in answer.hits) == [
        ("chunk", f"{document}/0", "kettles boil water"),
        ("memory_chunk", "fact-000001", "Kettles need descaling"),
    ]
    [retrieval] = client.traces.get(answer.trace.trace_id).retrievals or []
    assert sorted(retrieval.retrieved_ids) == [f"chunk:{document}/0", "memory_chunk:fact-000001"]


@pytest.mark.parametrize(
    ("include", "sources"),
    [(["facts"], ["memory_chunk"]), (["passages"], ["chunk"]), ([], []), (["widgets"], [])],
)
def test_recall_include_picks_the_families(
    client: Spectron, fake: FakeSpectron, include: list[str], sources: list[str]
) -> None:
    """ "Pass either alone to scope the response": facts, passages, or (empty) neither."""
    client.remember("Kettles need descaling")
    fake.add_document("ctx", b"kettles boil water")

    hits = client.recall("kettles", include=include).hits

    assert [hit.source for hit in hits] == sources


def test_recall_passages_honour_labels_and_lens(client: Spectron, fake: FakeSpectron) -> None:
    """Labels and the lens narrow passages as they narrow facts."""
    fake.add_document("ctx", b"kettles boil water", labels=["kind=manual"], scopes="team/a")
    fake.add_document("ctx", b"kettles whistle loudly", scopes="team/b")

    labelled = client.recall("kettles", include=["passages"], labels=["kind=manual"]).hits
    in_lens = client.recall("kettles", include=["passages"], lens="team/b").hits

    assert [hit.text for hit in labelled] == ["kettles boil water"]
    assert [hit.text for hit in in_lens] == ["kettles whistle loudly"]


def test_recall_in_a_session_keeps_it_on_the_trace(client: Spectron, fake: FakeSpectron) -> None:
    """``sessionId`` names the session the question belongs to: its trace carries it."""
    session = client.sessions.create()

    answer = client.recall("anything", session_id=session.id)

    [trace] = [trace for trace in fake.traces("ctx") if trace.id == answer.trace.trace_id]
    assert trace.session_id == session.id


def test_recall_in_an_unknown_session_is_a_400(client: Spectron) -> None:
    """A ``sessionId`` naming no session is an invalid request, as for chat and remember."""
    with pytest.raises(SpectronValidationError, match="sessionId"):
        client.recall("anything", session_id="sess-999999")


def test_profile_answer_bytes_keep_their_entries_and_order(
    client: Spectron, http: httpx.Client
) -> None:
    """GET profile's bytes: each entity's current values in first-seen key order, preference
    keys repeated under ``preferences``, notes newest first; two entities of one name stay two
    (the answer built in one pass and one validation is the one built entry by entry)."""
    bob = TripleEntity(type="person", name="bob")
    client.remember(triples=[Triple(entity=ALICE, key="favourite_drink", value="coffee")])
    client.remember(triples=[Triple(entity=bob, key="age", value="41")])
    client.remember(
        triples=[Triple(entity=TripleEntity(type="pet", name="alice"), key="city", value="Rome")]
    )
    client.remember(triples=[Triple(entity=ALICE, key="city", value="Paris")])
    client.remember("first note")
    client.remember(triples=[Triple(entity=ALICE, key="favourite_drink", value="tea")])
    client.remember(triples=[Triple(entity=bob, key="Loves", value="chess")])
    client.remember("second note")

    answer = http.get("/api/v1/ctx/profile", headers={"authorization": "Bearer key"})

    assert answer.status_code == 200
    assert answer.content == (
        b'{"dynamic":[{"key":"note","value":"second note"},{"key":"note","value":"first note"}],'
        b'"instructions":[],'
        b'"preferences":[{"key":"alice.favourite_drink","value":"tea"},'
        b'{"key":"bob.Loves","value":"chess"}],'
        b'"static":[{"key":"alice.favourite_drink","value":"tea"},'
        b'{"key":"alice.city","value":"Paris"},{"key":"bob.age","value":"41"},'
        b'{"key":"bob.Loves","value":"chess"},{"key":"alice.city","value":"Rome"}]}'
    )


def test_profile_entries_are_still_checked_against_their_model(
    fake: FakeSpectron, client: Spectron
) -> None:
    """A profile entry the fake got wrong (a value that is no string) fails ``ProfileEntry``'s
    validation instead of reaching the wire."""
    client.remember(triples=[Triple(entity=ALICE, key="age", value="41")])
    facts = fake._context("ctx").facts
    facts.update(facts.live()[0], value=41)

    with pytest.raises(ValidationError, match=r"static\.0\.value"):
        client.profile()
