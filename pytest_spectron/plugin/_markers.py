"""The plugin's markers, read when a test sets up and checked argument by argument.

Reading them at setup (``item.iter_markers``) means markers another plugin adds after collection
count too, and a wrong argument errors that one test with a message naming what to fix, while the
rest of the run goes on. ``spectron_fault`` takes exactly the arguments of
``SpectronMock.fail()``: both go through ``build_fault``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from pytest_spectron._shared._validators import check_int, is_int
from pytest_spectron.client._catalogue import CATALOGUE, RETRY_CLASSES, RetryClass, operation
from pytest_spectron.client._suggest import did_you_mean
from pytest_spectron.plugin._matrix_case import CaseInTest
from pytest_spectron.plugin._settings import FAULT_MARKER, MATRIX_MARKER
from pytest_spectron.testing.faults._declare import build_fault
from pytest_spectron.testing.faults._fault import Fault, validate_target
from pytest_spectron.testing.faults._matrix import (
    MATRIX_OUTCOMES,
    STREAM_OUTCOMES,
    merge_shared_cases,
    status_matrix,
)
from pytest_spectron.testing.faults._outcomes import FaultError

__all__ = ["MarkerError", "fault_from_marker", "matrix_selection"]


class MarkerError(ValueError):
    """A marker argument is wrong: the message names it, what was given and what is accepted."""


def fault_from_marker(marker: pytest.Mark) -> Fault:
    """The fault a ``spectron_fault`` marker declares; MarkerError on the first wrong argument."""
    if not marker.args:
        message = "give the operation (or retry class, or '*') to fail first"
    else:
        try:
            return build_fault(*marker.args, **marker.kwargs)
        except FaultError as error:
            message = str(error)
    call = _describe_call(f"@pytest.mark.{FAULT_MARKER}", marker.args, marker.kwargs)
    raise MarkerError(f"{call}: {message}")


def matrix_selection(marker: pytest.Mark | None) -> list[CaseInTest]:
    """The cases a ``spectron_matrix`` marker (or its absence) selects; MarkerError if wrong."""
    if marker is None:
        return [CaseInTest(case, None, marked=False) for case in status_matrix()]
    try:
        return _matrix(*marker.args, **marker.kwargs)
    except TypeError as error:
        message = str(error).replace(f"{_matrix.__name__}()", f"{MATRIX_MARKER}()")
    except FaultError as error:
        message = str(error)
    call = _describe_call(f"@pytest.mark.{MATRIX_MARKER}", marker.args, marker.kwargs)
    raise MarkerError(f"{call}: {message}")


def _matrix(
    op: str | None = None,
    *,
    retry_class: str | None = None,
    outcomes: list[int | str] | None = None,
    max_retries: int = 3,
) -> list[CaseInTest]:
    target = None if op is None else validate_target(op)
    classes = _classes(target, retry_class)
    selected = None
    if outcomes is not None:
        accepted = (*MATRIX_OUTCOMES, *STREAM_OUTCOMES)
        if not isinstance(outcomes, list | tuple) or not all(
            (is_int(item) or isinstance(item, str)) and str(item) in accepted for item in outcomes
        ):
            raise FaultError(
                f"outcomes must be a list drawn from {', '.join(accepted)} (a status as an "
                f"int or its id); got {outcomes!r}"
            )
        selected = list(outcomes)
    check_int("max_retries", max_retries, minimum=0, error=FaultError)
    cases = status_matrix(max_retries=max_retries, retry_classes=classes, outcomes=selected)
    if not cases:
        raise FaultError(f"outcomes={outcomes!r} select no case of the {', '.join(classes)} class")
    if target in CATALOGUE:
        # The calls of one operation: a case they share is one case (chat: all but stream_cut).
        cases = merge_shared_cases(cases)
    given = retry_class is not None
    return [CaseInTest(case, None if target == "*" else target, given) for case in cases]


def _classes(target: str | None, retry_class: str | None) -> list[RetryClass]:
    """The retry classes whose cases a marker selects: an operation's, or those named."""
    if target in CATALOGUE:
        chosen = operation(target)
        if retry_class is None:
            return list(chosen.retry_classes)
        for allowed in chosen.retry_classes:
            if retry_class == allowed:
                return [allowed]
        plain = repr(chosen.retry_class)
        if chosen.streams:
            raise FaultError(
                f"{target!r} is in the {plain} retry class, or 'stream' when streamed: "
                f"retry_class= may only be {plain} or 'stream', or left out for the cases of both"
            )
        raise FaultError(
            f"{target!r} is in the {plain} retry class: retry_class= may only be {plain}"
        )
    if target is None or target == "*":
        return list(RETRY_CLASSES) if retry_class is None else [retry_class_named(retry_class)]
    named = retry_class_named(target)
    if retry_class is not None and retry_class_named(retry_class) != named:
        raise FaultError(
            f"retry_class={retry_class!r} contradicts the retry class {named!r} given first: "
            "give one of them"
        )
    return [named]


def retry_class_named(name: object) -> RetryClass:
    """``name`` as a retry class; a FaultError lists the retry classes otherwise."""
    for retry_class in RETRY_CLASSES:
        if name == retry_class:
            return retry_class
    raise FaultError(
        f"retry_class={name!r} is not one of {', '.join(RETRY_CLASSES)}"
        + did_you_mean(name, RETRY_CLASSES)
    )


def _describe_call(name: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> str:
    """``name(args, key=value)`` as the user wrote it, for error messages."""
    shown = [*map(repr, args), *(f"{key}={value!r}" for key, value in kwargs.items())]
    return f"{name}({', '.join(shown)})"
