"""The plugin's markers, checked argument by argument so every mistake fails at collection."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from difflib import get_close_matches
from typing import Any

import pytest

from pytest_spectron._settings import (
    FAULT_MARKER,
    FAULT_MARKER_DOC,
    MATRIX_MARKER,
    MATRIX_MARKER_DOC,
)
from pytest_spectron.client._catalogue import CATALOGUE, RETRY_CLASSES, RetryClass, operation
from pytest_spectron.testing._exchange import NETWORK_FAILURE_KINDS
from pytest_spectron.testing._faults import (
    MALFORMED_KINDS,
    Fault,
    FaultError,
    Latency,
    Outcome,
    Status,
    StreamCut,
    parse_outcome,
    validate_target,
)
from pytest_spectron.testing._matrix import MATRIX_OUTCOMES, MatrixCase, status_matrix

__all__ = [
    "ERROR_KINDS",
    "MarkerError",
    "MarkerFault",
    "matrix_cases",
    "parse_fault_marker",
]

ERROR_KINDS = (*NETWORK_FAILURE_KINDS, "timeout", *MALFORMED_KINDS, "stream_cut")
"""What ``error=`` accepts: network failures, malformed bodies and a cut stream."""


class MarkerError(ValueError):
    """A marker argument is wrong: the message names it, what was given and what is accepted."""


@dataclass(frozen=True)
class MarkerFault:
    """One checked ``spectron_fault`` marker: builds a fresh fault for every test that uses it."""

    target: str
    outcome: Outcome
    times: int | None = None
    rate: float | None = None
    seed: int | None = None

    def build(self) -> Fault:
        """A new fault, with its whole script still ahead of it."""
        return Fault(self.target, self.outcome, times=self.times, rate=self.rate, seed=self.seed)


def parse_fault_marker(marker: pytest.Mark) -> MarkerFault:
    """Check a ``spectron_fault`` marker; raise MarkerError on the first wrong argument."""
    try:
        fault = _fault(*marker.args, **marker.kwargs)
        fault.build()  # the engine's own checks of the target, times, rate and seed
    except TypeError as error:
        raise MarkerError(f"{FAULT_MARKER}: {error}; signature: {FAULT_MARKER_DOC}") from None
    except FaultError as error:
        arguments = [*map(repr, marker.args)]
        arguments += [f"{name}={value!r}" for name, value in marker.kwargs.items()]
        raise MarkerError(f"{FAULT_MARKER}({', '.join(arguments)}): {error}") from None
    return fault


def _fault(
    op: str,
    *,
    status: int | None = None,
    error: str | None = None,
    latency: float | None = None,
    times: int | None = None,
    retry_after: float | str | None = None,
    body: dict[str, Any] | str | bytes | None = None,
    headers: Mapping[str, str] | None = None,
    after: int | None = None,
    rate: float | None = None,
    seed: int | None = None,
) -> MarkerFault:
    kinds = {"status": status, "error": error, "latency": latency}
    given = [name for name, value in kinds.items() if value is not None]
    if len(given) != 1:
        shown = " and ".join(given) if given else "none of them"
        raise FaultError(f"give exactly one of status=, error= or latency=; got {shown}")
    for name, value, allowed, needs in (
        ("retry_after", retry_after, status is not None, "status="),
        ("headers", headers, status is not None, "status="),
        ("body", body, status is not None, "status="),
        ("after", after, error == "stream_cut", "error='stream_cut'"),
    ):
        if value is not None and not allowed:
            raise FaultError(f"{name}= only goes with {needs}")
    outcome: Outcome
    if status is not None:
        outcome = Status(status, retry_after, body, headers)
    elif latency is not None:
        outcome = Latency(latency)
    elif error == "stream_cut":
        outcome = StreamCut(0 if after is None else after)
    elif isinstance(error, str) and error in ERROR_KINDS:
        outcome = parse_outcome(error)
    else:
        nearest = get_close_matches(str(error), ERROR_KINDS, n=2, cutoff=0.5)
        hint = f"; did you mean {', '.join(map(repr, nearest))}?" if nearest else ""
        accepted = ", ".join(ERROR_KINDS)
        raise FaultError(f"error={error!r} is not a fault kind{hint}; accepted: {accepted}")
    return MarkerFault(validate_target(op), outcome, times, rate, seed)


def matrix_cases(marker: pytest.Mark | None) -> list[MatrixCase]:
    """The status-matrix cases a ``spectron_matrix`` marker (or its absence) selects."""
    if marker is None:
        return status_matrix()
    try:
        return _matrix(*marker.args, **marker.kwargs)
    except TypeError as error:
        raise MarkerError(f"{MATRIX_MARKER}: {error}; signature: {MATRIX_MARKER_DOC}") from None
    except FaultError as error:
        raise MarkerError(f"{MATRIX_MARKER}: {error}") from None


def _matrix(
    op: str | None = None,
    *,
    retry_class: RetryClass | None = None,
    outcomes: list[int | str] | None = None,
    max_retries: int = 3,
) -> list[MatrixCase]:
    classes: list[RetryClass] = list(RETRY_CLASSES)
    if op is not None:
        target = validate_target(op)
        if target in CATALOGUE:
            classes = [operation(target).retry_class]
        elif target != "*":
            classes = [retry_class_named(target)]
    if retry_class is not None:
        classes = [retry_class_named(retry_class)]
    chosen = list(MATRIX_OUTCOMES)
    if outcomes is not None:
        if not isinstance(outcomes, list | tuple) or not all(
            item in MATRIX_OUTCOMES for item in outcomes
        ):
            raise FaultError(
                f"outcomes must be a list drawn from {', '.join(map(str, MATRIX_OUTCOMES))}; "
                f"got {outcomes!r}"
            )
        chosen = list(outcomes)
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise FaultError(f"max_retries must be an int >= 0, got {max_retries!r}")
    return status_matrix(max_retries=max_retries, retry_classes=classes, outcomes=chosen)


def retry_class_named(name: object) -> RetryClass:
    """``name`` as a retry class; a FaultError lists the retry classes otherwise."""
    for retry_class in RETRY_CLASSES:
        if name == retry_class:
            return retry_class
    raise FaultError(f"retry_class={name!r} is not one of {', '.join(RETRY_CLASSES)}")
