"""Fault outcomes: what one attempt gets, each checked where it is made.

An outcome is an HTTP ``Status``, a ``Network`` failure, ``Latency``, a ``Malformed`` body, a
``StreamCut``, or ``PASS`` (the fake answers). ``SPEC_GRAMMAR`` is the one grammar every way of
declaring a fault is written in; ``_outcome_grammar`` reads it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

from pytest_spectron._shared._validators import check_seconds, is_int
from pytest_spectron.client._suggest import did_you_mean
from pytest_spectron.testing.http._exchange import NETWORK_FAILURE_KINDS
from pytest_spectron.testing.http._problems import ErrorFormat, check_error_format

__all__ = [
    "MALFORMED_KINDS",
    "MALFORMED_STATUS",
    "OUTCOME_TYPES",
    "PASS",
    "SPEC_GRAMMAR",
    "FaultError",
    "Latency",
    "Malformed",
    "Network",
    "Outcome",
    "Status",
    "StreamCut",
    "check_status",
    "format_seconds",
    "hint",
]

MALFORMED_KINDS: Final = ("truncated_json", "html", "empty")
MALFORMED_STATUS: Final[dict[str, int]] = {"truncated_json": 200, "html": 502, "empty": 200}
"""Default statuses: a 2xx with a broken body exercises the client's decode errors; an HTML page
is what a proxy in front of a failing server sends."""

SPEC_GRAMMAR: Final = """\
fault spec grammar:
  FAULT   := TARGET "=" STEP ("," STEP)* ["@" RATE ["~" SEED]]
  TARGET  := an operation (state, documents.upload...), a retry class
             (read, idempotent_write, write, stream) or "*"
  STEP    := OUTCOME ["x" COUNT]
  OUTCOME := STATUS[":" RETRY_AFTER]          503, 429:2 (Retry-After: 2)
           | connect | connect_timeout | read_timeout | timeout | reset
           | latency:SECONDS                  latency:2.5 (virtual seconds)
           | truncated_json[:STATUS] | html[:STATUS] | empty[:STATUS]
           | stream_cut[:FRAMES]              stream_cut:2
           | ok                               the fake answers
  One step without a count fails every matching attempt; "503x2" fails the next two; several
  steps run once each, in order, then the fake answers. "@0.3~7" applies the fault to each
  matching attempt with probability 0.3, reproducibly from seed 7 (default 0).
  Examples: state=503x2   remember=connect,503,ok   *=latency:2.5   chat=stream_cut:2
            read=503@0.3~7"""


class FaultError(ValueError):
    """A fault, outcome or spec is malformed: the message says what was given and what fits.

    A spec error carries the grammar: its message ends with it, and ``detail`` and ``grammar``
    hold the two apart for callers that show the grammar their own way (the admin API).

    :ivar detail: what was wrong, without the grammar.
    :ivar grammar: the grammar the message ends with (``SPEC_GRAMMAR``), or None.
    """

    def __init__(self, detail: str, *, grammar: str | None = None) -> None:
        super().__init__(detail if grammar is None else f"{detail}\n{grammar}")
        self.detail = detail
        self.grammar = grammar


@dataclass(frozen=True)
class Status:
    """Answer with this HTTP status and an error body (or ``body``), plus ``headers``.

    :param code: the HTTP status, 200 to 599.
    :param retry_after: whole seconds, or a str (an HTTP date, or any value to send as it is),
        sent as the ``Retry-After`` header.
    :param body: replaces the error body: a dict goes as JSON, a str as text, bytes as they are.
    :param headers: extra answer headers; they win over the generated ones.
    :param format: the error body's format (``json``, ``problem`` or ``legacy``); None: the
        fake's own. A ``body`` wins over it.
    :raises FaultError: a value above is out of range or of the wrong type.
    """

    code: int
    retry_after: float | str | None = None
    body: dict[str, Any] | str | bytes | None = None
    headers: Mapping[str, str] | None = None
    format: ErrorFormat | None = None

    def __post_init__(self) -> None:
        check_status("Status", self.code)
        if self.format is not None:
            try:
                check_error_format(self.format, argument="Status format")
            except ValueError as error:
                raise FaultError(str(error)) from None
        if self.retry_after is not None and not isinstance(self.retry_after, str):
            _check_seconds("Status retry_after", self.retry_after, allow_zero=True)
            if not float(self.retry_after).is_integer():
                raise FaultError(
                    f"Status retry_after must be whole seconds (RFC 9110's Retry-After is "
                    f"digits or an HTTP date), got {self.retry_after!r}; a str is sent as it is"
                )
        if self.body is not None and not isinstance(self.body, dict | str | bytes):
            raise FaultError(f"Status body must be a dict, str or bytes, got {self.body!r}")
        if self.headers is not None and (
            not isinstance(self.headers, Mapping)
            or not all(
                isinstance(name, str) and isinstance(value, str)
                for name, value in self.headers.items()
            )
        ):
            raise FaultError(f"Status headers must map str to str, got {self.headers!r}")

    @property
    def retry_after_header(self) -> str | None:
        """The ``Retry-After`` header value, if any."""
        if self.retry_after is None or isinstance(self.retry_after, str):
            return self.retry_after
        return format_seconds(self.retry_after)

    def describe(self) -> str:
        """In words, for the journal.

        :return: such as ``HTTP 429, Retry-After: 2``.
        """
        text = f"HTTP {self.code}"
        if self.retry_after is not None:
            text += f", Retry-After: {self.retry_after_header}"
        if self.format is not None:
            text += f", {self.format} error format"
        if self.body is not None or self.headers:
            text += ", custom " + " and ".join(
                part
                for part, given in (("body", self.body is not None), ("headers", self.headers))
                if given
            )
        return text

    def token(self) -> str:
        """The outcome as ``SPEC_GRAMMAR`` spells it.

        :return: such as ``429:2``; a custom body, headers or format add ``+custom``, unspelled.
        """
        text = str(self.code)
        if self.retry_after is not None:
            text += f":{self.retry_after_header}"
        custom = self.body is not None or self.headers or self.format is not None
        return text + ("+custom" if custom else "")

    def to_json(self) -> dict[str, Any]:
        """The outcome in JSON, as a fault's ``outcomes`` in the admin API take it.

        :return: ``{"status": code}`` with ``retry_after``, ``body``, ``headers`` and ``format``
            when given (bytes decoded as UTF-8).
        """
        data: dict[str, Any] = {"status": self.code}
        if self.retry_after is not None:
            data["retry_after"] = self.retry_after
        if isinstance(self.body, bytes):
            data["body"] = self.body.decode("utf-8", errors="replace")
        elif self.body is not None:
            data["body"] = self.body
        if self.headers:
            data["headers"] = dict(self.headers)
        if self.format is not None:
            data["format"] = self.format
        return data


_NETWORK_WORDS: Final[dict[str, str]] = {
    "connect": "connection refused",
    "connect_timeout": "connect timeout",
    "read_timeout": "read timeout",
    "reset": "connection reset by peer",
}


@dataclass(frozen=True)
class Network:
    """No answer: the connection fails the way ``kind`` names.

    :param kind: ``connect`` (refused), ``connect_timeout``, ``read_timeout`` or ``reset``.
    :raises FaultError: for any other kind (with the nearest).
    """

    kind: str

    def __post_init__(self) -> None:
        _check_kind("Network", self.kind, NETWORK_FAILURE_KINDS)

    def describe(self) -> str:
        """In words, for the journal.

        :return: such as ``connection reset by peer``.
        """
        return _NETWORK_WORDS[self.kind]

    def token(self) -> str:
        """The outcome as ``SPEC_GRAMMAR`` spells it.

        :return: the kind, such as ``reset``.
        """
        return self.kind

    def to_json(self) -> dict[str, Any]:
        """The outcome in JSON, as a fault's ``outcomes`` in the admin API take it.

        :return: ``{"error": kind}``.
        """
        return {"error": self.kind}


@dataclass(frozen=True)
class Latency:
    """Answer normally after ``seconds`` of virtual time; past the request's timeout, time out.

    :param seconds: the virtual delay, more than 0.
    :raises FaultError: ``seconds`` is not a finite number above 0.
    """

    seconds: float

    def __post_init__(self) -> None:
        _check_seconds("Latency", self.seconds, allow_zero=False)

    def describe(self) -> str:
        """In words, for the journal.

        :return: such as ``latency 2.5 s``.
        """
        return f"latency {format_seconds(self.seconds)} s"

    def token(self) -> str:
        """The outcome as ``SPEC_GRAMMAR`` spells it.

        :return: such as ``latency:2.5``.
        """
        return f"latency:{format_seconds(self.seconds)}"

    def to_json(self) -> dict[str, Any]:
        """The outcome in JSON, as a fault's ``outcomes`` in the admin API take it.

        :return: ``{"latency": seconds}``.
        """
        return {"latency": self.seconds}


_MALFORMED_WORDS: Final[dict[str, str]] = {
    "truncated_json": "truncated JSON body",
    "html": "HTML error page",
    "empty": "empty body",
}


@dataclass(frozen=True)
class Malformed:
    """Answer with a broken body: ``truncated_json`` (200), ``html`` (502) or ``empty`` (200).

    :param kind: ``truncated_json``, ``html`` or ``empty``.
    :param status: the status to send instead of the kind's default (in parentheses above).
    :raises FaultError: for another kind (with the nearest), or a status outside 200-599.
    """

    kind: str
    status: int | None = None

    def __post_init__(self) -> None:
        _check_kind("Malformed", self.kind, MALFORMED_KINDS)
        if self.status is not None:
            check_status("Malformed status", self.status)

    @property
    def effective_status(self) -> int:
        """The status sent: the one given, else the kind's default."""
        return MALFORMED_STATUS[self.kind] if self.status is None else self.status

    def describe(self) -> str:
        """In words, for the journal.

        :return: such as ``HTML error page (HTTP 502)``.
        """
        return f"{_MALFORMED_WORDS[self.kind]} (HTTP {self.effective_status})"

    def token(self) -> str:
        """The outcome as ``SPEC_GRAMMAR`` spells it.

        :return: such as ``html`` or, with a status given, ``html:503``.
        """
        return self.kind if self.status is None else f"{self.kind}:{self.status}"

    def to_json(self) -> dict[str, Any]:
        """The outcome in JSON, as a fault's ``outcomes`` in the admin API take it.

        :return: ``{"malformed": kind}``, with ``status`` when given.
        """
        data: dict[str, Any] = {"malformed": self.kind}
        if self.status is not None:
            data["status"] = self.status
        return data


