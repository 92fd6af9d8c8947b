"""The one way to declare a fault: the marker, ``fail()``, the CLI and the admin API share it.

``build_fault(target, *outcomes, **options)`` is the whole vocabulary. Outcomes are given
positionally in the one outcome grammar (``503``, ``"connect"``, ``"429:2"``, ``"503x2"``,
``"503x2,connect,ok"``, ``Status(503)``…), or as one keyword form: ``status=`` (with
``retry_after=``, ``body=``, ``headers=``, ``error_format=``), ``error=`` (with ``after=`` for a
cut stream) or ``latency=``. The other options say how often and where the fault applies.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final, TypedDict, cast

from typing_extensions import Unpack

from pytest_spectron._shared._validators import check_int
from pytest_spectron.client._suggest import did_you_mean
from pytest_spectron.testing.faults._fault import Fault
from pytest_spectron.testing.faults._grammar import (
    parse_outcome,
    read_float,
    read_int,
    split_steps,
)
from pytest_spectron.testing.faults._outcomes import (
    MALFORMED_KINDS,
    SPEC_GRAMMAR,
    FaultError,
    Latency,
    Outcome,
    Status,
    StreamCut,
)
from pytest_spectron.testing.http._exchange import NETWORK_FAILURE_KINDS, ServiceRequest
from pytest_spectron.testing.http._problems import ErrorFormat, check_error_format

__all__ = [
    "ERROR_KINDS",
    "FaultOptions",
    "build_fault",
    "fault_from_json",
    "parse_fault_spec",
]

ERROR_KINDS: Final = (*NETWORK_FAILURE_KINDS, "timeout", *MALFORMED_KINDS, "stream_cut")
"""What ``error=`` accepts: network failures, malformed bodies and a cut stream."""


class FaultOptions(TypedDict, total=False):
    """The keyword arguments of ``spectron_fault``, ``SpectronMock.fail`` and ``build_fault``."""

    status: int
    """Answer with this HTTP status (200-599) and an error body."""
    error: str
    """A network failure, a malformed body or a cut stream: one of ``ERROR_KINDS``."""
    latency: float
    """Answer after this many virtual seconds (beyond the read timeout: a timeout)."""
    retry_after: float | str
    """With ``status=``: the ``Retry-After`` header, seconds or an HTTP date."""
    body: dict[str, Any] | str | bytes
    """With ``status=``: the answer's body instead of the error body."""
    headers: Mapping[str, str]
    """With ``status=``: extra answer headers."""
    error_format: str
    """With ``status=``: ``json``, ``problem`` or ``legacy`` error bodies for this fault."""
    after: int
    """With ``error="stream_cut"``: frames sent before the cut."""
    times: int
    """Fail the next N matching attempts (the whole script N times)."""
    rate: float
    """Apply the fault to a matching attempt with this probability (0, 1]."""
    seed: int
    """The seed of ``rate``'s draws (0 unless given), so a run is reproducible."""
    when: Callable[[ServiceRequest], bool]
    """Apply only to the requests this predicate accepts."""
    call: int
    """Apply only to the N-th call of the operation (1-based; its retries included)."""
    optional: bool
    """Whether the test may end without any attempt matching the fault."""


_ACCEPTED: Final = tuple(FaultOptions.__annotations__)
_READ_BACK: Final = ("spec", "remaining")
_WITH_STATUS: Final = ("retry_after", "body", "headers", "error_format")


def build_fault(target: object, *outcomes: object, **options: Unpack[FaultOptions]) -> Fault:
    """A fault for ``target`` (an operation, a retry class or ``"*"``); FaultError if wrong.

    :param target: an operation such as ``"state"``, a retry class such as ``"read"``, or ``"*"``.
    :param outcomes: the script, in the outcome grammar; or none, and one keyword form instead.
    :param options: see ``FaultOptions``.
    :raises FaultError: naming the argument, what was given and what is accepted.
    :return: a new ``Fault``, its whole script still ahead of it.
    """
    unknown = [name for name in options if name not in _ACCEPTED]
    if unknown:
        raise FaultError(
            f"unknown keyword {unknown[0]!r}{did_you_mean(unknown[0], _ACCEPTED) or '.'} "
            f"Accepted: {', '.join(_ACCEPTED)}"
        )
    # status and error choose the outcome, so their types are checked here; every other value
    # is checked once, where it lands: Fault (times, rate, seed, when, optional) or the outcome.
    if options.get("status") is not None:
        check_int("status", options["status"], example=503, error=FaultError)
    error = options.get("error")
    if error is not None and not isinstance(error, str):
        raise FaultError(
            f"error must be a str such as 'connect', got {error!r} ({type(error).__name__})"
        )
    keyword = _keyword_outcome(options)
    if keyword is not None and outcomes:
        raise FaultError(
            "give the outcomes positionally (503, 'connect', '503x2,ok') or one of status=, "
            "error= or latency=, not both"
        )
    script = [keyword] if keyword is not None else list(outcomes)
    return Fault(
        cast(str, target),  # Fault checks it is one, as it checks every option below
        *script,
        times=options.get("times"),
        rate=options.get("rate"),
        seed=options.get("seed"),
        when=options.get("when"),
        call=options.get("call"),
        optional=options.get("optional", False),
    )


