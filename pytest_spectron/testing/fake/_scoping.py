"""Scope paths and patterns, as Spectron's document defines them.

A scope path is canonical with one trailing slash (``team/a/``; ``/`` is the root). A pattern is
an exact node (``team/a``) or a subtree (``team/*``, ``/*``, ``*``). A selector is an OR of
AND-clauses (``[["team/a/"], ["team/b/", "clearance/secret/"]]``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from typing import Protocol

from pytest_spectron.client._scopes import ScopeSelector, normalize_scope_selector

__all__ = [
    "WHOLE_TREE",
    "Placed",
    "Sight",
    "canonical_path",
    "covers",
    "freeze_scopes",
    "in_region",
    "is_valid_path",
    "paths_of",
    "pattern_covers",
    "region_of",
    "seen_through_lens",
    "subtree_root",
]

WHOLE_TREE: tuple[tuple[str, ...], ...] = (("*",),)
"""The region of a row seeded without scopes: the whole tree, as written by a caller holding it."""


def canonical_path(path: str) -> str:
    """``path`` with surrounding spaces and slashes trimmed and one trailing slash (root ``/``)."""
    trimmed = path.strip().strip("/")
    return trimmed + "/" if trimmed else "/"


def is_valid_path(path: str) -> bool:
    """Whether ``path`` names one scope node: non-empty segments, no wildcard, no spaces."""
    trimmed = path.strip().strip("/")
    if not trimmed:
        return path.strip() == "/"
    return all(segment and segment.strip() == segment for segment in trimmed.split("/")) and (
        "*" not in trimmed
    )


def subtree_root(pattern: str) -> str | None:
    """The root of a subtree pattern (``team/*`` → ``team/``), or None for an exact node."""
    stripped = pattern.strip()
    if not stripped.endswith("*"):
        return None
    return canonical_path(stripped[:-1])


def covers(pattern: str, path: str) -> bool:
    """Whether a pattern (exact node or subtree) covers the scope node ``path``."""
    node = canonical_path(path.rstrip("*"))
    root = subtree_root(pattern)
    if root is None:
        return canonical_path(pattern) == node
    return root == "/" or node.startswith(root)


def pattern_covers(pattern: str, target: str) -> bool:
    """Whether grant ``pattern`` covers ``target``: a node, or a whole subtree (``team/*``).

    A subtree is covered only by a subtree pattern at or above its root: ``team/*`` covers
    ``team/a/*`` and ``team/a``, while ``team/a/*`` and the exact ``team`` cover no ``team/*``.
    """
    root = subtree_root(target)
    if root is None:
        return covers(pattern, target)
    held = subtree_root(pattern)
    return held is not None and (held == "/" or root.startswith(held))


def in_region(scopes: Iterable[Sequence[str]], patterns: Sequence[str]) -> bool:
    """Whether a row tagged ``scopes`` lies in the region ``patterns`` grant.

    The document's rule for a selector: "Each clause is an array of scope paths, ALL of which a
    reader must cover (AND); the outer array is the OR."
    """
    return any(
        all(any(pattern_covers(pattern, path) for pattern in patterns) for path in clause)
        for clause in scopes
    )


class Placed(Protocol):
    """A row that lies somewhere in the scope tree: a fact, a document, a session."""

    @property
    def scopes(self) -> tuple[tuple[str, ...], ...]:
        """The scopes it was written with, as DNF clauses; () if none."""

    @property
    def region(self) -> tuple[tuple[str, ...], ...]:
        """Where a write without scopes was filed: its writer's ``memory:write`` region."""


def region_of(row: Placed) -> tuple[tuple[str, ...], ...]:
    """Where a row lies: its scopes; else where its unscoped write was filed; else (seeded
    without scopes) the whole tree."""
    return row.scopes or row.region or WHOLE_TREE


class Sight:
    """What the running call may see: the rows in its region; every row outside a call.

    One per context, shared by its facts, documents, sessions, relations and traces, so one rule
    gates every read: the document's "permission gating from the caller's grants always applies".
    """

    def __init__(self) -> None:
        self._patterns: tuple[str, ...] | None = None
        self._verdicts: dict[tuple[tuple[str, ...], ...], bool] = {}
        """The call's verdict per region seen: rows share a few regions, so each is judged once
        (a GET state over 5,000 facts asked the same question 10,000 times)."""

    @contextlib.contextmanager
    def confined_to(self, patterns: Iterable[str]) -> Iterator[None]:
        """Within the block, only rows in the region ``patterns`` grant are seen."""
        held = tuple(patterns)
        # A grant of the whole tree sees every row, as outside a call.
        whole_tree = any(subtree_root(pattern) == "/" for pattern in held)
        self._patterns = None if whole_tree else held
        self._verdicts = {}
        try:
            yield
        finally:
            self._patterns = None

    def sees(self, row: Placed) -> bool:
        """Whether the running call may see ``row`` (outside a call: always)."""
        if self._patterns is None:
            return True
        region = region_of(row)
        verdict = self._verdicts.get(region)
        if verdict is None:
            verdict = self._verdicts[region] = in_region(region, self._patterns)
        return verdict

    def seen_region(self) -> tuple[tuple[str, ...], ...]:
        """Where a row made of what the running call saw lies (a trace): its whole region as
        one AND-clause, so only a reader seeing all of it sees the row; () outside a call, or
        for a call seeing nothing (``region_of`` files either in the whole tree)."""
        return (self._patterns,) if self._patterns else ()


def freeze_scopes(selector: ScopeSelector | None) -> tuple[tuple[str, ...], ...]:
    """A selector in any of its forms as frozen DNF clauses, for a record; ValueError if malformed.

    A request body's selector is already normal (its model normalises it); a seeding call's
    (``add_fact``, ``add_document``) may be in any form the client accepts.
    """
    if not selector:
        return ()
    return tuple(tuple(clause) for clause in normalize_scope_selector(selector))


def paths_of(selector: Iterable[Sequence[str]] | None) -> list[str]:
    """Every path a selector names, in order."""
    return [path for clause in selector or () for path in clause]


def seen_through_lens(
    scopes: Iterable[Sequence[str]], lens: Sequence[Sequence[str]] | None
) -> bool:
    """Whether a row tagged ``scopes`` is in a lens: some clause whose every pattern it involves."""
    if not lens:
        return True
    held = paths_of(scopes)
    return any(
        all(any(covers(pattern, path) for path in held) for pattern in clause) for clause in lens
    )