@dataclass(frozen=True)
class StreamCut:
    """Let the fake answer, but drop an SSE answer's connection after ``after`` frames.

    On an answer that is not a stream, or one with no more than ``after`` frames, the cut is
    spent without effect and the journal's fault column says so.

    :param after: the frames the client gets before the connection drops, 0 or more.
    :raises FaultError: ``after`` is not an int of 0 or more.
    """

    after: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.after, bool) or not isinstance(self.after, int) or self.after < 0:
            raise FaultError(f"StreamCut after must be a frame count >= 0, got {self.after!r}")

    def describe(self) -> str:
        """In words, for the journal.

        :return: such as ``stream cut after 2 frames``.
        """
        return f"stream cut after {self.after} frame{'' if self.after == 1 else 's'}"

    def token(self) -> str:
        """The outcome as ``SPEC_GRAMMAR`` spells it.

        :return: such as ``stream_cut:2``.
        """
        return f"stream_cut:{self.after}"

    def to_json(self) -> dict[str, Any]:
        """The outcome in JSON, as a fault's ``outcomes`` in the admin API take it.

        :return: ``{"stream_cut": after}``.
        """
        return {"stream_cut": self.after}


class _Pass:
    """The sentinel outcome: the fake answers, untouched."""

    _instance: _Pass | None = None

    def __new__(cls) -> _Pass:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def describe(self) -> str:
        """In words, for the journal.

        :return: ``ok (the fake answers)``.
        """
        return "ok (the fake answers)"

    def token(self) -> str:
        """The outcome as ``SPEC_GRAMMAR`` spells it.

        :return: ``ok``.
        """
        return "ok"

    def to_json(self) -> str:
        """The outcome in JSON, as a fault's ``outcomes`` in the admin API take it.

        :return: ``"ok"``.
        """
        return "ok"

    def __repr__(self) -> str:
        return "PASS"

    def __reduce__(self) -> str:
        return "PASS"


