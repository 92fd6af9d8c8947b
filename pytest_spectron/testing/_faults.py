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

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pytest_spectron.client._catalogue import CATALOGUE, RETRY_CLASSES, RetryClass
from pytest_spectron.client._suggest import did_you_mean
from pytest_spectron.testing._exchange import ServiceRequest
from pytest_spectron.testing._outcome_grammar import (
    ACCEPTED_OUTCOMES,
    MAX_SCRIPT_ATTEMPTS,
    compress_script,
    parse_steps,
)
from pytest_spectron.testing._outcomes import FaultError, Outcome, format_seconds
from pytest_spectron.testing._routing import NoRoute, nearest_operations, route

__all__ = ["Fault", "FaultEngine", "Injection", "validate_target"]


def validate_target(target: object) -> str:
    """An operation name, a retry class or ``"*"``; otherwise a FaultError naming the nearest.

    A route (``"GET /api/v1/{context_id}/state"``) or a request path is recognised, and the
    operation that answers it suggested.
    """
    accepted = [*CATALOGUE, *RETRY_CLASSES, "*"]
    if isinstance(target, str) and target in accepted:
        return target
    hint = ""
    if isinstance(target, str):
        hint = _route_hint(target) or did_you_mean(target, accepted)
    raise FaultError(
        f"fault target {target!r} is not a Spectron operation, a retry class "
        f"({', '.join(RETRY_CLASSES)}) or '*'{hint}"
    )


def _route_hint(target: str) -> str:
    method, _, path = target.strip().rpartition(" ")
    if not path.startswith("/"):
        return ""
    for candidate in [method.upper()] if method else ["GET", "POST", "PUT", "DELETE"]:
        try:
            found = route(candidate, path.partition("?")[0]).operation
        except NoRoute:
            continue
        return f"; that is the route of the operation {found.name!r}: name it instead"
    nearest = nearest_operations(method or "GET", path)
    return f"; did you mean {nearest[0].name!r}?" if nearest else ""


