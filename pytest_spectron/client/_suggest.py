"""The one "did you mean" of the project: the accepted values nearest a mistyped one.

Suggestions rank by similarity, and only those nearly as close as the best are shown, so a typo
such as ``"stat"`` suggests ``state`` and nothing far-fetched beside it.
"""

from __future__ import annotations

from collections.abc import Iterable
from difflib import SequenceMatcher

__all__ = ["did_you_mean", "nearest"]

_CUTOFF = 0.6
"""Similarity (0 to 1) below which a value is not suggested at all."""
_SPREAD = 0.1
"""How much less similar than the best a suggestion may be."""


def nearest(
    given: object,
    accepted: Iterable[str],
    *,
    limit: int = 3,
    cutoff: float = _CUTOFF,
    spread: float = _SPREAD,
) -> list[str]:
    """Up to ``limit`` accepted values closest to ``given``, the closest first.

    ``cutoff`` is the least similarity (0 to 1) worth suggesting, ``spread`` how much less
    similar than the best a suggestion may be; the defaults suit a mistyped name.
    """
    text = str(given).strip().lower()
    scored = []
    for value in dict.fromkeys(accepted):
        matcher = SequenceMatcher(None, text, value.lower())
        scored.append((matcher.ratio(), value))
    scored.sort(key=lambda pair: -pair[0])
    if not scored or scored[0][0] < cutoff:
        return []
    best = scored[0][0]
    return [value for score, value in scored[:limit] if score >= max(cutoff, best - spread)]


def did_you_mean(given: object, accepted: Iterable[str]) -> str:
    """``"; did you mean 'state'?"``, or an empty string when nothing is close."""
    found = nearest(given, accepted)
    return f"; did you mean {', '.join(map(repr, found))}?" if found else ""
