"""Match a request's method and path to a catalogue operation, as Spectron's router would."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from pytest_spectron.client._catalogue import CATALOGUE, Operation
from pytest_spectron.client._suggest import nearest

__all__ = ["NoRoute", "Route", "is_route", "route"]


@dataclass(frozen=True)
class Route:
    """A matched request: the operation and its decoded path parameters."""

    operation: Operation
    parameters: dict[str, str]


class NoRoute(LookupError):
    """No operation answers this method and path."""

    def __init__(self, method: str, path: str, *, allowed: tuple[str, ...]) -> None:
        self.method = method
        self.path = path
        self.allowed = allowed
        """Methods the path does answer: non-empty means 405 rather than 404."""
        self.nearest = nearest_operations(method, path)
        super().__init__(self.describe())

    def describe(self) -> str:
        """What was asked, and what the catalogue has nearby."""
        if self.allowed:
            return f"{self.method} {self.path}: this path only answers {', '.join(self.allowed)}"
        hint = ", ".join(f"{op.name} ({op.method} {op.path})" for op in self.nearest)
        return f"{self.method} {self.path} matches no Spectron operation" + (
            f"; nearest: {hint}" if hint else ""
        )


def _compile(template: str) -> re.Pattern[str]:
    pattern = re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(template))
    return re.compile(f"^{pattern}/?$")


# Literal segments must win over parameters (``/documents/keywords`` is not document
# ``keywords``): try templates with more literal characters first. As in Spectron's router, a
# path is matched first and the method second: ``GET /documents/query`` is the path of
# ``documents.query``, which answers POST only (a 405), never document ``query``. A parameter
# never spans a ``/``, so only templates with as many segments as the path can match it: they
# are kept apart by segment count, and a request tries a handful of patterns, not all 56.
_Template = tuple[re.Pattern[str], dict[str, Operation]]


def _by_segment_count() -> dict[int, list[_Template]]:
    methods: dict[str, dict[str, Operation]] = {}
    for operation in CATALOGUE.values():
        methods.setdefault(operation.path, {})[operation.method] = operation
    table: dict[int, list[_Template]] = {}
    for template in sorted(methods, key=lambda path: -len(re.sub(r"{\w+}", "", path))):
        entry = (_compile(template), methods[template])
        table.setdefault(template.count("/"), []).append(entry)
    return table


_TABLE = _by_segment_count()


def route(method: str, path: str) -> Route:
    """The operation answering ``method`` on ``path``; raises ``NoRoute`` otherwise.

    ``NoRoute.allowed`` names the methods of the path's own template (a 405), or none (a 404).
    """
    for pattern, operations in _TABLE.get(path.rstrip("/").count("/"), ()):
        match = pattern.match(path)
        if match is None:
            continue
        operation = operations.get(method.upper())
        if operation is None:
            raise NoRoute(method.upper(), path, allowed=tuple(sorted(operations)))
        return Route(operation, {name: unquote(value) for name, value in match.groupdict().items()})
    raise NoRoute(method.upper(), path, allowed=())


def is_route(path: str) -> bool:
    """Whether some operation answers ``path``, by any method (cheap: no suggestions made)."""
    return any(pattern.match(path) for pattern, _ in _TABLE.get(path.rstrip("/").count("/"), ()))


def operations_at(path: str, method: str = "") -> list[Operation]:
    """The operations answering ``path`` by ``method`` (any case), or by any method if empty."""
    for pattern, operations in _TABLE.get(path.rstrip("/").count("/"), ()):
        if pattern.match(path):
            return [op for verb, op in operations.items() if not method or verb == method.upper()]
    return []


_ROUTE_CUTOFF = 0.4
"""A mistyped path differs from its route in more places than a mistyped name, so the least
similarity worth a suggestion is lower, and every route above it is shown (no spread)."""


def nearest_operations(method: str, path: str, limit: int = 3) -> list[Operation]:
    """The catalogue operations whose method and path look most like these."""
    generic = re.sub(r"^/api/v1/[^/]+", "/api/v1/{context_id}", path.rstrip("/"))
    candidates = {f"{op.method} {op.path}": op for op in CATALOGUE.values()}
    given = f"{method.upper()} {generic}"
    names = nearest(given, candidates, limit=limit, cutoff=_ROUTE_CUTOFF, spread=1.0)
    return [candidates[name] for name in names]
