"""What an injected fault answers: the HTTP answer of a ``Status`` or a ``Malformed`` outcome.

Network failures have no answer here (each transport renders them as its kind of failure), and
``Latency`` and ``StreamCut`` wrap the fake's own answer in the service.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from pytest_spectron.testing.faults._outcomes import Malformed, Status
from pytest_spectron.testing.http._exchange import (
    BODILESS_STATUSES,
    ServiceRequest,
    ServiceResponse,
)
from pytest_spectron.testing.http._problems import (
    DEFAULT_ERROR_FORMAT,
    TRACE_ID_HEADER,
    ErrorFormat,
    error_content_type,
    new_trace_id,
    problem_response,
    reason_phrase,
)

__all__ = ["malformed_response", "status_response"]


def status_response(
    outcome: Status,
    *,
    operation: str,
    request: ServiceRequest,
    error_format: ErrorFormat = DEFAULT_ERROR_FORMAT,
    trace_id: str | None = None,
) -> ServiceResponse:
    """The answer a ``Status`` outcome gives: an error body unless the outcome brings its own.

    The body is in the outcome's ``format``, else in ``error_format``; a ``body`` wins over both.
    A ``Retry-After`` is also in the problem body, as ``retryAfter``: the errors guide tells
    Python users to read a 429's retry information from the problem-detail body.
    """
    extra: list[tuple[str, str]] = []
    if outcome.retry_after_header is not None:
        extra.append(("retry-after", outcome.retry_after_header))
    code = outcome.code
    error_format = outcome.format or error_format
    trace_id = trace_id or new_trace_id()
    if outcome.body is None:
        answer = problem_response(
            code,
            f"{operation} failed with HTTP {code} (a fault injected by pytest-spectron)",
            error_format=error_format,
            instance=request.path,
            trace_id=trace_id,
            headers=tuple(extra),
            retryAfter=_retry_after_member(outcome.retry_after),
        )
    else:
        content_type, body = _encode_body(outcome.body, code, error_format)
        answer = ServiceResponse(
            code,
            headers=(("content-type", content_type), (TRACE_ID_HEADER, trace_id), *extra),
            body=body,
        )
    if code < 200 or code in BODILESS_STATUSES:
        answer = ServiceResponse(
            code, headers=tuple((n, v) for n, v in answer.headers if n != "content-type")
        )
    if outcome.headers:
        overridden = {name.lower() for name in outcome.headers}
        answer = dataclasses.replace(
            answer,
            headers=(
                *((n, v) for n, v in answer.headers if n.lower() not in overridden),
                *((name.lower(), value) for name, value in outcome.headers.items()),
            ),
        )
    return answer


def malformed_response(
    outcome: Malformed,
    *,
    error_format: ErrorFormat = DEFAULT_ERROR_FORMAT,
    trace_id: str | None = None,
) -> ServiceResponse:
    """The answer a ``Malformed`` outcome gives: a cut JSON document, an HTML page or nothing."""
    code = outcome.effective_status
    phrase = reason_phrase(code)
    if outcome.kind == "html":
        page = (
            f"<!DOCTYPE html>\n<html><head><title>{code} {phrase}</title></head>\n"
            f"<body><center><h1>{code} {phrase}</h1></center><hr>"
            "<center>nginx (pytest-spectron fault)</center></body></html>\n"
        )
        return ServiceResponse(
            code, headers=(("content-type", "text/html; charset=utf-8"),), body=page.encode()
        )
    content_type = "application/json" if code < 400 else error_content_type(error_format)
    if outcome.kind == "empty":
        return ServiceResponse(code, headers=(("content-type", content_type),), body=b"")
    whole = json.dumps(
        {
            "status": code,
            "title": phrase,
            "detail": "this answer was cut in transit by a pytest-spectron fault",
        }
    ).encode()
    return ServiceResponse(
        code,
        headers=(("content-type", content_type), (TRACE_ID_HEADER, trace_id or new_trace_id())),
        body=whole[: len(whole) // 2],
    )


def _retry_after_member(value: float | str | None) -> float | str | None:
    """``Retry-After`` as a problem body member: seconds as a number, an HTTP date as text."""
    if isinstance(value, str):
        return int(value) if value.isascii() and value.isdigit() else value
    if value is not None and float(value).is_integer():
        return int(value)
    return value


def _encode_body(
    body: dict[str, Any] | str | bytes, code: int, error_format: ErrorFormat
) -> tuple[str, bytes]:
    if isinstance(body, dict):
        kind = error_content_type(error_format) if code >= 400 else "application/json"
        return kind, json.dumps(body).encode()
    if isinstance(body, str):
        return "text/plain; charset=utf-8", body.encode()
    return "application/octet-stream", body
