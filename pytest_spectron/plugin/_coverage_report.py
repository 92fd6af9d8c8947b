"""The fault coverage figures: a tally of what the suite's tests did, and the report made of it.

Pure data: the terminal table, the JSON file and the HTML page (``_coverage_html``) all render
the ``CoverageReport`` this module builds.

An outcome is **covered** when a call **ended** in it: the application saw it. Spectron's
clients send no call id, so the journal numbers calls itself (``Attempt.call``, by the rule of
``Journal.call_of``: a retry of a retried class keeps the number of the call it repeats). A call
ends in the outcome of its last attempt. A fault injected into an earlier attempt of a call was
**absorbed** by the client's retries: it is counted apart, never as covered. Where a client gave
up on a retryable failure and the application sent the very same request again, the rule joins
the two calls: the outcome is then absorbed, never wrongly covered.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pytest_spectron.client._catalogue import CATALOGUE, RetryClass
from pytest_spectron.testing.faults._matrix import CLASS_OUTCOMES, matrix_outcome

if TYPE_CHECKING:
    from pytest_spectron.testing.service._journal import Attempt

__all__ = ["CoverageReport", "CoverageRow", "Tally", "calls"]

_Key = tuple[str, RetryClass]
"""An operation and the retry class of its attempts (``chat`` is ``stream`` when streamed)."""


def _percent(covered: int, total: int) -> float:
    """``covered / total`` in percent, rounded down to one decimal: 100.0 only if all is.

    Nothing to cover counts as fully covered, as coverage.py counts a file with no statements.
    """
    return 100.0 if total == 0 else 1000 * covered // total / 10


def calls(attempts: Iterable[Attempt]) -> list[list[Attempt]]:
    """One test's routed attempts grouped into calls, by the journal's numbering.

    :param attempts: the attempts, in journal order.
    :return: the calls, in the order they started, each its attempts in order.
    """
    grouped: dict[tuple[str, int], list[Attempt]] = {}
    for attempt in attempts:
        if attempt.operation is None or attempt.retry_class is None:
            continue  # unroutable: no operation to credit
        grouped.setdefault((attempt.operation, attempt.call), []).append(attempt)
    return list(grouped.values())


class Tally:
    """Attempts per operation and retry class, and the matrix outcomes passing tests injected.

    ``covered``: outcomes a call ended in; ``absorbed``: outcomes injected into attempts that
    the client's retries then got past.
    """

    def __init__(self) -> None:
        self.calls: Counter[_Key] = Counter()
        self.covered: dict[_Key, set[str]] = {}
        self.absorbed: dict[_Key, set[str]] = {}

    def add_test(self, attempts: Iterable[Attempt], *, passed: bool) -> None:
        """Count one test's attempts; if it passed, credit the failures its calls ended in."""
        for call in calls(attempts):
            for position, attempt in enumerate(call, start=1):
                assert attempt.operation is not None
                assert attempt.retry_class is not None
                key = (attempt.operation, attempt.retry_class)
                self.calls[key] += 1
                covered = self.covered.setdefault(key, set())
                absorbed = self.absorbed.setdefault(key, set())
                if not passed or attempt.fault is None:
                    continue
                outcome = matrix_outcome(attempt.outcome, attempt.retry_class)
                if outcome is not None:
                    (covered if position == len(call) else absorbed).add(outcome)

    def credit_explored(self, operation: str, retry_class: RetryClass, outcome: str) -> None:
        """Exploration made a call of ``operation`` end in ``outcome``, and the test passed."""
        key = (operation, retry_class)
        self.calls[key] += 0  # a fallback's operation may appear only under a fault
        covered = self.covered.setdefault(key, set())
        if outcome in CLASS_OUTCOMES[retry_class]:
            covered.add(outcome)

    def to_json(self) -> list[list[Any]]:
        """What a worker sends: ``[[operation, class, calls, [covered…], [absorbed…]], …]``."""
        return [
            [
                operation,
                retry_class,
                count,
                sorted(self.covered[operation, retry_class]),
                sorted(self.absorbed[operation, retry_class]),
            ]
            for (operation, retry_class), count in self.calls.items()
        ]

    def merge(self, data: Iterable[list[Any]]) -> None:
        """Add a worker's ``to_json()``."""
        for operation, retry_class, count, covered, absorbed in data:
            self.calls[operation, retry_class] += count
            self.covered.setdefault((operation, retry_class), set()).update(covered)
            self.absorbed.setdefault((operation, retry_class), set()).update(absorbed)

    def report(self) -> CoverageReport:
        """The rows, sorted by name, and the catalogue's operations that were never called."""
        rows = sorted(
            (self._row(operation, retry_class) for operation, retry_class in self.calls),
            key=lambda row: row.name,
        )
        called = {row.operation for row in rows}
        never_called = tuple(sorted(name for name in CATALOGUE if name not in called))
        return CoverageReport(rows=tuple(rows), never_called=never_called)

    def _row(self, operation: str, retry_class: RetryClass) -> CoverageRow:
        injected = self.covered[operation, retry_class]
        absorbed = self.absorbed[operation, retry_class]
        outcomes = CLASS_OUTCOMES[retry_class]
        missing = tuple(outcome for outcome in outcomes if outcome not in injected)
        return CoverageRow(
            operation=operation,
            retry_class=retry_class,
            calls=self.calls[operation, retry_class],
            covered=tuple(outcome for outcome in outcomes if outcome in injected),
            missing=missing,
            absorbed=tuple(outcome for outcome in missing if outcome in absorbed),
        )