class Fault:
    """One scripted fault: a target, its outcomes and how many attempts it still fails.

    Built for you by ``SpectronMock.fail``, the marker and ``parse_fault_spec``, or by hand for
    ``FaultEngine.add_fault``; the module's docstring tells how a script runs.

    :param target: an operation (``"state"``), a retry class (``"read"``) or ``"*"``.
    :param outcomes: the script, each an outcome (``Status(503)``, ``PASS``…) or its spelling in
        ``SPEC_GRAMMAR`` (``503``, ``"connect"``, ``"503x2,ok"``).
    :param times: how many attempts a single outcome fails, or how many times a script runs;
        None: a single outcome fails every attempt, a script runs once.
    :param rate: the probability, in (0, 1], that the fault applies to a matching attempt.
    :param seed: the seed of the fault's own random draws (only with ``rate``; default 0).
    :param when: a predicate on the ``ServiceRequest``: the fault only matches requests it
        accepts.
    :param optional: whether a test may end without any attempt matching the fault.
    :raises FaultError: naming the argument that is wrong and what it accepts.
    """

    def __init__(
        self,
        target: str,
        *outcomes: object,
        times: int | None = None,
        rate: float | None = None,
        seed: int | None = None,
        when: Callable[[ServiceRequest], bool] | None = None,
        optional: bool = False,
    ) -> None:
        self.target = validate_target(target)
        if not outcomes:
            raise FaultError(
                f"fault {target!r}: give at least one outcome; accepted: {ACCEPTED_OUTCOMES}"
            )
        self.script: tuple[Outcome, ...] = tuple(
            outcome for value in outcomes for outcome in parse_steps(value)
        )
        if len(self.script) > MAX_SCRIPT_ATTEMPTS:
            raise FaultError(
                f"fault {target!r}: the script covers more than {MAX_SCRIPT_ATTEMPTS} attempts"
            )
        if times is not None and (
            isinstance(times, bool) or not isinstance(times, int) or times < 1
        ):
            raise FaultError(f"fault {target!r}: times must be an int of 1 or more, got {times!r}")
        self.times = times
        if rate is not None and (
            isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 < rate <= 1
        ):
            raise FaultError(
                f"fault {target!r}: rate must be a probability in (0, 1], got {rate!r}"
            )
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise FaultError(f"fault {target!r}: seed must be an int, got {seed!r}")
        if seed is not None and rate is None:
            raise FaultError(f"fault {target!r}: seed only goes with rate")
        if when is not None and not callable(when):
            raise FaultError(f"fault {target!r}: when must be a callable, got {when!r}")
        if not isinstance(optional, bool):
            raise FaultError(f"fault {target!r}: optional must be True or False, got {optional!r}")
        self.rate = None if rate is None else float(rate)
        """The probability it applies to a matching attempt, or None for always."""
        self.seed = seed
        self.when = when
        """The predicate a request must pass, or None."""
        self.optional = optional
        """Whether a test may end without any attempt matching this fault."""
        self.used = 0
        """Outcomes applied so far."""
        self.matched = 0
        """Attempts that reached this fault and matched its target (applied or not)."""
        self._random = random.Random(seed or 0)

    @property
    def total(self) -> int | None:
        """How many attempts the fault fails in all; None for every one."""
        if self.times is None:
            return None if len(self.script) == 1 else len(self.script)
        return self.times * len(self.script)

    @property
    def remaining(self) -> int | None:
        """Outcomes left to apply; None for unlimited."""
        total = self.total
        return None if total is None else total - self.used

    @property
    def active(self) -> bool:
        """Whether the fault still has outcomes left."""
        remaining = self.remaining
        return remaining is None or remaining > 0

    def matches(self, operation: str, retry_class: RetryClass, request: ServiceRequest) -> bool:
        """Whether this fault targets the attempt (ignoring its rate and what is left).

        :param operation: the attempt's operation name.
        :param retry_class: the attempt's retry class.
        :param request: the request, for ``when``.
        :return: True if the target is ``"*"``, the operation or the retry class, and ``when``
            (if any) accepts the request.
        """
        if self.target not in ("*", operation, retry_class):
            return False
        return self.when is None or bool(self.when(request))

    def take(
        self, operation: str, retry_class: RetryClass, request: ServiceRequest
    ) -> Outcome | None:
        """The outcome this fault gives the attempt, consumed.

        A matching attempt counts in ``matched`` even when ``rate`` then passes it by.

        :param operation: the attempt's operation name.
        :param retry_class: the attempt's retry class.
        :param request: the request, for ``when``.
        :return: the next outcome of the script, or None when the fault is spent, does not
            match or (with ``rate``) passes this attempt by.
        """
        if not self.active or not self.matches(operation, retry_class, request):
            return None
        self.matched += 1
        if self.rate is not None and self._random.random() >= self.rate:
            return None
        outcome = self.script[self.used % len(self.script)]
        self.used += 1
        return outcome

    def spec(self) -> str:
        """The fault in ``SPEC_GRAMMAR``, as ``parse_fault_spec`` reads it back.

        :return: such as ``state=503x2`` or ``read=503@0.3~7``; a ``when`` predicate is only
            named (``state=503 when is_admin``), so such a spec does not read back.
        """
        if len(self.script) == 1:
            steps = self.script[0].token() + ("" if self.times is None else f"x{self.times}")
        else:
            steps = compress_script(self.script * (self.times or 1))
        text = f"{self.target}={steps}"
        if self.rate is not None:
            text += f"@{format_seconds(self.rate)}" + ("" if self.seed is None else f"~{self.seed}")
        if self.when is not None:
            text += f" when {getattr(self.when, '__name__', repr(self.when))}"
        return text

    def describe(self) -> str:
        """The spec and how much of it is left.

        :return: such as ``state=503x2 (1 of 2 left)`` or ``read=503 (every attempt)``.
        """
        remaining = self.remaining
        left = "every attempt" if remaining is None else f"{remaining} of {self.total} left"
        return f"{self.spec()} ({left})"

    def to_json(self) -> dict[str, Any]:
        """This fault as a JSON-ready object, as the admin API lists it.

        :return: ``target``, ``outcomes`` (each outcome's ``to_json()``), ``times``, ``rate``,
            ``seed`` and ``optional``, which ``POST /__spectron/faults`` reads back, and
            ``spec`` and ``remaining``, for reading.
        """
        data: dict[str, Any] = {
            "target": self.target,
            "outcomes": [outcome.to_json() for outcome in self.script],
            "times": self.times,
            "rate": self.rate,
            "seed": self.seed,
            "optional": self.optional,
            "spec": self.spec(),
            "remaining": self.remaining,
        }
        return data

    def __repr__(self) -> str:
        return f"<Fault {self.describe()}>"


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

    def add(
        self,
        target: str,
        *outcomes: object,
        times: int | None = None,
        rate: float | None = None,
        seed: int | None = None,
        when: Callable[[ServiceRequest], bool] | None = None,
        optional: bool = False,
    ) -> Fault:
        """Add a fault: ``add("state", 503, 503)`` fails the next two ``state`` attempts.

        :param target: an operation (``"state"``), a retry class (``"read"``) or ``"*"``.
        :param outcomes: the script, as ``Fault`` takes it.
        :param times: how many attempts a single outcome fails, or how many times a script runs.
        :param rate: the probability, in (0, 1], that the fault applies to a matching attempt.
        :param seed: the seed of the fault's random draws (only with ``rate``).
        :param when: a predicate on the ``ServiceRequest`` that narrows the fault.
        :param optional: whether a test may end without any attempt matching the fault.
        :raises FaultError: naming the argument that is wrong and what it accepts.
        :return: the fault added.
        """
        return self.add_fault(
            Fault(
                target,
                *outcomes,
                times=times,
                rate=rate,
                seed=seed,
                when=when,
                optional=optional,
            )
        )

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
        from pytest_spectron.testing._declare import parse_fault_spec  # it builds on this module

        return self.add_fault(parse_fault_spec(spec))

    def pick(
        self, operation: str, retry_class: RetryClass, request: ServiceRequest
    ) -> Injection | None:
        """Consume and return the outcome for one attempt.

        :param operation: the attempt's operation name.
        :param retry_class: the attempt's retry class.
        :param request: the request, for the faults' ``when`` predicates.
        :return: the outcome, with the fault it came from and its step, or None when no fault
            applies.
        """
        with self._lock:
            for fault in self._faults:
                outcome = fault.take(operation, retry_class, request)
                if outcome is not None:
                    return Injection(fault, outcome, fault.used)
        return None

    def faults(self) -> list[Fault]:
        """The faults that still have outcomes left, in the order they apply.

        :return: a new list.
        """
        with self._lock:
            return [fault for fault in self._faults if fault.active]

    def unused(self) -> list[Fault]:
        """The faults no attempt has matched yet, except those marked ``optional``.

        :return: a new list, in the order they were added.
        """
        with self._lock:
            return [fault for fault in self._faults if not fault.matched and not fault.optional]

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