PASS: Final = _Pass()
"""The outcome "the fake answers": a step in a script that lets one attempt through."""

Outcome: TypeAlias = Status | Network | Latency | Malformed | StreamCut | _Pass
OUTCOME_TYPES: Final = (Status, Network, Latency, Malformed, StreamCut, _Pass)


def check_status(what: str, code: object) -> None:
    """A FaultError unless ``code`` is a final HTTP status (an int from 200 to 599)."""
    if not is_int(code) or not 200 <= code <= 599:
        interim = isinstance(code, int) and 100 <= code <= 199
        why = ": a 1xx status is an interim answer, never a server's final one" if interim else ""
        raise FaultError(f"{what}: {code!r} is not a final HTTP status 200-599{why}")


def _check_kind(what: str, kind: str, accepted: tuple[str, ...]) -> None:
    if kind not in accepted:
        raise FaultError(
            f"{what} kind {kind!r} is not one of {', '.join(accepted)}" + hint(kind, accepted)
        )


def _check_seconds(what: str, value: object, *, allow_zero: bool) -> None:
    check_seconds(what, value, above_zero=not allow_zero, error=FaultError)


def format_seconds(value: float) -> str:
    """Seconds as the grammar spells them: ``2`` for a whole number, else ``2.5``."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def hint(given: str, accepted: Any) -> str:
    """The end of an error's sentence: "; did you mean 'reset'?" when a value is near, else "."."""
    return did_you_mean(given, accepted) or "."