def parse_fault_spec(text: str) -> Fault:
    """A fault from its spelling in ``SPEC_GRAMMAR``: ``state=503x2``, ``read=503@0.3~7``.

    ``serve --fault`` and the admin API's ``{"spec": ...}`` read faults this way.

    :param text: ``TARGET=STEP,STEP…`` with an optional ``@RATE~SEED``.
    :raises FaultError: the text does not parse; the message names the mistake and ends with
        the grammar.
    :return: the fault, not yet added to any engine.
    """
    try:
        return _parse_spec(text)
    except FaultError as error:
        raise FaultError(f"bad fault spec {text!r}: {error.detail}", grammar=SPEC_GRAMMAR) from None


def _parse_spec(text: str) -> Fault:
    if not isinstance(text, str):
        raise FaultError(f"a spec is a string, got {type(text).__name__}")
    target, equals, script = text.partition("=")
    if not equals:
        raise FaultError("expected OP=SPEC, as in state=503x2")
    target = target.strip()
    script, at, rate_text = script.partition("@")
    rate: float | None = None
    seed: int | None = None
    if at:
        rate_text, tilde, seed_text = rate_text.partition("~")
        rate = read_float(rate_text, rate_text.strip(), "a probability")
        if tilde:
            seed = read_int(seed_text, seed_text.strip(), "an int seed")
    options: FaultOptions = {}
    if rate is not None:
        options["rate"] = rate
    if seed is not None:
        options["seed"] = seed
    steps = split_steps(script)
    if len(steps) == 1:
        outcome, count = steps[0]
        if count is not None:
            options["times"] = count
        return build_fault(target, outcome, **options)
    return build_fault(target, script, **options)


def fault_from_json(data: object) -> Fault:
    """A fault from the admin API's JSON: ``{"spec": "state=503x2"}``, or ``{"target": …}`` with
    ``"outcomes"`` and the options of ``build_fault`` (``"status"``, ``"times"``…).

    ``"spec"`` and ``"remaining"`` beside ``"target"`` are what ``Fault.to_json`` writes, for
    reading: they are ignored, so a fault read back can be sent again.
    """
    if not isinstance(data, Mapping):
        raise FaultError(f"a fault must be a JSON object, got {data!r}")
    if "target" not in data:
        if set(data) != {"spec"}:
            raise FaultError(
                'a fault object needs either "spec" (such as "state=503x2") or "target" with '
                f'"outcomes" or one of "status", "error", "latency"; got {dict(data)!r}'
            )
        spec = data["spec"]
        if not isinstance(spec, str):
            raise FaultError(f'"spec" must be a string, got {spec!r}')
        return parse_fault_spec(spec)
    options = {key: value for key, value in data.items() if key not in _READ_BACK}
    outcomes = options.pop("outcomes", [])
    if not isinstance(outcomes, list):
        raise FaultError(f'fault object: "outcomes" must be a list, got {outcomes!r}')
    if "when" in options:
        raise FaultError('fault object: "when" takes a Python predicate; JSON cannot carry one')
    return build_fault(options.pop("target"), *outcomes, **options)


def _error_format(value: str) -> ErrorFormat:
    try:
        return check_error_format(value)
    except ValueError as error:
        raise FaultError(str(error)) from None


def _keyword_outcome(options: FaultOptions) -> Outcome | None:
    forms = [name for name in ("status", "error", "latency") if options.get(name) is not None]
    if len(forms) > 1:
        raise FaultError(f"give one of status=, error= or latency=; got {' and '.join(forms)}")
    for name, allowed, needs in (
        *((extra, "status" in forms, "status=") for extra in _WITH_STATUS),
        ("after", options.get("error") == "stream_cut", "error='stream_cut'"),
    ):
        if options.get(name) is not None and not allowed:
            raise FaultError(f"{name}= only goes with {needs}")
    if not forms:
        return None
    if "status" in forms:
        error_format = options.get("error_format")
        return Status(
            options["status"],
            options.get("retry_after"),
            options.get("body"),
            options.get("headers"),
            None if error_format is None else _error_format(error_format),
        )
    if "latency" in forms:
        return Latency(options["latency"])
    error = options["error"]
    if error == "stream_cut":
        after = options.get("after")
        return StreamCut(0 if after is None else after)
    if error not in ERROR_KINDS:
        raise FaultError(
            f"error={error!r} is not a fault kind{did_you_mean(error, ERROR_KINDS)}; "
            f"accepted: {', '.join(ERROR_KINDS)}"
        )
    return parse_outcome(error)
