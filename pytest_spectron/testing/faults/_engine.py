"""The fault engine: which attempts fail, and how, for every way the fake is served.

A fault targets an operation (``state``), a retry class (``read``) or every operation (``"*"``)
and holds a script of outcomes, one per matching attempt:

- one outcome and no ``times``: every matching attempt gets it, for as long as the fault lives;
- one outcome and ``times=N``: the next N matching attempts get it;
- several outcomes: the next attempts get them in order (``times=N`` runs the script N times).

Once a script has run out the fault is spent and the fake answers; nothing ever raises
``StopIteration``. Faults stack: for each attempt the first fault (in the order they were added)
that matches and has outcomes left applies. With ``rate=p`` a fault applies to a matching attempt
with probability ``p``, drawn from its own ``random.Random(seed)`` (seed 0 unless given), so a run
is reproducible; when it does not apply, the next fault is considered.

Outcomes that replace the answer (a status, a network failure, a malformed body) never reach the
fake: nothing is stored. ``Latency`` and ``StreamCut`` wrap the fake's own answer, so the fake does
its work even when the client then times out or loses the stream, as a real slow server would.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from typing_extensions import Unpack

from pytest_spectron.client._catalogue import RetryClass
from pytest_spectron.testing.faults._declare import FaultOptions, build_fault, parse_fault_spec
from pytest_spectron.testing.faults._fault import Fault
from pytest_spectron.testing.faults._outcomes import Outcome
from pytest_spectron.testing.http._exchange import ServiceRequest

__all__ = ["FaultEngine", "Injection"]


@dataclass(frozen=True)
class Injection:
    """The outcome a fault gives one attempt."""

    fault: Fault
    outcome: Outcome
    step: int
    """1-based: the how-manieth outcome of the fault this is."""

    def describe(self) -> str:
        """In words, for the journal: the outcome and the fault it came from."""
        total = self.fault.total
        of = f"{self.step}/{total}" if total is not None else f"#{self.step}"
        return f"{self.outcome.describe()} via {self.fault.spec()} ({of})"


class FaultEngine:
    """The active faults, consulted once per attempt; safe to share between threads.

    For each attempt the first fault, in the order they were added, that matches and has
    outcomes left applies.
    """

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, target: str, *outcomes: object, **options: Unpack[FaultOptions]) -> Fault:
        """Add a fault: ``add("state", 503, 503)`` fails the next two ``state`` attempts.

        Takes exactly the arguments of ``SpectronMock.fail`` and the ``spectron_fault`` marker:
        the three are one builder (``build_fault``).

        :param target: an operation (``"state"``), a retry class (``"read"``) or ``"*"``.
        :param outcomes: the script in the outcome grammar, or none with one of ``status=``,
            ``error=`` or ``latency=``.
        :param options: see ``FaultOptions``.
        :raises FaultError: naming the argument that is wrong and what it accepts.
        :return: the fault added.
        """
        return self.add_fault(build_fault(target, *outcomes, **options))

    def add_fault(self, fault: Fault) -> Fault:
        """Add a fault built elsewhere (by hand, or by ``parse_fault_spec``).

        :param fault: the fault; it applies after the faults added before it.
        :return: the same fault.
        """
        with self._lock:
            self._faults.append(fault)
        return fault

    def add_spec(self, spec: str) -> Fault:
        """Add a fault written in ``SPEC_GRAMMAR`` (``state=503x2``).

        :param spec: the fault, as ``parse_fault_spec`` reads it.
        :raises FaultError: the spec does not parse; the message ends with the grammar.
        :return: the fault added.
        """
        return self.add_fault(parse_fault_spec(spec))

    def pick(
        self, operation: str, retry_class: RetryClass, request: ServiceRequest, *, call: int = 1
    ) -> Injection | None:
        """Consume and return the outcome for one attempt.

        :param operation: the attempt's operation name.
        :param retry_class: the attempt's retry class.
        :param request: the request, for the faults' ``when`` predicates.
        :param call: the call of the operation the attempt belongs to (the journal's
            ``call_of``), for the faults' ``call`` positions.
        :return: the outcome, with the fault it came from and its step, or None when no fault
            applies.
        """
        with self._lock:
            for fault in self._faults:
                outcome = fault.take(operation, retry_class, request, call=call)
                if outcome is not None:
                    return Injection(fault, outcome, fault.used)
        return None

    def faults(self) -> list[Fault]:
        """The faults that still have outcomes left, in the order they apply.

        :return: a new list.
        """
        with self._lock:
            return [fault for fault in self._faults if fault.active]

    def missed(self, injection: Injection, reason: str) -> None:
        """Record that an injection did nothing to its attempt (a stream cut of a short stream).

        :param injection: what ``pick`` returned for the attempt.
        :param reason: why, in words, for the unused-fault report.
        """
        with self._lock:
            injection.fault.missed(reason)

    def unused(self) -> list[Fault]:
        """The faults that took effect on no attempt yet, except those marked ``optional``.

        A fault whose ``rate`` drew none of the attempts it matched, and a stream cut that cut
        nothing, are unused: the failure they describe never happened.

        :return: a new list, in the order they were added.
        """
        with self._lock:
            return [fault for fault in self._faults if not fault.applied and not fault.optional]

    def describe(self) -> str:
        """The active faults, one per line.

        :return: each fault's ``describe()``, or ``(no active faults)``.
        """
        active = self.faults()
        if not active:
            return "(no active faults)"
        return "\n".join(fault.describe() for fault in active)

    def to_json(self) -> dict[str, Any]:
        """The active faults as a JSON-ready object, as ``GET /__spectron/faults`` answers it.

        :return: ``{"faults": [...]}``, each fault's ``to_json()``.
        """
        return {"faults": [fault.to_json() for fault in self.faults()]}

    def clear(self, target: str | None = None) -> None:
        """Remove the faults declared for ``target`` exactly, or every fault.

        :param target: an operation, a retry class or ``"*"``, compared as given (``"read"``
            leaves a ``"state"`` fault alone); None for all.
        """
        with self._lock:
            self._faults = [
                fault for fault in self._faults if target is not None and fault.target != target
            ]

    def __repr__(self) -> str:
        return f"<FaultEngine active={len(self.faults())}>"
