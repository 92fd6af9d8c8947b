"""Reading the outcome grammar (``SPEC_GRAMMAR``): any spelling of an outcome, and a spec's steps.

``parse_outcome`` reads one outcome from an object, a status, a word, a token or a JSON object;
``parse_steps`` also reads the spec's steps with counts (``"503x2,connect,ok"``), and
``compress_script`` writes a script back in that form.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from pytest_spectron._shared._numbers import decimal_number, whole_number
from pytest_spectron._shared._validators import check_int, is_int
from pytest_spectron.testing.faults._outcomes import (
    MALFORMED_KINDS,
    OUTCOME_TYPES,
    PASS,
    FaultError,
    Latency,
    Malformed,
    Network,
    Outcome,
    Status,
    StreamCut,
    check_status,
    hint,
)

__all__ = [
    "ACCEPTED_OUTCOMES",
    "MAX_SCRIPT_ATTEMPTS",
    "compress_script",
    "parse_outcome",
    "parse_steps",
    "read_float",
    "read_int",
    "split_steps",
]

MAX_SCRIPT_ATTEMPTS: Final = 10_000
"""Most attempts one spec may script: a count such as ``503x999999999`` would build the script in
memory, and the admin endpoint takes specs from any client."""

_WORDS: Final[dict[str, Outcome]] = {
    "ok": PASS,
    "connect": Network("connect"),
    "connect_timeout": Network("connect_timeout"),
    "read_timeout": Network("read_timeout"),
    "timeout": Network("read_timeout"),
    "reset": Network("reset"),
    "truncated_json": Malformed("truncated_json"),
    "html": Malformed("html"),
    "empty": Malformed("empty"),
    "stream_cut": StreamCut(0),
}
_WITH_ARGUMENT: Final = ("latency", "stream_cut", *MALFORMED_KINDS)
ACCEPTED_OUTCOMES: Final = (
    "a final HTTP status 200-599 (503, or '429:2' for Retry-After: 2), "
    + ", ".join(repr(word) for word in _WORDS)
    + ", 'latency:SECONDS', 'stream_cut:FRAMES', 'html:STATUS' (likewise truncated_json, "
    'empty), a JSON object such as {"status": 503} or {"error": "reset"}, or an outcome '
    "object: Status(503, retry_after=2), Network('reset'), Latency(2.5), Malformed('html'), "
    "StreamCut(after=2), PASS"
)
_JSON_KEYS: Final = {
    "status": ("status", "retry_after", "body", "headers", "format"),
    "error": ("error",),
    "latency": ("latency",),
    "malformed": ("malformed", "status"),
    "stream_cut": ("stream_cut",),
}


def parse_outcome(value: object) -> Outcome:
    """An outcome from any spelling: an outcome object, a status, a word, a token or JSON."""
    if isinstance(value, OUTCOME_TYPES):
        return value
    if is_int(value):
        check_status("outcome", value)
        return Status(value)
    if isinstance(value, str):
        return _parse_token(value)
    if isinstance(value, Mapping):
        return _outcome_from_json(value)
    raise FaultError(f"{value!r} is not a fault outcome. Accepted: {ACCEPTED_OUTCOMES}")


def _parse_token(text: str) -> Outcome:
    token = text.strip()
    head, colon, argument = token.partition(":")
    head = head.strip().lower()
    argument = argument.strip()
    code = whole_number(head)
    if code is not None:
        check_status(f"outcome {text!r}", code)
        if not colon:
            return Status(code)
        return Status(code, retry_after=read_float(text, argument, "Retry-After seconds"))
    if not colon and head in _WORDS:
        return _WORDS[head]
    if colon and head == "latency":
        return Latency(read_float(text, argument, "seconds"))
    if colon and head == "stream_cut":
        return StreamCut(read_int(text, argument, "a frame count"))
    if colon and head in MALFORMED_KINDS:
        return Malformed(head, read_int(text, argument, "an HTTP status"))
    if head == "latency":
        raise FaultError(f"outcome {text!r}: latency needs seconds, as in 'latency:2.5'")
    if colon and head in _WORDS:
        raise FaultError(f"outcome {text!r}: {head!r} takes no ':' argument")
    if "~" in token:
        raise FaultError(f"{text!r}: '~SEED' only follows '@RATE', as in read=503@0.3~7")
    nearby = hint(head, [*_WORDS, *_WITH_ARGUMENT])
    raise FaultError(f"{text!r} is not a fault outcome{nearby} Accepted: {ACCEPTED_OUTCOMES}")


def _outcome_from_json(data: Mapping[Any, Any]) -> Outcome:
    kinds = [key for key in _JSON_KEYS if key in data and key != "status"] or (
        ["status"] if "status" in data else []
    )
    if len(kinds) != 1:
        raise FaultError(
            f"outcome object {dict(data)!r} must have exactly one of the keys "
            f"{', '.join(_JSON_KEYS)}"
        )
    kind = kinds[0]
    unknown = sorted(str(key) for key in data if key not in _JSON_KEYS[kind])
    if unknown:
        raise FaultError(
            f"outcome object {dict(data)!r}: unknown key(s) {', '.join(unknown)}; an outcome "
            f"with {kind!r} accepts only {', '.join(_JSON_KEYS[kind])}"
            + hint(unknown[0], _JSON_KEYS[kind])
        )
    try:
        if kind == "status":
            return Status(
                _json_int(data, "status"),
                retry_after=data.get("retry_after"),
                body=data.get("body"),
                headers=data.get("headers"),
                format=data.get("format"),
            )
        if kind == "error":
            error = data["error"]
            if error == "timeout":
                return Network("read_timeout")
            return Network(error) if isinstance(error, str) else Network(repr(error))
        if kind == "latency":
            return Latency(data["latency"])
        if kind == "malformed":
            status = data.get("status")
            return Malformed(str(data["malformed"]), None if status is None else _json_int(data))
        return StreamCut(data["stream_cut"])
    except (TypeError, FaultError) as error:
        raise FaultError(f"outcome object {dict(data)!r}: {error}") from None


def _json_int(data: Mapping[Any, Any], key: str = "status") -> int:
    return check_int(key, data[key], error=FaultError)


def parse_steps(value: object) -> list[Outcome]:
    """One positional outcome as the attempts it scripts: ``"503x2,connect"`` is three.

    Everything ``parse_outcome`` accepts is one step; a string may also hold the spec's steps,
    separated by commas, each with an ``xCOUNT``.
    """
    if not isinstance(value, str):
        return [parse_outcome(value)]
    return [outcome for outcome, count in split_steps(value) for _ in range(count or 1)]


def split_steps(script: str) -> list[tuple[Outcome, int | None]]:
    """The spec's steps: each outcome with its count after `x`, or None without one."""
    texts = [step.strip() for step in script.split(",")]
    if not all(texts):
        raise FaultError("empty step: steps are separated by single commas")
    steps: list[tuple[Outcome, int | None]] = []
    attempts = 0
    for text in texts:
        outcome_text, count = _split_count(text)
        attempts += count or 1
        if attempts > MAX_SCRIPT_ATTEMPTS:  # checked before anything is built
            raise FaultError(f"the steps cover more than {MAX_SCRIPT_ATTEMPTS} attempts")
        steps.append((parse_outcome(outcome_text), count))
    return steps


