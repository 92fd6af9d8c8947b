"""The fake's fact indexes: recall, forget and remember look only at the facts that can matter.

"Looked at" is counted, not timed: every fact a lexical search considers is scored once, and
every whole-store read goes through ``FactStore.live`` or ``FactStore.all``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from pytest_spectron import FakeSpectron, Spectron
from pytest_spectron.client.models import Triple, TripleEntity
from pytest_spectron.testing.fake import _facts, _text

UNRELATED = 200


class LookedAt(Counter[str]):
    """``scored``: facts a lexical search scored; ``scans``: reads of the whole store."""


@pytest.fixture
def looked_at(monkeypatch: pytest.MonkeyPatch) -> LookedAt:
    """Counts the facts the fake looks at from here on."""
    counts = LookedAt()
    score = _text.score

    def counting_score(query: str, text: str) -> float:
        counts["scored"] += 1
        return score(query, text)

    def counting(read: Callable[..., Any]) -> Callable[..., Any]:
        def scan(self: _facts.FactStore) -> Any:
            counts["scans"] += 1
            return read(self)

        return scan

    monkeypatch.setattr(_text, "score", counting_score)
    monkeypatch.setattr(_facts.FactStore, "live", counting(_facts.FactStore.live))
    monkeypatch.setattr(_facts.FactStore, "all", counting(_facts.FactStore.all))
    return counts


@pytest.fixture
def crowded(fake: FakeSpectron) -> FakeSpectron:
    """A context holding many facts that share no word with ``tea``."""
    for number in range(UNRELATED):
        fake.add_fact("ctx", f"weather report {number} from the coast")
    return fake


def test_recall_scores_only_the_facts_sharing_a_word(
    crowded: FakeSpectron, client: Spectron, looked_at: LookedAt
) -> None:
    """Among many unrelated facts, recall looks at the two that share a word with the query."""
    client.remember("Alice drinks green tea")
    client.remember("tea with Bob")

    hits = client.recall("tea").hits

    assert [hit.text for hit in hits] == ["tea with Bob", "Alice drinks green tea"]
    assert looked_at == {"scored": 2}


def test_forget_scores_only_the_facts_sharing_a_word(
    crowded: FakeSpectron, client: Spectron, looked_at: LookedAt
) -> None:
    """``forget`` finds what to delete through the same index."""
    client.remember("green tea")

    assert client.forget("tea").deleted == 1
    assert looked_at == {"scored": 1}


@pytest.mark.parametrize("purge", [False, True], ids=["soft", "purge"])
def test_a_forgotten_fact_leaves_the_index(
    client: Spectron, looked_at: LookedAt, purge: bool
) -> None:
    """A fact forgotten (softly or for good) is no longer looked at, nor recalled."""
    client.remember("green tea")
    client.remember("black coffee")
    client.forget("tea", purge=purge)
    looked_at.clear()

    assert client.recall("tea").hits == []
    assert looked_at["scored"] == 0
    assert [hit.text for hit in client.recall("coffee").hits] == ["black coffee"]


def test_a_scope_forget_leaves_the_index(client: Spectron, looked_at: LookedAt) -> None:
    """Facts erased with their scope are no longer looked at."""
    client.remember("team tea", scopes="team/a")
    client.remember("other tea", scopes="team/b")
    client.scopes.forget("team/a")
    looked_at.clear()

    assert [hit.text for hit in client.recall("tea").hits] == ["other tea"]
    assert looked_at["scored"] == 1


def test_an_updated_fact_stays_indexed_once(client: Spectron, looked_at: LookedAt) -> None:
    """A fact replaced by a copy (decay lowers its importance) is found once, as the copy."""
    fact_id = client.remember("green tea").chunk_id
    client.lifecycle.decay()
    looked_at.clear()

    assert [hit.id for hit in client.recall("tea").hits] == [fact_id]
    assert looked_at["scored"] == 1


def test_reset_empties_the_index(fake: FakeSpectron, client: Spectron) -> None:
    """After ``reset`` nothing remembered before is recalled."""
    client.remember("green tea")
    assert [hit.text for hit in client.recall("tea").hits] == ["green tea"]
    fake.reset()

    assert client.recall("tea").hits == []


def test_remember_with_triples_never_scans_the_store(
    crowded: FakeSpectron, client: Spectron, looked_at: LookedAt
) -> None:
    """Whether a triple's entity is new is asked of the entity index, not of every fact."""
    alice = TripleEntity(type="person", name="alice")
    first = client.remember(triples=[Triple(entity=alice, key="drinks", value="tea")])
    again = client.remember(triples=[Triple(entity=alice, key="eats", value="toast")])

    assert first.extraction is not None
    assert again.extraction is not None
    assert [entity.is_new for entity in first.extraction.entities] == [True]
    assert [entity.is_new for entity in again.extraction.entities] == [False]
    assert looked_at["scans"] == 0


def test_a_deleted_entity_is_new_again(client: Spectron) -> None:
    """Deleting an entity takes its facts out of the entity index."""
    alice = TripleEntity(type="person", name="alice")
    client.remember(triples=[Triple(entity=alice, key="drinks", value="tea")])
    client.entities.delete("person", "alice")

    again = client.remember(triples=[Triple(entity=alice, key="drinks", value="coffee")])

    assert again.extraction is not None
    assert [entity.is_new for entity in again.extraction.entities] == [True]
    assert client.recall("tea").hits == []
