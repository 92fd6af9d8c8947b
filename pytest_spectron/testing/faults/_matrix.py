"""The status matrix: what the documented policy does with each failure, for each retry class.

Every row is derived from the client's own policy (its status→error map, its retry classes and its
backoff schedule), so the matrix can never disagree with the client it describes. Use it to
parametrize a test of your own application over every way Spectron can fail.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from pytest_spectron._shared._validators import is_int
from pytest_spectron.client._catalogue import RETRY_CLASSES, RetryClass
from pytest_spectron.client._exceptions import (
    SpectronConnectionError,
    SpectronError,
    SpectronStreamError,
    SpectronTimeoutError,
    error_class_for_status,
)
from pytest_spectron.client._retry import (
    DEFAULT_MAX_RETRIES,
    backoff,
    is_retryable_status,
    retries_allowed,
)

__all__ = [
    "CLASS_OUTCOMES",
    "JOURNAL_OUTCOMES",
    "MATRIX_OUTCOMES",
    "REPRESENTATIVE_OPERATIONS",
    "STATUS_MATRIX",
    "STREAM_OUTCOMES",
    "MatrixCase",
    "MatrixOutcome",
    "matrix_outcome",
    "merge_shared_cases",
    "status_matrix",
]

MatrixOutcome = str
"""An outcome id, as the attempt journal and the coverage report spell it: a status (``"503"``),
``"connect"``, ``"read_timeout"`` or ``"stream_cut"``."""
MATRIX_OUTCOMES: Final[tuple[MatrixOutcome, ...]] = (
    "400",
    "401",
    "403",
    "404",
    "409",
    "422",
    "429",
    "500",
    "502",
    "503",
    "504",
    "connect",
    "read_timeout",
)
"""Every failure the policy names: the statuses, a connection error and a timeout."""
STREAM_OUTCOMES: Final[tuple[MatrixOutcome, ...]] = ("stream_cut",)
"""The failures only a stream has: the connection dropped after some frames."""

REPRESENTATIVE_OPERATIONS: Final[dict[RetryClass, str]] = {
    "read": "state",
    "idempotent_write": "remember",
    "write": "forget",
    "stream": "chat",
}
"""One operation of each retry class, for tests that need a concrete call."""

_NETWORK_ERRORS: Final[dict[str, type[SpectronError]]] = {
    "connect": SpectronConnectionError,
    "read_timeout": SpectronTimeoutError,
    "stream_cut": SpectronStreamError,
}


@dataclass(frozen=True)
class MatrixCase:
    """One cell: a failure on every attempt of a call of one retry class, and what follows.

    ``status_matrix`` builds them from the client's policy; a test reads them (``spectron_case``).
    """

    outcome: MatrixOutcome
    """The injected failure's id, always a str as in the journal and the coverage report: an HTTP
    status (``"503"``), ``"connect"``, ``"read_timeout"`` or, for streams, ``"stream_cut"``.
    ``spectron_mock.fail(op, case.outcome)`` injects it."""
    retry_class: RetryClass
    """The retry class of the call the case describes; the first of ``retry_classes``."""
    error: type[SpectronError]
    """The exception the client raises once it gives up."""
    attempts: int
    """How many requests reach the server."""
    sleeps: tuple[float, ...]
    """The waits requested between them."""
    shared_with: tuple[RetryClass, ...] = ()
    """Other retry classes whose calls meet the failure with the same error, attempts and waits:
    ``("stream",)`` for a case ``chat`` has alike whether it is called plainly or streamed."""

    @property
    def retry_classes(self) -> tuple[RetryClass, ...]:
        """Every retry class the case holds for: ``("write", "stream")`` for a shared chat case."""
        return (self.retry_class, *self.shared_with)

    @property
    def operation(self) -> str:
        """A representative operation of the retry class (``state`` for reads…)."""
        return REPRESENTATIVE_OPERATIONS[self.retry_class]

    @property
    def retried(self) -> bool:
        """Whether the client retries this failure at all."""
        return self.attempts > 1

    @property
    def id(self) -> str:
        """A short test id such as ``read-503``, ``write-connect`` or ``write+stream-503``."""
        return f"{'+'.join(self.retry_classes)}-{self.outcome}"

    def __str__(self) -> str:
        return self.id


def status_matrix(
    *,
    max_retries: int = DEFAULT_MAX_RETRIES,
    retry_classes: Iterable[RetryClass] = RETRY_CLASSES,
    outcomes: Iterable[int | str] | None = None,
) -> list[MatrixCase]:
    """The matrix for a client with ``max_retries``, restricted to some classes or outcomes.

    By default every class gets ``MATRIX_OUTCOMES``, and the ``stream`` class ``STREAM_OUTCOMES``
    too; a ``stream_cut`` among chosen ``outcomes`` only applies to the ``stream`` class.

    :param max_retries: the client's ``max_retries``, which sets each case's attempts and waits.
    :param retry_classes: the retry classes to cover, in order.
    :param outcomes: the failures to cover (statuses 400-599, as ints or ids such as ``"503"``,
        ``"connect"``, ``"read_timeout"``, ``"stream_cut"``); None for the defaults above.
    :raises ValueError: an outcome is no failure the matrix knows.
    :return: one case per retry class and outcome, classes first.
    """
    chosen = None if outcomes is None else [_outcome_id(item) for item in outcomes]
    cases = []
    for retry_class in retry_classes:
        streams = retry_class == "stream"
        if chosen is None:
            selected = [*MATRIX_OUTCOMES, *(STREAM_OUTCOMES if streams else ())]
        else:
            selected = [item for item in chosen if streams or item not in STREAM_OUTCOMES]
        for outcome in selected:
            error = _error_for(outcome)
            retryable = outcome in ("connect", "read_timeout") or (
                outcome.isdigit() and is_retryable_status(int(outcome))
            )
            retries = retries_allowed(retry_class, max_retries) if retryable else 0
            sleeps = tuple(backoff(number) for number in range(1, retries + 1))
            cases.append(MatrixCase(outcome, retry_class, error, retries + 1, sleeps))
    return cases


def merge_shared_cases(cases: Iterable[MatrixCase]) -> list[MatrixCase]:
    """The cases, with those that differ only by retry class made one (``shared_with`` says whose).

    For the calls of one operation: ``chat`` called plainly (``write``) and streamed (``stream``)
    are both sent once, so they share every case but ``stream_cut``, which only a stream has.
    """
    merged: dict[tuple[object, ...], MatrixCase] = {}
    for case in cases:
        key = (case.outcome, case.error, case.attempts, case.sleeps)
        first = merged.get(key)
        if first is None:
            merged[key] = case
        else:
            shared = (*first.shared_with, *case.retry_classes)
            merged[key] = dataclasses.replace(first, shared_with=shared)
    return list(merged.values())


def _outcome_id(outcome: object) -> MatrixOutcome:
    """An outcome as its id: a status int becomes ``"503"``; a str is kept as given."""
    if is_int(outcome):
        return str(outcome)
    if isinstance(outcome, str):
        return outcome
    raise ValueError(f"unknown outcome {outcome!r}: a status or one of {_ACCEPTED_WORDS}")


_ACCEPTED_WORDS = ", ".join(map(repr, _NETWORK_ERRORS))


def _error_for(outcome: MatrixOutcome) -> type[SpectronError]:
    if not (outcome.isascii() and outcome.isdigit()):
        try:
            return _NETWORK_ERRORS[outcome]
        except KeyError:
            message = f"unknown outcome {outcome!r}: a status or one of {_ACCEPTED_WORDS}"
            raise ValueError(message) from None
    status = int(outcome)
    if not 400 <= status <= 599:
        raise ValueError(f"the matrix covers failures: statuses 400-599, got {outcome}")
    return error_class_for_status(status)


STATUS_MATRIX: Final[tuple[MatrixCase, ...]] = tuple(status_matrix())
"""The whole matrix for the default client (``max_retries=3``)."""

CLASS_OUTCOMES: Final[dict[RetryClass, tuple[str, ...]]] = {
    retry_class: tuple(case.outcome for case in status_matrix(retry_classes=[retry_class]))
    for retry_class in RETRY_CLASSES
}
"""The outcome ids of each retry class, in the status matrix's order (``"503"``, ``"connect"``…)."""

JOURNAL_OUTCOMES: Final[dict[str, str]] = {"reset": "connect", "connect_timeout": "read_timeout"}
"""Journal outcomes that the client meets as another matrix outcome.

A reset connection is a connection error, a connect timeout a timeout. The other journal words
are matrix ids already: a status (a malformed body is journalled as the status it was sent with),
``connect``, ``read_timeout`` (latency beyond the timeout too) and ``stream_cut``.
"""


def matrix_outcome(journal_outcome: str, retry_class: RetryClass) -> str | None:
    """The matrix id of an attempt's outcome, or None if the class's matrix does not list it."""
    outcome = JOURNAL_OUTCOMES.get(journal_outcome, journal_outcome)
    return outcome if outcome in CLASS_OUTCOMES[retry_class] else None
