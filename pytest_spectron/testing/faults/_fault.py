"""A fault: its target, its script of outcomes, and how many attempts it fails.

``build_fault`` (``_declare``) is how every entry point makes one; ``FaultEngine`` (``_engine``)
applies them. The module docstring of ``_engine`` tells how a script runs.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from pytest_spectron._shared._validators import check_int, is_int, is_real
from pytest_spectron.client._catalogue import CATALOGUE, RETRY_CLASSES, RetryClass
from pytest_spectron.client._suggest import did_you_mean
from pytest_spectron.testing.faults._grammar import (
    ACCEPTED_OUTCOMES,
    MAX_SCRIPT_ATTEMPTS,
    compress_script,
    parse_steps,
)
from pytest_spectron.testing.faults._outcomes import FaultError, Outcome, format_seconds
from pytest_spectron.testing.http._exchange import ServiceRequest
from pytest_spectron.testing.http._routing import nearest_operations, operations_at

__all__ = ["Fault", "validate_target"]


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
    found = operations_at(path.partition("?")[0], method)
    if len(found) == 1:
        return f"; that is the route of the operation {found[0].name!r}: name it instead"
    if found:
        names = ", ".join(repr(operation.name) for operation in found)
        return f"; that is the route of the operations {names}: name one instead"
    nearest = nearest_operations(method, path)
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
    :param call: the fault only matches the attempts of this call of the operation, 1-based,
        in the journal's numbering (a retry belongs to the call it repeats); None: every call.
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
        call: int | None = None,
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
        if times is not None:
            check_int(f"fault {target!r}: times", times, minimum=1, error=FaultError)
        self.times = times
        if rate is not None and (not is_real(rate) or not 0 < rate <= 1):
            raise FaultError(
                f"fault {target!r}: rate must be a probability in (0, 1], got {rate!r}"
            )
        if seed is not None:
            check_int(f"fault {target!r}: seed", seed, error=FaultError)
        if seed is not None and rate is None:
            raise FaultError(f"fault {target!r}: seed only goes with rate")
        if when is not None and not callable(when):
            raise FaultError(f"fault {target!r}: when must be a callable, got {when!r}")
        if call is not None and (not is_int(call) or call < 1):
            raise FaultError(
                f"fault {target!r}: call must be an int of 1 or more (the how-manieth call of "
                f"the operation), got {call!r}"
            )
        if not isinstance(optional, bool):
            raise FaultError(f"fault {target!r}: optional must be True or False, got {optional!r}")
        self.rate = None if rate is None else float(rate)
        """The probability it applies to a matching attempt, or None for always."""
        self.seed = seed
        self.when = when
        """The predicate a request must pass, or None."""
        self.call = call
        """The call of the operation the fault matches (1 for the first), or None for every one."""
        self.optional = optional
        """Whether a test may end without any attempt matching this fault."""
        self.used = 0
        """Outcomes taken so far (one per attempt the fault was drawn for)."""
        self.matched = 0
        """Attempts that reached this fault and matched its target (applied or not)."""
        self.applied = 0
        """Outcomes that took effect: ``used`` less those that did nothing (see ``missed``)."""
        self.misses: list[str] = []
        """Why outcomes taken did nothing: ``stream_cut:50: the stream had 3 frames``."""
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

    def matches(
        self, operation: str, retry_class: RetryClass, request: ServiceRequest, *, call: int = 1
    ) -> bool:
        """Whether this fault targets the attempt (ignoring its rate and what is left).

        :param operation: the attempt's operation name.
        :param retry_class: the attempt's retry class.
        :param request: the request, for ``when``.
        :param call: the call of the operation the attempt belongs to, for ``call``.
        :return: True if the target is ``"*"``, the operation or the retry class, the attempt
            belongs to the fault's ``call`` (if any), and ``when`` (if any) accepts the request.
        """
        if self.target not in ("*", operation, retry_class):
            return False
        if self.call is not None and call != self.call:
            return False
        return self.when is None or bool(self.when(request))

    def take(
        self, operation: str, retry_class: RetryClass, request: ServiceRequest, *, call: int = 1
    ) -> Outcome | None:
        """The outcome this fault gives the attempt, consumed.

        A matching attempt counts in ``matched`` even when ``rate`` then passes it by.

        :param operation: the attempt's operation name.
        :param retry_class: the attempt's retry class.
        :param request: the request, for ``when``.
        :param call: the call of the operation the attempt belongs to, for ``call``.
        :return: the next outcome of the script, or None when the fault is spent, does not
            match or (with ``rate``) passes this attempt by.
        """
        if not self.active or not self.matches(operation, retry_class, request, call=call):
            return None
        self.matched += 1
        if self.rate is not None and self._random.random() >= self.rate:
            return None
        outcome = self.script[self.used % len(self.script)]
        self.used += 1
        self.applied += 1
        return outcome

    def missed(self, reason: str) -> None:
        """Record that an outcome taken did nothing to its attempt (a cut of a short stream).

        :param reason: why, in words, for the unused-fault report.
        """
        self.applied -= 1
        self.misses.append(reason)

    def why_unused(self) -> str:
        """Why the fault took effect on no attempt, for the unused-fault report.

        :return: such as ``matched no attempt`` or ``matched 3 attempt(s), but at rate=0.5
            the random draw (seed 0) applied it to none``.
        """
        if self.misses:
            return f"taken {self.used} time(s), but did nothing: {'; '.join(self.misses[:3])}"
        if self.matched and self.rate is not None:
            return (
                f"matched {self.matched} attempt(s), but at rate={format_seconds(self.rate)} the "
                f"random draw (seed {self.seed or 0}) applied it to none: make more attempts, "
                "raise the rate or pick another seed"
            )
        return "matched no attempt"

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
        if self.call is not None:
            text += f" call {self.call}"
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
            "call": self.call,
            "optional": self.optional,
            "spec": self.spec(),
            "remaining": self.remaining,
        }
        return data

    def __repr__(self) -> str:
        return f"<Fault {self.describe()}>"
