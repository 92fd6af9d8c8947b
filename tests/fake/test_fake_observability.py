"""Traces, audit, lifecycle, time and ids: what the fake records, and that it is deterministic."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from pytest_spectron import FakeSpectron, Spectron, SpectronNotFoundError
from pytest_spectron.client.models import Triple, TripleEntity

AUTH = {"authorization": "Bearer key"}
TransportFor = Callable[[FakeSpectron], httpx.MockTransport]


def test_recall_and_chat_leave_traces_newest_first(client: Spectron) -> None:
    """Each recall and chat leaves a trace; ``traces.list`` shows the newest first."""
    client.remember("traced")
    client.recall("traced")
    client.chat("traced?")

    assert [trace.query_text for trace in client.traces.list().traces] == ["traced?", "traced"]
    assert [trace.query_text for trace in client.traces.list(limit=1).traces] == ["traced?"]


def test_trace_stats_count_queries_and_responses(client: Spectron) -> None:
    """Stats count retrievals (recall and chat) and chat's response traces."""
    client.remember("counted")
    client.recall("counted")
    client.chat("counted?")

    stats = client.traces.stats()

    assert (stats.total_queries, stats.response_traces_total) == (2, 1)
    assert stats.retrieval.max_candidate_set == 1


def test_a_trace_record_lists_what_was_returned(client: Spectron) -> None:
    """A trace's retrieval names the facts it returned, ranked, with their scores."""
    client.remember("the kettle is blue")
    trace_id = client.recall("kettle").trace.trace_id

    retrieval = client.traces.get(trace_id).retrievals

    assert retrieval is not None
    assert [(ref.rank, ref.table) for ref in retrieval[0].returned] == [(1, "memory_chunk")]


def test_every_call_leaves_an_audit_row(client: Spectron) -> None:
    """Successful and failed calls alike leave a row, newest first, under the caller."""
    client.remember("audited")
    client.recall("audited")
    with pytest.raises(SpectronNotFoundError):
        client.documents.get("doc-missing")

    rows = client.audit().rows

    assert [row.kind for row in rows] == ["retrieval", "retrieval", "decision"]
    assert {row.principal for row in rows} == {client.whoami().principal_id}


def test_audit_filters_by_kind_and_limit(client: Spectron) -> None:
    """``kind`` keeps the rows of that kind; ``limit`` caps them."""
    client.remember("one")
    client.remember("two")
    client.chat("three?")

    assert [row.kind for row in client.audit(kind="response").rows] == ["response"]
    assert len(client.audit(limit=2).rows) == 2


def test_decay_lowers_every_importance(client: Spectron) -> None:
    """``lifecycle.decay`` counts the live memories and lowers their importance."""
    client.remember(triples=[Triple(entity=TripleEntity(type="p", name="a"), key="k", value="v")])

    assert client.lifecycle.decay().affected == 1
    assert client.entities.get("p", "a").attributes[0].importance == 0.45


def test_expire_sweeps_old_context_memories(transport_for: TransportFor) -> None:
    """``lifecycle.expire`` forgets context-category memories an hour old, and only those."""
    now = [0.0]
    fake = FakeSpectron(clock=lambda: now[0])
    fake.add_fact("ctx", "in a meeting", memory_category="context")
    fake.add_fact("ctx", "likes tea")
    now[0] = 3600.0

    with Spectron("ctx", "http://spectron.test", "key", transport=transport_for(fake)) as client:
        assert client.lifecycle.expire().affected == 1
    assert [fact.text for fact in fake.facts("ctx")] == ["likes tea"]


def test_timestamps_follow_the_given_clock(transport_for: TransportFor) -> None:
    """Timestamps are 2026-01-01T00:00:00Z plus the clock's seconds."""
    fake = FakeSpectron(clock=lambda: 90.5)

    with Spectron("ctx", "http://spectron.test", "key", transport=transport_for(fake)) as client:
        session = client.sessions.create()

    assert session.created_at == "2026-01-01T00:01:30.500Z"


def test_default_clock_moves_one_second_per_request(client: Spectron) -> None:
    """The default clock never reads the wall clock: request n happens at second n - 1."""
    first = client.sessions.create()
    second = client.sessions.create()

    assert (first.created_at, second.created_at) == ("2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z")


def test_ids_count_per_kind(client: Spectron, fake: FakeSpectron) -> None:
    """Ids are per-kind counters: the first fact, session and document are all number one."""
    answer = client.remember("first")
    document = client.documents.upload(b"first", filename="a.txt")

    assert (fake.facts("ctx")[0].id, answer.session_id, document.id) == (
        "fact-000001",
        "sess-000001",
        "doc-000001",
    )