@dataclass(frozen=True)
class CoverageRow:
    """One operation in one retry class: its calls and the matrix outcomes tested or not."""

    operation: str
    retry_class: RetryClass
    calls: int
    """Attempts the journal recorded, each retry counted."""
    covered: tuple[str, ...]
    """Outcomes a call of a passing test ended in: the application saw them."""
    missing: tuple[str, ...]
    """Outcomes not covered (absorbed ones included)."""
    absorbed: tuple[str, ...] = ()
    """Missing outcomes that passing tests injected, but only into attempts the client's
    retries got past: the application never saw them."""

    @property
    def name(self) -> str:
        """The operation, and the retry class if it is not the catalogue's: ``chat (stream)``."""
        if self.retry_class == CATALOGUE[self.operation].retry_class:
            return self.operation
        return f"{self.operation} ({self.retry_class})"

    @property
    def total(self) -> int:
        """How many outcomes the matrix lists for the retry class."""
        return len(self.covered) + len(self.missing)

    @property
    def percent(self) -> float:
        """The share covered, rounded down to one decimal."""
        return _percent(len(self.covered), self.total)


@dataclass(frozen=True)
class CoverageReport:
    """The fault coverage of a run."""

    rows: tuple[CoverageRow, ...]
    never_called: tuple[str, ...]
    """The catalogue's operations no test called: they have no row."""

    @property
    def covered(self) -> int:
        """Outcomes covered, over every row."""
        return sum(len(row.covered) for row in self.rows)

    @property
    def total(self) -> int:
        """Outcomes listed, over every row."""
        return sum(row.total for row in self.rows)

    @property
    def calls(self) -> int:
        """Attempts, over every row."""
        return sum(row.calls for row in self.rows)

    @property
    def percent(self) -> float:
        """The share covered, rounded down to one decimal."""
        return _percent(self.covered, self.total)

    def to_json(self) -> dict[str, Any]:
        """The report as ``--spectron-coverage-json`` writes it."""
        return {
            "version": 1,
            "operations": {
                row.name: {
                    "retry_class": row.retry_class,
                    "calls": row.calls,
                    "covered": list(row.covered),
                    "absorbed": list(row.absorbed),
                    "missing": list(row.missing),
                }
                for row in self.rows
            },
            "covered": self.covered,
            "total": self.total,
            "percent": self.percent,
        }

    def never_called_line(self) -> str:
        """How many of the catalogue's operations have no row."""
        return (
            f"{len(self.never_called)} of the {len(CATALOGUE)} operations were never called "
            "and have no row."
        )
