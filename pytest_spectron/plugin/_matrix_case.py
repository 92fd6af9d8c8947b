"""A status-matrix case in a test: its failure injected at setup, then judged by the calls made.

A case must never pass unless its failure reached a call it describes. ``spectron_matrix("chat")``
selects the cases of both of chat's calls, plain (``write``) and streamed (``stream``), which
share every case but ``stream_cut``; which call the test makes is only known once it has run, from
the attempt journal:

- a call the case describes met its failure: the test's own verdict stands;
- the operation was only called another way (``stream_cut`` and a plain chat): the case does not
  apply, and the test is skipped saying so, whatever it did. With ``retry_class=`` given, the
  marker promised that call, so the test fails instead;
- a call the case describes never met its failure (a stream too short to cut, another fault
  first): the case was not exercised, and a test that passed fails;
- the operation was never called: the case was not exercised either, and a test that passed
  fails, whether or not the unused-fault check (``spectron_assert_all_faults_used``) is on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from pytest_spectron.client._catalogue import RetryClass
from pytest_spectron.plugin._settings import MATRIX_MARKER
from pytest_spectron.testing.faults._matrix import MatrixCase, matrix_outcome

if TYPE_CHECKING:
    from pytest_spectron.testing._mock import SpectronMock
    from pytest_spectron.testing.service._journal import Attempt

__all__ = ["CaseInTest"]


@dataclass(frozen=True)
class CaseInTest:
    """One case a ``spectron_case`` test runs, where it is injected and how it was selected."""

    case: MatrixCase
    target: str | None
    """The operation or retry class the failure is injected on; None: the case's retry class."""
    retry_class_given: bool = False
    """The marker named the call's retry class: a call of another kind is the test's mistake."""
    marked: bool = True
    """A ``spectron_matrix`` marker chose the case; False: the whole matrix, every class."""

    @property
    def id(self) -> str:
        """The test id of the case (``write+stream-503``)."""
        return self.case.id

    @property
    def scope(self) -> str:
        """What the case's failure is injected on: an operation or a retry class."""
        return self.target or self.case.retry_class

    def inject(self, mock: SpectronMock) -> None:
        """Fail every attempt in scope with the case's outcome."""
        mock.fail(self.scope, self.case.outcome)

    def judge(self, attempts: Sequence[Attempt], *, test_failed: bool) -> None:
        """Skip or fail the test if the case did not apply to its calls or was never met.

        :param attempts: every attempt the test made, from the journal.
        :param test_failed: whether the test itself failed; its failure stands if the case applied.
        :raises pytest.skip.Exception: the operation was only called in a way the case does not
            describe, and the marker did not promise that call.
        :raises pytest.fail.Exception: the same with ``retry_class=`` given, or a passing test
            whose calls never met the case's failure.
        """
        in_scope = [attempt for attempt in attempts if self._in_scope(attempt)]
        described = [a for a in in_scope if a.retry_class in self.case.retry_classes]
        if in_scope and not described:
            self._does_not_apply(in_scope)
        elif not test_failed and not any(self._met(attempt) for attempt in described):
            why = (
                f"no call of {self.scope} met {self.case.outcome} (see the attempt ledger)"
                if in_scope
                else f"the test never called {self.scope}"
            )
            hint = (
                ""
                if self.marked or in_scope
                else f" Without @pytest.mark.{MATRIX_MARKER}, spectron_case runs every case of "
                "every retry class (reads, writes, streams); add the marker naming the "
                f"operation your test calls: @pytest.mark.{MATRIX_MARKER}('state')."
            )
            pytest.fail(
                f"spectron_case {self.id} was not exercised: {why}, so what the case claims "
                f"was never tested.{hint}",
                pytrace=False,
            )

    def _in_scope(self, attempt: Attempt) -> bool:
        return self.scope in (attempt.operation, attempt.retry_class)

    def _met(self, attempt: Attempt) -> bool:
        assert attempt.retry_class is not None  # in scope: a routed attempt
        return matrix_outcome(attempt.outcome, attempt.retry_class) == self.case.outcome

    def _does_not_apply(self, in_scope: list[Attempt]) -> None:
        made = list(
            dict.fromkeys(attempt.retry_class for attempt in in_scope if attempt.retry_class)
        )
        called = " and ".join(_call(self.scope, kind) for kind in made)
        wanted = " or ".join(_call(self.scope, kind) for kind in self.case.retry_classes)
        if self.retry_class_given:
            pytest.fail(
                f"@pytest.mark.{MATRIX_MARKER}({self.scope!r}, "
                f"retry_class={self.case.retry_class!r}) selects the cases of {wanted}, but "
                f"this test made only {called}: make that call, or drop retry_class= to get "
                "the cases of whichever call the test makes.",
                pytrace=False,
            )
        pytest.skip(
            f"spectron_case {self.id} is for {wanted}; this test made only {called}, so the "
            f"case does not apply (retry_class={made[0]!r} on {MATRIX_MARKER} leaves it out)"
        )


def _call(scope: str, retry_class: RetryClass) -> str:
    """``a streamed chat (stream)`` or ``a plain chat (write)``, for messages."""
    if retry_class == "stream":
        return f"a streamed {scope} ({scope}(stream=True))"
    return f"a plain {scope} call ({retry_class})"