def _script(transport: httpx.MockTransport) -> list[tuple[int, list[tuple[str, str]], bytes]]:
    """A run of calls touching most of the state; every answer, whole."""
    calls: list[tuple[str, str, dict[str, object] | None]] = [
        ("POST", "/api/v1/ctx/facts", {"text": "Alice drinks tea"}),
        ("POST", "/api/v1/ctx/facts/batch", {"messages": [{"role": "user", "content": "hi"}]}),
        ("POST", "/api/v1/ctx/query", {"query": "tea"}),
        ("POST", "/api/v1/ctx/chat", {"message": "tea?"}),
        ("POST", "/api/v1/ctx/chat", {"message": "tea?", "stream": True}),
        ("POST", "/api/v1/ctx/keys", {"name": "ci"}),
        ("GET", "/api/v1/ctx/state", None),
        ("GET", "/api/v1/ctx/traces", None),
        ("GET", "/api/v1/ctx/audit", None),
        ("GET", "/api/v1/ctx/documents/doc-404", None),
    ]
    answers = []
    with httpx.Client(transport=transport, base_url="http://spectron.test") as http:
        for method, path, body in calls:
            answer = http.request(method, path, json=body, headers=AUTH)
            answers.append((answer.status_code, list(answer.headers.items()), answer.content))
    return answers


def test_two_fakes_fed_the_same_calls_answer_identically(transport_for: TransportFor) -> None:
    """Statuses, headers and bodies (ids, times, trace ids, minted secrets) all repeat."""
    first = _script(transport_for(FakeSpectron()))
    second = _script(transport_for(FakeSpectron()))

    assert first == second


def test_reset_forgets_state_and_auth(fake: FakeSpectron, client: Spectron) -> None:
    """After ``reset`` the fake is as new: no contexts, any key accepted, ids from one again."""
    client.remember("before")
    fake.set_api_keys({"other": None})
    assert fake.contexts() == ["ctx"]

    fake.reset()

    assert fake.contexts() == []
    client.remember("after")
    assert fake.facts("ctx")[0].id == "fact-000001"


def test_concurrent_requests_are_all_stored(client_with: Callable[..., Spectron]) -> None:
    """Many threads remembering at once lose nothing and never share an id."""
    clients = [client_with("key") for _ in range(8)]

    def remember(number: int) -> str:
        return clients[number % 8].remember(f"fact {number}").turn_id or ""

    with ThreadPoolExecutor(max_workers=8) as pool:
        turn_ids = list(pool.map(remember, range(200)))

    assert len(set(turn_ids)) == 200
    assert len(clients[0].recall("fact", k=50).hits) == 50


def test_seeded_fact_is_recalled_with_its_labels_and_scopes(
    fake: FakeSpectron, client: Spectron
) -> None:
    """``add_fact`` stores a fact the client finds, in the session it names."""
    session = client.sessions.create()
    fact_id = fake.add_fact(
        "ctx", "seeded tea fact", labels=["kind=seed"], scopes="team/a", session_id=session.id
    )

    hits = client.recall("tea", labels=["kind=seed"], lens="team/a").hits

    assert [hit.id for hit in hits] == [fact_id]
    assert [turn.content for turn in client.sessions.turns(session.id).turns] == ["seeded tea fact"]


def test_seeding_into_an_unknown_session_is_a_key_error(fake: FakeSpectron) -> None:
    """A seeding mistake fails at once, in the test, naming the session."""
    with pytest.raises(KeyError, match="sess-missing"):
        fake.add_fact("ctx", "text", session_id="sess-missing")


def test_inspected_records_are_frozen(fake: FakeSpectron) -> None:
    """What ``facts`` returns cannot change the fake's state behind its back."""
    fake.add_fact("ctx", "immutable")

    with pytest.raises(dataclasses.FrozenInstanceError):
        fake.facts("ctx")[0].text = "changed"  # type: ignore[misc]


def test_a_long_running_fake_keeps_its_last_records(transport_for: TransportFor) -> None:
    """``record_limit=3``: traces, audit rows and replays keep the newest three each; facts stay.

    So a ``serve`` left running for days stays bounded, as Spectron's own retention window does.
    """
    fake = FakeSpectron(record_limit=3)
    with Spectron("ctx", "http://spectron.test", "key", transport=transport_for(fake)) as client:
        first = client.remember("fact 0", idempotency_key="key-0")
        for number in range(1, 5):
            client.remember(f"fact {number}", idempotency_key=f"key-{number}")
        for word in ("a", "b", "c", "d", "e"):
            client.recall(word)

        assert [trace.query_text for trace in client.traces.list().traces] == ["e", "d", "c"]
        assert len(client.audit().rows) == 3
        assert len(fake.facts("ctx")) == 5
        # key-4 is still remembered: replayed; key-0 was forgotten: stored again.
        client.remember("fact 4", idempotency_key="key-4")
        assert len(fake.facts("ctx")) == 5
        again = client.remember("fact 0", idempotency_key="key-0")
        assert again.turn_id != first.turn_id
        assert len(fake.facts("ctx")) == 6


@pytest.mark.parametrize("limit", [0, -1])
def test_a_record_limit_below_one_is_refused(limit: int) -> None:
    """0 would keep nothing (None keeps everything): refused, saying so."""
    with pytest.raises(ValueError, match="record_limit must be 1 or more"):
        FakeSpectron(record_limit=limit)
