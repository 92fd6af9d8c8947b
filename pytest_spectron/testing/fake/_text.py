"""Deterministic text handling: the fake's tokens, lexical score, chunks and keywords.

Spectron ranks with embeddings and an LLM; the fake ranks by shared words, so a test can predict
every answer: the same calls always give the same hits in the same order.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import TypeVar

__all__ = [
    "CHUNK_SIZE",
    "best_first",
    "chunk_spans",
    "keywords",
    "score",
    "tokens",
]

CHUNK_SIZE = 200
"""Characters per document chunk."""

_WORD = re.compile(r"[^\W_]+")
_STOP_WORDS = frozenset(
    (
        "a",
        "about",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "had",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "is",
        "it",
        "its",
        "me",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "so",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "us",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
    )
)

T = TypeVar("T")


def tokens(text: str) -> list[str]:
    """The words of ``text`` that carry meaning, lower-cased, in order (stop words dropped)."""
    return [word for word in _WORD.findall(text.lower()) if word not in _STOP_WORDS]


def score(query: str, text: str) -> float:
    """Lexical relevance in [0, 1]: distinct shared words over the geometric mean of the counts."""
    asked, found = set(tokens(query)), set(tokens(text))
    if not asked or not found:
        return 0.0
    return round(len(asked & found) / math.sqrt(len(asked) * len(found)), 6)


def best_first(query: str, items: Iterable[tuple[str, T]]) -> list[tuple[float, T]]:
    """The items whose text scores above zero for ``query``, best first, ties in given order."""
    scored = [(score(query, text), item) for text, item in items]
    # ``sorted`` is stable: equal scores keep their insertion order.
    return sorted(((value, item) for value, item in scored if value > 0), key=lambda p: -p[0])


def chunk_spans(text: str, size: int = CHUNK_SIZE) -> list[tuple[int, int]]:
    """(start, end) character offsets of the fixed-size chunks that cover ``text``."""
    return [(start, min(start + size, len(text))) for start in range(0, len(text), size)]


def keywords(texts: Sequence[str], limit: int = 10) -> list[tuple[str, float]]:
    """The most frequent words longer than three letters, with a score relative to the first."""
    counts = Counter(word for text in texts for word in tokens(text) if len(word) > 3)
    ranked = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))[:limit]
    if not ranked:
        return []
    top = ranked[0][1]
    return [(word, round(count / top, 6)) for word, count in ranked]
