"""Memory verbs: what is remembered is recalled, forgotten, reflected and chatted about."""

from __future__ import annotations

import asyncio

import pytest

from pytest_spectron import AsyncSpectron, FakeSpectron, Spectron
from pytest_spectron.client.models import Triple, TripleEntity
from pytest_spectron.testing import ServiceTransport, SpectronService


def test_remembered_fact_is_recalled_best_first(client: Spectron) -> None:
    """``recall`` ranks facts by shared words; unrelated facts are not hits."""
    client.remember("Alice drinks green tea every morning")
    client.remember("Bob drinks coffee")
    client.remember("The office is in Lyon")

    hits = client.recall("who drinks tea").hits

    assert [hit.text for hit in hits] == [
        "Alice drinks green tea every morning",
        "Bob drinks coffee",
    ]
    assert hits[0].score > hits[1].score


def test_recall_honours_k_and_labels(client: Spectron) -> None:
    """``k`` caps the hits; every label asked for must be on the fact."""
    for number in range(5):
        client.remember(f"note {number} about tea", labels=["kind=note"])
    client.remember("tea receipt", labels=["kind=receipt"])

    assert len(client.recall("tea", k=2).hits) == 2
    assert [hit.text for hit in client.recall("tea", labels=["kind=receipt"]).hits] == [
        "tea receipt"
    ]


def test_recall_honours_a_scope_lens(client: Spectron) -> None:
    """A lens shows the facts under its scopes (OR of clauses) and hides the rest."""
    client.remember("team a roadmap", scopes="team/a/")
    client.remember("team b roadmap", scopes="team/b/")
    client.remember("secret team b roadmap", scopes=[["team/b/", "clearance/secret/"]])

    def seen(lens: object) -> list[str]:
        return sorted(hit.text for hit in client.recall("roadmap", lens=lens).hits)  # type: ignore[arg-type]

    assert seen("team/a/") == ["team a roadmap"]
    assert seen([["team/b/", "clearance/secret/"]]) == ["secret team b roadmap"]
    assert seen(["team/a/", "team/b/"]) == sorted(
        ["team a roadmap", "team b roadmap", "secret team b roadmap"]
    )


def test_remember_answers_with_session_and_turn(client: Spectron, fake: FakeSpectron) -> None:
    """A new fact opens a session and a turn, as the document's response carries them."""
    answer = client.remember("first fact")
    again = client.remember("second fact", session_id=answer.session_id)

    assert again.session_id == answer.session_id
    turns = client.sessions.turns(answer.session_id).turns
    assert [turn.content for turn in turns] == ["first fact", "second fact"]
    assert [fact.turn_id for fact in fake.facts("ctx")] == [answer.turn_id, again.turn_id]


def test_triples_become_entities_with_history(client: Spectron) -> None:
    """Triples make entities whose attribute history is newest first."""
    alice = TripleEntity(type="person", name="alice")
    client.remember(triples=[Triple(entity=alice, key="drink", value="coffee")])
    client.remember(triples=[Triple(entity=alice, key="drink", value="tea")])

    entity = client.entities.get("person", "alice")
    history = client.entities.history("person", "alice", "drink").history

    assert entity.entity.name == "alice"
    assert [attribute.value for attribute in history] == ["tea", "coffee"]
    assert client.inspect("person/alice").kind == "entity"
    assert [entry.value for entry in client.profile().static] == ["coffee", "tea"]


def test_forget_counts_dry_runs_and_deletes(client: Spectron) -> None:
    """``dryRun`` counts without deleting; a real forget removes the matches."""
    client.remember("the door code is 1234")
    client.remember("the door is red")
    client.remember("lunch at noon")

    assert client.forget("door", dry_run=True).deleted == 2
    assert len(client.recall("door").hits) == 2
    assert client.forget("door").deleted == 2
    assert client.recall("door").hits == []
    assert [hit.text for hit in client.recall("lunch").hits] == ["lunch at noon"]


def test_state_reflects_what_is_stored(client: Spectron) -> None:
    """Facts show up in ``state`` under their memory category."""
    client.remember("I am a night owl", memory_category="identity")
    client.remember("Paris is in France")

    state = client.state()

    assert [a.value for a in state.identity.attributes] == ["I am a night owl"]
    assert [a.value for a in state.knowledge.attributes] == ["Paris is in France"]


def test_chat_answers_from_memory_and_records_turns(client: Spectron) -> None:
    """The reply quotes the best fact; the user and assistant turns join the session."""
    client.remember("Standup is at 9:30")

    answer = client.chat("when is standup?")

    assert answer.reply == "Based on what I remember: Standup is at 9:30"
    roles = [turn.role for turn in client.sessions.turns(answer.session_id).turns]
    assert roles == ["user", "assistant"]
    assert client.traces.get(answer.trace_id).query_text == "when is standup?"


def test_streamed_chat_sends_the_same_reply(client: Spectron) -> None:
    """The deltas of a streamed chat concatenate to the non-streamed reply."""
    client.remember("The office closes at 6pm")
    reply = client.chat("when does the office close?").reply

    with client.chat("when does the office close?", stream=True) as stream:
        chunks = list(stream)

    assert "".join(chunk.delta for chunk in chunks) == reply
    assert chunks[-1].done
    assert stream.completed


def test_async_client_sees_the_same_state(async_client: AsyncSpectron) -> None:
    """The async client remembers and recalls through the same fake."""

    async def main() -> list[str]:
        async with async_client:
            await async_client.remember("async facts work")
            return [hit.text for hit in (await async_client.recall("async")).hits]

    assert asyncio.run(main()) == ["async facts work"]


def test_replayed_idempotency_key_stores_once(client: Spectron, fake: FakeSpectron) -> None:
    """The same Idempotency-Key twice gives the first answer and one stored fact."""
    first = client.remember("only once", idempotency_key="key-1")
    second = client.remember("only once", idempotency_key="key-1")

    assert second == first
    assert [fact.text for fact in fake.facts("ctx")] == ["only once"]


def test_contexts_are_isolated(client: Spectron, service: SpectronService) -> None:
    """Facts remembered in one context are not recalled in another."""
    client.remember("context one fact")
    transport = ServiceTransport(service)
    with Spectron("other", "http://spectron.test", "key", transport=transport) as other:
        assert other.recall("context").hits == []
    assert service.fake.contexts() == ["ctx", "other"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("seed", [0, 1])
def test_answers_are_deterministic(seed: int) -> None:
    """Two fakes fed the same calls give identical answers."""

    def run() -> list[str]:
        service = SpectronService(FakeSpectron())
        transport = ServiceTransport(service)
        with Spectron("ctx", "http://spectron.test", "key", transport=transport) as client:
            client.remember(f"fact {seed}")
            return [
                client.recall("fact").model_dump_json(),
                client.chat("fact?").model_dump_json(),
                client.state().model_dump_json(),
            ]

    assert run() == run()