def _split_count(step: str) -> tuple[str, int | None]:
    head, x, count = step.rpartition("x")
    value = whole_number(count.strip())
    if not x or value is None or not head.strip():
        return step, None
    if not 1 <= value <= MAX_SCRIPT_ATTEMPTS:
        raise FaultError(
            f"step {step!r}: the count after 'x' must be 1 to {MAX_SCRIPT_ATTEMPTS}, got {value}"
        )
    return head.strip(), value


def compress_script(script: tuple[Outcome, ...]) -> str:
    """A script in the spec's form, repeated outcomes counted: ``503x2,ok``."""
    runs: list[tuple[Outcome, int]] = []
    for outcome in script:
        if runs and runs[-1][0] == outcome:
            runs[-1] = (outcome, runs[-1][1] + 1)
        else:
            runs.append((outcome, 1))
    return ",".join(outcome.token() + (f"x{n}" if n > 1 else "") for outcome, n in runs)


def read_float(text: str, argument: str, what: str) -> float:
    """``argument`` (part of ``text``) as a number, an int when whole; a FaultError if not one."""
    value = decimal_number(argument)
    if value is None:
        raise FaultError(f"{text!r}: expected {what}, got {argument!r}")
    return int(value) if value.is_integer() else value


def read_int(text: str, argument: str, what: str) -> int:
    """``argument`` (part of ``text``) as digits; a FaultError naming ``what`` if not."""
    value = whole_number(argument)
    if value is None:
        raise FaultError(f"{text!r}: expected {what} (digits 0-9), got {argument!r}")
    return value
