"""Error answers in the format the fake speaks, and the trace ids every answer carries.

Spectron's document lists one content type for errors, ``application/json``, with a body that
requires ``message`` (``ApiErrorResponse``); its prose promises RFC 7807 problem details. The
default format satisfies both at once. The other two let a test exercise every decoder a client
may have: the same body as ``application/problem+json``, or the bare legacy ``{"message": …}``.
"""

from __future__ import annotations

import itertools
import json
import threading
from http import HTTPStatus
from typing import Final, Literal, TypeAlias

from pytest_spectron.client._wire import TRACE_ID_HEADER
from pytest_spectron.testing.http._exchange import ServiceResponse
from pytest_spectron.testing.http._routing import NoRoute

__all__ = [
    "DEFAULT_ERROR_FORMAT",
    "ERROR_FORMATS",
    "PROBLEM_CONTENT_TYPE",
    "TRACE_ID_HEADER",
    "ErrorFormat",
    "TraceIds",
    "check_error_format",
    "error_content_type",
    "new_trace_id",
    "not_routed_response",
    "problem_response",
    "reason_phrase",
]

ErrorFormat: TypeAlias = Literal["json", "problem", "legacy"]
ERROR_FORMATS: Final[dict[ErrorFormat, str]] = {
    "json": "application/json, the document's required message plus the RFC 7807 fields",
    "problem": "the same body as application/problem+json",
    "legacy": 'application/json, {"message": ...} only',
}
"""Every error format, with what its answers look like."""
DEFAULT_ERROR_FORMAT: Final[ErrorFormat] = "json"
PROBLEM_CONTENT_TYPE: Final = "application/problem+json"


def check_error_format(value: object, *, argument: str = "error_format") -> ErrorFormat:
    """``value`` if it names an error format; a ValueError naming the accepted ones if not."""
    for name in ERROR_FORMATS:
        if value == name:
            return name
    accepted = "; ".join(f"{name!r} ({meaning})" for name, meaning in ERROR_FORMATS.items())
    raise ValueError(
        f"{argument} must name an error format, got {value!r}; use one of: {accepted}. "
        f"The default is {DEFAULT_ERROR_FORMAT!r}."
    )


def error_content_type(error_format: ErrorFormat) -> str:
    """The ``Content-Type`` of an error answer in ``error_format``."""
    return PROBLEM_CONTENT_TYPE if error_format == "problem" else "application/json"


def reason_phrase(status: int) -> str:
    """The reason phrase of an HTTP status (``Not Found``), or ``Error`` for an unknown one."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


class TraceIds:
    """The one source of trace ids: ``trc-000001``, ``trc-000002``… in the order they are asked.

    A fake numbers every answer it gives, faults included, from its own sequence, so two fakes
    fed the same calls give the same ids; answers made without a fake draw from the process's.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._numbers = itertools.count(1)

    def next(self) -> str:
        """The next trace id of this sequence."""
        with self._lock:
            return f"trc-{next(self._numbers):06d}"

    def reset(self) -> None:
        """Start the sequence again at ``trc-000001``."""
        with self._lock:
            self._numbers = itertools.count(1)


_PROCESS_TRACE_IDS = TraceIds()


def new_trace_id() -> str:
    """A trace id for an answer no fake numbers (the loopback server's own, the admin API's)."""
    return _PROCESS_TRACE_IDS.next()


def problem_response(
    status: int,
    detail: str,
    *,
    error_format: ErrorFormat = DEFAULT_ERROR_FORMAT,
    instance: str = "",
    trace_id: str | None = None,
    headers: tuple[tuple[str, str], ...] = (),
    **extensions: object,
) -> ServiceResponse:
    """An error answer in ``error_format`` with its ``x-trace-id`` header.

    ``json`` and ``problem`` carry ``message`` (the detail, as the document requires) and the
    RFC 7807 fields, with the extensions that are not None; ``legacy`` carries ``message`` alone.
    """
    trace_id = trace_id or new_trace_id()
    body: dict[str, object] = {"message": detail}
    if error_format != "legacy":
        body |= {
            "type": "about:blank",
            "title": reason_phrase(status),
            "status": status,
            "detail": detail,
            "instance": instance,
            "traceId": trace_id,
            **{name: value for name, value in extensions.items() if value is not None},
        }
    return ServiceResponse(
        status=status,
        headers=(
            ("content-type", error_content_type(error_format)),
            (TRACE_ID_HEADER, trace_id),
            *headers,
        ),
        body=json.dumps(body).encode(),
    )


def not_routed_response(
    error: NoRoute,
    *,
    error_format: ErrorFormat = DEFAULT_ERROR_FORMAT,
    trace_id: str | None = None,
) -> ServiceResponse:
    """The 404 (naming the nearest operations) or 405 (with ``Allow``) error for ``error``."""
    allowed = error.allowed
    return problem_response(
        405 if allowed else 404,
        error.describe(),
        error_format=error_format,
        instance=error.path,
        trace_id=trace_id,
        headers=(("allow", ", ".join(allowed)),) if allowed else (),
        nearest=None if allowed else [operation.name for operation in error.nearest],
    )
