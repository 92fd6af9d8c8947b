"""RFC 7807 problem answers, as Spectron sends every error."""

from __future__ import annotations

import itertools
import json
from http import HTTPStatus

from pytest_spectron.testing._exchange import ServiceResponse

__all__ = ["PROBLEM_CONTENT_TYPE", "TRACE_ID_HEADER", "new_trace_id", "problem_response"]

PROBLEM_CONTENT_TYPE = "application/problem+json"
TRACE_ID_HEADER = "x-trace-id"

_trace_numbers = itertools.count(1)


def new_trace_id() -> str:
    """A fresh trace id, unique within the process."""
    return f"trace-{next(_trace_numbers):06d}"


def problem_response(
    status: int,
    detail: str,
    *,
    instance: str = "",
    trace_id: str | None = None,
    headers: tuple[tuple[str, str], ...] = (),
    **extensions: object,
) -> ServiceResponse:
    """A problem+json answer with its ``x-trace-id`` header; extensions join the body."""
    trace_id = trace_id or new_trace_id()
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    body = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        "traceId": trace_id,
        **extensions,
    }
    return ServiceResponse(
        status=status,
        headers=(("content-type", PROBLEM_CONTENT_TYPE), (TRACE_ID_HEADER, trace_id), *headers),
        body=json.dumps(body).encode(),
    )
