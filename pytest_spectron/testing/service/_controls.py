"""What a test does to a stand-in of Spectron: script its faults, read and assert on its journal."""

from __future__ import annotations

from collections.abc import Sequence

from typing_extensions import Unpack

from pytest_spectron.client._catalogue import Operation, operation
from pytest_spectron.testing.faults._declare import FaultOptions, build_fault
from pytest_spectron.testing.faults._engine import FaultEngine
from pytest_spectron.testing.faults._fault import Fault, validate_target
from pytest_spectron.testing.http._exchange import UNKNOWN_FIELD_NOTE
from pytest_spectron.testing.service._clock import VirtualClock
from pytest_spectron.testing.service._journal import Attempt, Journal

__all__ = ["FaultsAndJournal", "LedgerAssertionError"]


class FaultsAndJournal:
    """A stand-in's faults and journal, for tests: script the one, read and assert on the other.

    ``SpectronMock`` is one; a failing assertion prints the attempt ledger.
    """

    faults: FaultEngine
    journal: Journal
    clock: VirtualClock

    def fail(self, target: str, *outcomes: object, **options: Unpack[FaultOptions]) -> Fault:
        """Script faults for an operation, a retry class or ``"*"``: ``fail("state", 503, 503)``.

        Takes exactly the arguments of the ``spectron_fault`` marker. A single outcome fails
        every matching attempt (``times=N``: the next N). Several outcomes (or spec steps such
        as ``"503x2,connect,ok"``) run in order, one per attempt, then the fake answers
        (``times=N`` runs the script N times). ``rate`` and ``seed`` apply the fault at random,
        reproducibly; ``when`` narrows it to the requests a predicate accepts, ``call=N`` to the
        N-th call of the operation (its retries included). A fault that took effect on no
        attempt fails the test at teardown, unless ``optional=True``.

        :param target: an operation (``"state"``), a retry class (``"read"``) or ``"*"``.
        :param outcomes: the script in the outcome grammar, or none with one of ``status=``,
            ``error=`` or ``latency=``.
        :param options: ``status``, ``error``, ``latency``, ``retry_after``, ``body``,
            ``headers``, ``error_format``, ``after``, ``times``, ``rate``, ``seed``, ``when``,
            ``call``, ``optional`` (see ``FaultOptions``).
        :raises FaultError: naming the wrong argument and what it accepts.
        :returns: the fault, live: ``.used`` and ``.remaining`` follow the attempts.
        """
        return self.faults.add_fault(build_fault(target, *outcomes, **options))

    def clear_faults(self, target: str | None = None) -> None:
        """End faults mid-test: those declared for ``target`` exactly, or every one.

        Models "Spectron is down, then it comes back" without counting attempts.

        :param target: an operation, a retry class or ``"*"``, as the faults were declared;
            None for all.
        :raises FaultError: for a target that is none of these.
        """
        self.faults.clear(None if target is None else validate_target(target))

    def attempts(self, operation: str | None = None) -> list[Attempt]:
        """Every attempt so far, or those of one operation, in order.

        :param operation: a catalogue name (``"state"``, ``"documents.upload"``); None for all.
        :raises ValueError: for a name that is no Spectron operation (with the nearest names).
        :return: a new list of ``Attempt``.
        """
        return self.journal.attempts(None if operation is None else _operation(operation).name)

    def ledger(self) -> str:
        """The attempt ledger as a readable table.

        :return: one row per attempt (number, operation, request, outcome, fault, virtual time,
            idempotency key), or ``(no attempts)``.
        """
        return self.journal.ledger()

    def assert_attempts(self, operation: str, expected: int) -> None:
        """Assert that ``operation`` was attempted exactly ``expected`` times.

        :param operation: a catalogue name.
        :param expected: the number of attempts, retries included.
        :raises AssertionError: the count differs; the message ends with the attempt ledger.
        :raises ValueError: for a name that is no Spectron operation.
        """
        __tracebackhide__ = True
        attempts = self.attempts(operation)
        if len(attempts) != expected:
            self._fail(f"expected {expected} attempt(s) of {operation!r}, got {len(attempts)}")

    def assert_not_retried(self, operation: str) -> None:
        """Assert that ``operation`` was sent exactly once: attempted, and never retried.

        :param operation: a catalogue name.
        :raises AssertionError: it was never sent, or sent more than once; the message ends
            with the attempt ledger.
        :raises ValueError: for a name that is no Spectron operation.
        """
        __tracebackhide__ = True
        attempts = self.attempts(operation)
        if len(attempts) != 1:
            seen = "never attempted" if not attempts else f"attempted {len(attempts)} times"
            self._fail(f"expected {operation!r} to be sent exactly once, but it was {seen}")

    def assert_idempotent_retries(self, operation: str) -> None:
        """Assert that ``operation`` was retried, every attempt carrying one Idempotency-Key.

        :param operation: a catalogue name of the ``idempotent_write`` class (``remember``…).
        :raises AssertionError: fewer than two attempts, an attempt without a key, or different
            keys; the message ends with the attempt ledger.
        :raises ValueError: for a name that is no Spectron operation, or an operation the
            policy never retries with a key (only the ``idempotent_write`` class is).
        """
        __tracebackhide__ = True
        retry_class = _operation(operation).retry_class
        if retry_class != "idempotent_write":
            retried = (
                "retried without an Idempotency-Key (reads need none)"
                if retry_class == "read"
                else "sent once and never retried"
            )
            raise ValueError(
                f"{operation!r} is in the {retry_class!r} retry class: it is {retried}, so it "
                "has no idempotent retries to assert; only remember and remember_many have "
                f"them. Use assert_attempts({operation!r}, n) or assert_not_retried({operation!r})."
            )
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

    def assert_all_faults_used(self) -> None:
        """Assert that every fault (but the ``optional`` ones) took effect on at least one attempt.

        A fault that never took effect means the test never exercised the failure it set up:
        the operation was not called, another fault took every attempt first, its ``rate``
        drew none of the attempts it matched, or a stream cut found no stream to cut. The
        plugin calls it after each passing test, unless ``spectron_assert_all_faults_used`` is
        false.

        :raises AssertionError: listing the unused faults' specs and why each did nothing; the
            message ends with the attempt ledger.
        """
        __tracebackhide__ = True
        unused = self.faults.unused()
        if unused:
            listed = "\n".join(f"  - {fault.spec()}: {fault.why_unused()}" for fault in unused)
            self._fail(
                f"{len(unused)} Spectron fault(s) took effect on no attempt, so the failure "
                f"they describe was never tested:\n{listed}\n"
                "Call the operation they target, or mark a fault that may go unused with "
                "optional=True (spectron_mock.fail(..., optional=True) or the marker's "
                "optional=True); spectron_assert_all_faults_used = false turns the check off."
            )

    def assert_no_unknown_fields(self) -> None:
        """Assert that no request sent a field Spectron's document does not name.

        Spectron ignores such a field, and so does the fake (noting it in the ledger): a
        misspelt ``dry_run`` for ``dryRun`` turns a dry run into a deletion. The plugin calls it
        after each passing test under ``spectron_unknown_fields = error``.

        :raises AssertionError: listing each attempt and field; the message ends with the
            attempt ledger.
        """
        __tracebackhide__ = True
        noted = [
            f"  - attempt {attempt.number} ({attempt.operation}): {note}"
            for attempt in self.attempts()
            for note in attempt.notes
            if note.startswith(UNKNOWN_FIELD_NOTE)
        ]
        if noted:
            listed = "\n".join(noted)
            self._fail(
                f"{len(noted)} request field(s) that Spectron's document does not name were "
                f"sent; Spectron ignores them, so what they ask for never happens:\n{listed}\n"
                "Send the document's field names (dryRun, not dry_run), or set "
                "spectron_unknown_fields = ignore to allow them."
            )

    def assert_sleeps(self, expected: Sequence[float]) -> None:
        """Assert the exact retry waits requested so far, in seconds (``clock.assert_backoff``).

        :param expected: the waits, in order.
        :raises AssertionError: the waits differ; the message shows both lists.
        """
        __tracebackhide__ = True
        self.clock.assert_backoff(expected)

    def _fail(self, message: str) -> None:
        __tracebackhide__ = True
        raise LedgerAssertionError(f"{message}\n\nSpectron attempt ledger:\n{self.ledger()}")


class LedgerAssertionError(AssertionError):
    """An assertion of the journal failed; the message ends with the attempt ledger.

    The plugin leaves out its own ledger section for these, so a failure shows the ledger once.
    """


def _operation(name: str) -> Operation:
    try:
        return operation(name)
    except KeyError as error:
        raise ValueError(error.args[0]) from None
