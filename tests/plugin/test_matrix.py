"""The public status matrix agrees with the client, case by case, sync and async."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from pytest_spectron import STATUS_MATRIX, MatrixCase, SpectronMock, status_matrix
from pytest_spectron.client._catalogue import CATALOGUE
from pytest_spectron.testing.faults._matrix import MATRIX_OUTCOMES, merge_shared_cases

# Each call takes a sync or an async client (the same method names), hence ``Any``.
CALLS: dict[str, Callable[[Any], Any]] = {
    "state": lambda client: client.state(),
    "remember": lambda client: client.remember("a fact"),
    "forget": lambda client: client.forget("a fact"),
    "chat": lambda client: client.chat("hello", stream=True),
}


def run_case(mock: SpectronMock, case: MatrixCase, flavour: str) -> BaseException:
    """Make the case's call with every attempt failing; return what the client raised."""
    mock.fail(case.retry_class, case.outcome)
    call = CALLS[case.operation]
    try:
        if flavour == "sync":
            with mock.client() as client:
                result = call(client)
                if case.retry_class == "stream":
                    list(result)  # a stream's failures surface while it is read
        else:

            async def main() -> None:
                async with mock.async_client() as client:
                    result = await call(client)
                    if case.retry_class == "stream":
                        _ = [chunk async for chunk in result]

            asyncio.run(main())
    except Exception as error:
        return error
    raise AssertionError(f"{case} did not raise")


@pytest.mark.parametrize("flavour", ["sync", "async"])
@pytest.mark.parametrize("case", STATUS_MATRIX, ids=str)
def test_matrix_case_holds_for_the_client(case: MatrixCase, flavour: str) -> None:
    """The client raises the case's error after exactly its attempts and waits."""
    with SpectronMock() as mock:
        error = run_case(mock, case, flavour)
        assert type(error) is case.error
        mock.assert_attempts(case.operation, case.attempts)
        assert mock.clock.sleeps == list(case.sleeps)


def test_matrix_covers_every_outcome_and_retry_class() -> None:
    """Thirteen failures for each of the four retry classes, and a cut for streams, each once."""
    assert len(STATUS_MATRIX) == 13 * 4 + 1
    assert {(case.outcome, case.retry_class) for case in STATUS_MATRIX} == {
        (outcome, retry_class)
        for outcome in MATRIX_OUTCOMES
        for retry_class in ("read", "idempotent_write", "write", "stream")
    } | {("stream_cut", "stream")}


@pytest.mark.parametrize(
    ("max_retries", "expected"),
    [(0, ()), (1, (0.25,)), (5, (0.25, 0.5, 1.0, 1.0, 1.0))],
)
def test_matrix_follows_max_retries(max_retries: int, expected: tuple[float, ...]) -> None:
    """A retried read's waits follow the backoff schedule for the given ``max_retries``."""
    (case,) = status_matrix(max_retries=max_retries, retry_classes=["read"], outcomes=[503])
    assert case.sleeps == expected
    assert case.attempts == max_retries + 1


@pytest.mark.parametrize("outcome", [200, 302, "reset", True])
def test_matrix_rejects_outcomes_that_are_not_failures(outcome: Any) -> None:
    """Only failure statuses and the two network failures have a row."""
    with pytest.raises(ValueError, match=r"outcome|statuses 400-599"):
        status_matrix(outcomes=[outcome])


def test_chats_two_calls_share_every_case_but_the_cut() -> None:
    """A plain (write) and a streamed chat meet each failure alike; only a stream is cut."""
    cases = merge_shared_cases(status_matrix(retry_classes=CATALOGUE["chat"].retry_classes))
    shared = [case for case in cases if case.shared_with]
    assert [case.outcome for case in shared] == list(MATRIX_OUTCOMES)
    assert {case.retry_classes for case in shared} == {("write", "stream")}
    assert [case.id for case in cases if not case.shared_with] == ["stream-stream_cut"]


def test_cases_that_differ_stay_apart() -> None:
    """A read is retried on a 503 and a stream is not: two cases; a 404 is one for both."""
    cases = merge_shared_cases(status_matrix(retry_classes=["read", "stream"], outcomes=[404, 503]))
    assert [(case.id, case.attempts) for case in cases] == [
        ("read+stream-404", 1),
        ("read-503", 4),
        ("stream-503", 1),
    ]


def test_case_outcomes_are_the_journals_and_coverages_ids() -> None:
    """``MatrixCase.outcome`` is a str for statuses too, as journal and coverage ids are."""
    assert {type(case.outcome) for case in STATUS_MATRIX} == {str}
    assert [case.outcome for case in status_matrix(retry_classes=["read"], outcomes=[503])] == [
        "503"
    ]
    assert [case.id for case in status_matrix(retry_classes=["read"], outcomes=["503"])] == [
        "read-503"
    ]
