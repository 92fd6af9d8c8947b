"""Scope selectors: the forms Spectron accepts for a DNF scope set, and their one normal form.

Spectron's ``ScopeSets`` is an OR of AND-clauses, each clause a list of scope paths. Callers may
write it three ways, and :func:`normalize_scope_selector` turns each into the list of lists the
server is sent:

- one path, ``"team/a"``: ``[["team/a"]]``;
- a flat list of paths, any of which will do, ``["team/a", "team/b"]``:
  ``[["team/a"], ["team/b"]]``;
- a list of clauses, ``[["team/a"], ["team/b", "clearance/secret"]]``: as given (a bare path
  among the clauses is a one-path clause).

An empty list means unscoped: the caller's default region.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias, TypeGuard

from pydantic import ValidationInfo

__all__ = ["ScopeSelector", "normalize_scope_selector", "read_scope_sets"]

ScopeSelector: TypeAlias = str | Sequence[str | Sequence[str]]
"""What a client method accepts for a scope selector: any of the three official forms."""

_ACCEPTED_FORMS = (
    "a scope selector is a path ('team/a'), a list of paths any of which will do "
    "(['team/a', 'team/b']), or a list of clauses whose paths must all hold "
    "([['team/a'], ['team/b', 'clearance/secret']]), each path a non-empty string"
)


def normalize_scope_selector(value: object) -> list[list[str]]:
    """The DNF clauses ``value`` stands for; a ValueError, naming the accepted forms, if none."""
    if isinstance(value, str):
        return [[_path(value, value)]]
    if not _is_sequence(value):
        raise ValueError(f"{_ACCEPTED_FORMS}; got {value!r}")
    clauses: list[list[str]] = []
    for clause in value:
        if isinstance(clause, str):
            clauses.append([_path(clause, value)])
        elif _is_sequence(clause):
            clauses.append([_path(path, value) for path in clause])
        else:
            raise ValueError(f"{_ACCEPTED_FORMS}; got {value!r}")
    return clauses


def _is_sequence(value: object) -> TypeGuard[Sequence[object]]:
    """A list or tuple-like sequence, but not a string or bytes (which are sequences too)."""
    return isinstance(value, Sequence) and not isinstance(value, str | bytes | bytearray)


def _path(path: object, selector: object) -> str:
    """``path`` if it is a non-empty string; otherwise a ValueError showing the whole selector."""
    if not isinstance(path, str) or not path.strip():
        raise ValueError(f"{_ACCEPTED_FORMS}; got {selector!r}")
    return path


def read_scope_sets(value: object, info: ValidationInfo) -> list[list[str]]:
    """A ``ScopeSets`` field: any selector form from Python, only the document's on the wire.

    The client takes the three forms above; Spectron reads only the document's ``ScopeSets``, a
    list of clauses each a list of paths. A body read as Spectron reads it (validation context
    ``{"wire": True}``, as the fake reads requests) is refused in any other form.
    """
    on_the_wire = bool(info.context and info.context.get("wire"))
    if on_the_wire and not _is_document_form(value):
        raise ValueError(
            "a scope set on the wire is a list of clauses, each a list of scope paths "
            "([['team/a'], ['team/b']]), as the document types ScopeSets"
        )
    return normalize_scope_selector(value)


def _is_document_form(value: object) -> bool:
    """Whether ``value`` is a list of lists of strings, the document's ``ScopeSets``."""
    return _is_sequence(value) and all(
        _is_sequence(clause) and all(isinstance(path, str) for path in clause) for clause in value
    )
