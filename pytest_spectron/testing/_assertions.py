"""Faults and journal assertions, shared by the in-process mock and the loopback server."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pytest_spectron.testing._clock import VirtualClock
from pytest_spectron.testing._exchange import ServiceRequest
from pytest_spectron.testing._faults import Fault, FaultEngine
from pytest_spectron.testing._journal import Attempt, Journal

__all__ = ["AttemptAssertions"]


class AttemptAssertions:
    """Script faults and assert on the attempt journal; failures print the attempt ledger."""

    faults: FaultEngine
    journal: Journal
    clock: VirtualClock

    def fail(
        self,
        target: str,
        *outcomes: object,
        times: int | None = None,
        rate: float | None = None,
        seed: int | None = None,
        when: Callable[[ServiceRequest], bool] | None = None,
    ) -> Fault:
        """Script faults for an operation, a retry class or ``"*"``: ``fail("state", 503, 503)``.

        A single outcome fails every matching attempt (``times=N``: the next N). Several
        outcomes run in order, one per attempt, then the fake answers (``times=N`` runs the
        script N times). ``rate`` and ``seed`` apply the fault at random, reproducibly.
        """
        return self.faults.add(target, *outcomes, times=times, rate=rate, seed=seed, when=when)

    def attempts(self, operation: str | None = None) -> list[Attempt]:
        """Every attempt so far, or those of one operation, in order."""
        return self.journal.attempts(operation)

    def ledger(self) -> str:
        """The attempt ledger as a readable table."""
        return self.journal.ledger()

    def assert_attempts(self, operation: str, expected: int) -> None:
        """Assert that ``operation`` was attempted exactly ``expected`` times."""
        __tracebackhide__ = True
        attempts = self.attempts(operation)
        if len(attempts) != expected:
            self._fail(f"expected {expected} attempt(s) of {operation!r}, got {len(attempts)}")

    def assert_not_retried(self, operation: str) -> None:
        """Assert that ``operation`` was sent exactly once: attempted, and never retried."""
        __tracebackhide__ = True
        attempts = self.attempts(operation)
        if len(attempts) != 1:
            seen = "never attempted" if not attempts else f"attempted {len(attempts)} times"
            self._fail(f"expected {operation!r} to be sent exactly once, but it was {seen}")

    def assert_idempotent_retries(self, operation: str) -> None:
        """Assert that ``operation`` was retried, every attempt carrying one Idempotency-Key."""
        __tracebackhide__ = True
        attempts = self.attempts(operation)
        keys = {attempt.idempotency_key for attempt in attempts}
        if len(attempts) < 2:
            self._fail(f"expected {operation!r} to be retried, got {len(attempts)} attempt(s)")
        if None in keys:
            self._fail(f"expected every attempt of {operation!r} to carry an Idempotency-Key")
        if len(keys) != 1:
            self._fail(
                f"expected one Idempotency-Key across the attempts of {operation!r}, "
                f"got {len(keys)} different keys"
            )

    def assert_sleeps(self, expected: Sequence[float]) -> None:
        """Assert the exact retry waits requested so far, in seconds."""
        __tracebackhide__ = True
        self.clock.assert_backoff(expected)

    def _fail(self, message: str) -> None:
        __tracebackhide__ = True
        raise AssertionError(f"{message}\n\nSpectron attempt ledger:\n{self.ledger()}")
