"""What the fake remembers, per context, and the lexical scoring it searches by."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Context",
    "StoredDocument",
    "StoredFact",
    "StoredKey",
    "StoredSession",
    "StoredTrace",
    "StoredTurn",
    "score",
    "tokens",
]

_WORD = re.compile(r"[a-z0-9]+")
_STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "do",
        "does",
        "for",
        "from",
        "has",
        "have",
        "i",
        "in",
        "is",
        "it",
        "me",
        "my",
        "of",
        "on",
        "or",
        "the",
        "to",
        "was",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "with",
        "you",
        "your",
    ]
)


def tokens(text: str) -> list[str]:
    """The words of ``text`` that carry meaning, lower-cased."""
    return [word for word in _WORD.findall(text.lower()) if word not in _STOP_WORDS]


def score(query: str, text: str) -> float:
    """Deterministic lexical relevance in [0, 1]: shared words over the geometric mean length."""
    asked, found = set(tokens(query)), set(tokens(text))
    if not asked or not found:
        return 0.0
    return round(len(asked & found) / math.sqrt(len(asked) * len(found)), 6)


@dataclass
class StoredFact:
    """One remembered fact."""

    id: str
    text: str
    session_id: str
    turn_id: str
    role: str = "user"
    labels: tuple[str, ...] = ()
    scopes: tuple[tuple[str, ...], ...] = ()
    memory_category: str = "knowledge"
    created_at: str = ""
    entity: tuple[str, str] | None = None
    """(type, name) when the fact came from a triple."""
    key: str | None = None
    value: str | None = None
    deleted: bool = False


@dataclass
class StoredTurn:
    """One turn of a session."""

    id: str
    session_id: str
    role: str
    content: str
    seq: int
    created_at: str


@dataclass
class StoredSession:
    """A conversation session."""

    id: str
    created_at: str
    scopes: list[list[str]] = field(default_factory=list)
    metadata: Any = None
    turns: list[StoredTurn] = field(default_factory=list)


@dataclass
class StoredDocument:
    """An uploaded document, with its bytes."""

    id: str
    title: str
    mime_type: str
    source: str
    content: bytes
    content_hash: str
    created_at: str
    updated_at: str
    version: int = 1
    labels: tuple[str, ...] = ()
    scopes: tuple[tuple[str, ...], ...] = ()

    @property
    def text(self) -> str:
        """The content as text, for chunking and search."""
        return self.content.decode("utf-8", errors="replace")


@dataclass
class StoredKey:
    """A key minted through ``keys.create``; its secret is shown once, at minting."""

    id: str
    name: str
    secret: str
    created_at: str
    grants: dict[str, list[str]] | None = None
    valid_until: str | None = None


@dataclass
class StoredTrace:
    """A retrieval or response trace left by ``recall``, ``query_context`` or ``chat``."""

    id: str
    query_text: str
    created_at: str
    retrieved: int
    kind: str = "retrieval"


@dataclass
class Context:
    """Everything one context holds."""

    facts: list[StoredFact] = field(default_factory=list)
    sessions: dict[str, StoredSession] = field(default_factory=dict)
    documents: dict[str, StoredDocument] = field(default_factory=dict)
    keys: dict[str, StoredKey] = field(default_factory=dict)
    scopes: dict[str, str] = field(default_factory=dict)
    """Scope path → creation time."""
    principals: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    """Principal id → grants."""
    traces: list[StoredTrace] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)
    replays: dict[tuple[str, str], tuple[int, bytes]] = field(default_factory=dict)
    """(operation, Idempotency-Key) → the first answer's status and body."""

    def live_facts(self) -> list[StoredFact]:
        """Facts not forgotten, oldest first."""
        return [fact for fact in self.facts if not fact.deleted]

    def ranked(
        self, query: str, facts: Iterable[StoredFact], labels: Sequence[str] = ()
    ) -> list[tuple[float, StoredFact]]:
        """Facts matching ``query`` (and carrying every label), best first, ties oldest first."""
        scored = [
            (score(query, fact.text), fact)
            for fact in facts
            if all(label in fact.labels for label in labels)
        ]
        matching = [(value, fact) for value, fact in scored if value > 0]
        return sorted(matching, key=lambda pair: -pair[0])
