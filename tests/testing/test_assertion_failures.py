"""The journal assertions fail with a message that says what was expected and what came.

Each failure is an ``AssertionError`` whose message ends with the attempt ledger, so a failing
test shows every attempt without a debugger.
"""

from __future__ import annotations

import httpx
import pytest

from pytest_spectron.testing import SpectronMock


def test_not_retried_fails_for_an_operation_never_sent() -> None:
    """``assert_not_retried`` of an operation no attempt reached says it was never attempted."""
    with SpectronMock() as mock, pytest.raises(AssertionError) as raised:
        mock.assert_not_retried("state")
    message = str(raised.value)
    assert message.startswith(
        "expected 'state' to be sent exactly once, but it was never attempted"
    )
    assert message.endswith("Spectron attempt ledger:\n(no attempts)")


def test_not_retried_fails_for_an_operation_sent_twice() -> None:
    """Two calls of ``state`` are two attempts: not "sent exactly once"."""
    with SpectronMock() as mock, mock.client() as client:
        client.state()
        client.state()
        with pytest.raises(AssertionError, match="but it was attempted 2 times"):
            mock.assert_not_retried("state")


def test_idempotent_retries_fail_without_a_retry() -> None:
    """One ``remember`` that succeeded at once was not retried, so there is nothing to assert."""
    with SpectronMock() as mock, mock.client() as client:
        client.remember("a fact")
        with pytest.raises(
            AssertionError, match="expected 'remember' to be retried, got 1 attempt"
        ):
            mock.assert_idempotent_retries("remember")


def test_idempotent_retries_fail_when_the_keys_differ() -> None:
    """Two separate ``remember`` calls carry two keys: not one call retried under one key."""
    with SpectronMock() as mock, mock.client() as client:
        client.remember("a fact")
        client.remember("another fact")
        with pytest.raises(AssertionError, match=r"one Idempotency-Key .* got 2 different keys"):
            mock.assert_idempotent_retries("remember")


def test_idempotent_retries_fail_when_an_attempt_has_no_key() -> None:
    """An application that posts facts by hand without the header is caught."""
    with SpectronMock() as mock:
        for _ in range(2):
            httpx.post(
                f"{mock.endpoint}/api/v1/{mock.context}/facts",
                json={"text": "a fact"},
                headers={"authorization": f"Bearer {mock.api_key}"},
            )
        with pytest.raises(AssertionError, match="every attempt of 'remember' to carry an Idem"):
            mock.assert_idempotent_retries("remember")
