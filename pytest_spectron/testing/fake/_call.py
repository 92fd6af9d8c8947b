"""What a handler gets (``Call``), gives back (``Answer``), and raises to refuse (``Problem``)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from pytest_spectron.client._base import RequestModel, ResponseModel
from pytest_spectron.client._catalogue import Operation
from pytest_spectron.testing.fake._auth import Caller
from pytest_spectron.testing.fake._context import ContextState
from pytest_spectron.testing.fake._keyring import Keyring
from pytest_spectron.testing.fake._store import EPOCH, PROCESSING_STAGE_SECONDS, Ids
from pytest_spectron.testing.http._exchange import ServiceResponse
from pytest_spectron.testing.http._multipart import Part
from pytest_spectron.testing.http._problems import ErrorFormat, problem_response

__all__ = [
    "HANDLERS",
    "NO_CONTENT",
    "Answer",
    "Call",
    "Handler",
    "Problem",
    "StreamedReply",
    "check_labels",
    "handles",
    "invalid",
    "not_found",
    "ok",
    "rfc3339_seconds",
]

_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
"""An RFC 3339 ``date-time``, the format the document gives every instant (ASCII digits only)."""

RequestT = TypeVar("RequestT", bound=RequestModel)
RecordT = TypeVar("RecordT")


class Problem(Exception):
    """An error answer: its status, its detail, and for a validation error the failing fields."""

    def __init__(
        self, status: int, detail: str, *, errors: list[dict[str, str]] | None = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors
        self.notes: tuple[str, ...] = ()
        """What the fake noticed of the request before refusing it (unknown fields ignored)."""

    def response(
        self, *, instance: str, trace_id: str, error_format: ErrorFormat
    ) -> ServiceResponse:
        """The problem as an error answer in ``error_format``, with its ``x-trace-id`` header."""
        return problem_response(
            self.status,
            self.detail,
            error_format=error_format,
            instance=instance,
            trace_id=trace_id,
            errors=self.errors,
        )


def invalid(field_name: str, message: str) -> Problem:
    """A 400 naming one field: the status the document gives every request validation error."""
    return Problem(
        400, f"{field_name}: {message}", errors=[{"field": field_name, "message": message}]
    )


def check_labels(field_name: str, labels: Sequence[str] | None) -> None:
    """A 400 if a label's key starts with ``_``: the document reserves those keys."""
    reserved = [label for label in labels or () if label.startswith("_")]
    if reserved:
        raise invalid(
            field_name,
            f"label keys starting with '_' are reserved, got {reserved}: "
            "rename them (labels are 'key=value' strings such as 'kind=note')",
        )


def rfc3339_seconds(field_name: str, raw: str) -> float:
    """``raw``, an RFC 3339 time, as seconds since the fake's epoch; a 400 naming the field if not.

    The document types every instant ``format: date-time`` (RFC 3339): a full date, a time and
    a time zone, such as ``2026-01-01T00:00:00Z``.
    """
    matched = _RFC3339.fullmatch(raw)
    if matched is None:
        raise invalid(
            field_name, f"must be an RFC 3339 time such as '2026-01-01T00:00:00Z', got {raw!r}"
        )
    fraction, zone = matched.group(1) or "", matched.group(2).upper()
    # Python 3.10's fromisoformat takes neither "Z" nor a fraction of any length: both apart.
    whole = raw[: matched.start(1) if fraction else matched.start(2)]
    try:
        moment = datetime.fromisoformat(whole.upper() + ("+00:00" if zone == "Z" else zone))
    except ValueError:  # digits out of range: month 13, hour 25
        raise invalid(field_name, f"is no valid date and time, got {raw!r}") from None
    return (moment - EPOCH).total_seconds() + float(fraction or 0)


def not_found(what: str, name: str) -> Problem:
    """A 404 problem for an unknown resource."""
    return Problem(404, f"{what} {name!r} does not exist")


@dataclass
class Call:
    """One authenticated, routed request, its body validated, and the state it may change."""

    operation: Operation
    state: ContextState
    context_id: str
    caller: Caller
    trace_id: str
    """The request's trace id: its ``x-trace-id`` header, and the id of any trace it leaves."""
    now: str
    """The virtual time of the request, as RFC 3339."""
    seconds: float
    """The virtual time of the request, in seconds since the fake's epoch."""
    ids: Ids
    keyring: Keyring
    path: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    """The first value of each query parameter."""
    headers: Mapping[str, str] = field(default_factory=dict)
    body: RequestModel | None = None
    """The request model instance: the JSON body, or an upload's metadata part."""
    parts: Sequence[Part] = ()
    """The parts of a multipart upload."""
    processing_seconds: float = PROCESSING_STAGE_SECONDS
    """Virtual seconds each stage of an upload's processing takes; 0: ready at once."""

    def body_as(self, model: type[RequestT]) -> RequestT:
        """The validated body, as the model the handler expects."""
        assert isinstance(self.body, model), f"{self.operation.name}: body is {self.body!r}"
        return self.body

    def integer(
        self,
        name: str,
        default: int,
        *,
        minimum: int | None = 0,
        maximum: int | None = None,
        bits: int = 32,
    ) -> int:
        """A query parameter as an int (capped at ``maximum``); a 400 if it is not one.

        The document types each as ``int32`` (``int64`` where ``bits`` says so): a value beyond
        that format's range is no such integer, so a 400 too.
        """
        raw = self.query.get(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise invalid(name, f"must be an integer, got {raw!r}") from None
        if minimum is not None and value < minimum:
            raise invalid(name, f"must be {minimum} or more, got {value}")
        largest = 2 ** (bits - 1) - 1
        if not -largest - 1 <= value <= largest:
            raise invalid(name, f"must be an int{bits}, at most {largest}, got {value}")
        return value if maximum is None else min(value, maximum)

    def choice(self, name: str, allowed: Sequence[str]) -> str | None:
        """A query parameter that must be one of ``allowed``; a 400 naming them if not."""
        raw = self.query.get(name)
        if raw is not None and raw not in allowed:
            raise invalid(name, f"must be one of {', '.join(allowed)}; got {raw!r}")
        return raw

    def instant(self, name: str) -> float | None:
        """A query parameter holding an RFC 3339 time, as seconds since the fake's epoch.

        A 400 naming the parameter for anything else (a date alone, no time zone, a word).
        """
        raw = self.query.get(name)
        return None if raw is None else rfc3339_seconds(name, raw)

    def named(self, records: Mapping[str, RecordT], parameter: str, what: str) -> RecordT:
        """The record the path ``parameter`` names in ``records``; a 404 naming it if none."""
        name = self.path[parameter]
        record = records.get(name)
        if record is None:
            raise not_found(what, name)
        return record

    def required(self, name: str) -> str:
        """A query parameter the operation cannot do without; a 400 if it is missing or empty."""
        raw = self.query.get(name)
        if not raw:
            raise invalid(name, "this query parameter is required")
        return raw


@dataclass(frozen=True)
class StreamedReply:
    """A chat reply to send as server-sent events, in the fake's stream format."""

    deltas: tuple[str, ...]
    """The reply cut into pieces that concatenate back to it."""
    reply: str
    trace_id: str
    session_id: str


@dataclass(frozen=True)
class Answer:
    """A successful answer: a response model (or a list of them), raw bytes, or a stream."""

    status: int = 200
    model: ResponseModel | Sequence[ResponseModel] | None = None
    raw: bytes | None = None
    content_type: str = "application/json"
    stream: StreamedReply | None = None
    """A streamed chat reply, sent as ``text/event-stream``."""


def ok(model: ResponseModel | Sequence[ResponseModel], status: int = 200) -> Answer:
    """A JSON answer built from response models."""
    return Answer(status, model)


NO_CONTENT = Answer(204)

Handler = Callable[[Call], Answer]
HANDLERS: dict[str, Handler] = {}
"""Operation name → its handler; every catalogue operation has one."""


def handles(name: str) -> Callable[[Handler], Handler]:
    """Register the decorated function as the handler of operation ``name``."""

    def register(handler: Handler) -> Handler:
        assert name not in HANDLERS, f"two handlers for {name}"
        HANDLERS[name] = handler
        return handler

    return register
