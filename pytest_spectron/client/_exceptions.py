"""The errors a Spectron client raises.

Our exception hierarchy::

    SpectronError
    ├── SpectronAPIError                  any non-2xx answer (status_code, message, trace_id, body)
    │   ├── SpectronValidationError       400, 422
    │   ├── SpectronAuthError             401
    │   ├── SpectronScopeError            403
    │   ├── SpectronNotFoundError         404
    │   ├── SpectronConflictError         409
    │   ├── SpectronRateLimitError        429 (retry_after)
    │   └── SpectronServerError           5xx
    ├── SpectronConnectionError           the network failed; chained to the httpx exception
    │   ├── SpectronTimeoutError          a connect, read, write or pool timeout
    │   └── SpectronStreamError           a chat stream stopped before its ending
    └── SpectronDecodeError               a 2xx answer that does not parse or validate

The first five names and the connection errors are the official SDK's; the others refine
``SpectronAPIError`` so ``except SpectronAPIError`` keeps catching everything it documents.
"""

from __future__ import annotations

import email.utils
import math
import re
from datetime import datetime, timezone
from typing import Any

__all__ = [
    "SpectronAPIError",
    "SpectronAuthError",
    "SpectronConflictError",
    "SpectronConnectionError",
    "SpectronDecodeError",
    "SpectronError",
    "SpectronNotFoundError",
    "SpectronRateLimitError",
    "SpectronScopeError",
    "SpectronServerError",
    "SpectronStreamError",
    "SpectronTimeoutError",
    "SpectronValidationError",
    "error_class_for_status",
    "parse_retry_after",
]


class SpectronError(Exception):
    """Base class of every error the Spectron client raises."""


class SpectronAPIError(SpectronError):
    """Spectron answered with a non-2xx status."""

    status_code: int
    message: str
    trace_id: str | None
    body: Any
    """The decoded body: the problem-details object, the legacy ``{"message": …}``, or the raw
    text when the body is not JSON (an HTML page, an empty or truncated body)."""
    operation: str | None
    """The catalogue name of the operation that failed (``remember``, ``documents.get``…)."""
    headers: dict[str, str]

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        trace_id: str | None = None,
        body: Any = None,
        operation: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.status_code = status_code
        self.message = message
        self.trace_id = trace_id
        self.body = body
        self.operation = operation
        self.headers = dict(headers or {})
        super().__init__(self._describe())

    def _describe(self) -> str:
        where = f"{self.operation}: " if self.operation else ""
        trace = f" (trace {self.trace_id})" if self.trace_id else ""
        return f"{where}HTTP {self.status_code}: {self.message}{trace}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code}, message={self.message!r})"


class SpectronValidationError(SpectronAPIError):
    """400 or 422: the server rejected the request as malformed."""


class SpectronAuthError(SpectronAPIError):
    """401: the API key is missing or invalid."""


class SpectronScopeError(SpectronAPIError):
    """403: a scope floor or the principal's grants reject the call."""


class SpectronNotFoundError(SpectronAPIError):
    """404: the context, session, document or other resource does not exist."""


class SpectronConflictError(SpectronAPIError):
    """409: the request conflicts with existing state (a duplicate name, a label cap…)."""


class SpectronRateLimitError(SpectronAPIError):
    """429: a rate or token budget is exceeded. Never retried by the client."""

    @property
    def retry_after(self) -> float | None:
        """Seconds to wait, from the ``Retry-After`` header (seconds or HTTP date), if given."""
        return parse_retry_after(self.headers.get("retry-after"))


class SpectronServerError(SpectronAPIError):
    """5xx: the server failed. Retried for reads and idempotent writes."""


class SpectronConnectionError(SpectronError):
    """The request did not complete: the connection failed, was reset or timed out."""


class SpectronTimeoutError(SpectronConnectionError):
    """A connect, read, write or pool timeout expired."""


class SpectronStreamError(SpectronConnectionError):
    """A streamed chat answer stopped before its ending, or sent a frame not understood.

    The endings are a ``data: [DONE]`` frame, an ``event: done`` frame and a ``"done": true``
    frame, as the official SDKs read them.
    """


class SpectronDecodeError(SpectronError):
    """A successful answer whose body does not parse or does not match the response model."""

    def __init__(self, message: str, *, operation: str, body: bytes) -> None:
        self.operation = operation
        self.body = body
        super().__init__(f"{operation}: {message}")


_BY_STATUS: dict[int, type[SpectronAPIError]] = {
    400: SpectronValidationError,
    401: SpectronAuthError,
    403: SpectronScopeError,
    404: SpectronNotFoundError,
    409: SpectronConflictError,
    422: SpectronValidationError,
    429: SpectronRateLimitError,
}


def error_class_for_status(status_code: int) -> type[SpectronAPIError]:
    """The exception class the client raises for a non-2xx status: the one status→error map."""
    if status_code in _BY_STATUS:
        return _BY_STATUS[status_code]
    if 500 <= status_code <= 599:
        return SpectronServerError
    return SpectronAPIError


_DELTA_SECONDS = re.compile(r"-?[0-9]{1,15}")
"""RFC 9110's delta-seconds (ASCII digits), with a sign: a negative delay is read as "now". More
than 15 digits (over 30 million years) is no hint, and never a slow conversion."""


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` value: delta-seconds or an HTTP date; None if absent or bad.

    As RFC 9110 has it: ASCII digits (``30``), or an HTTP date, around optional spaces or tabs.
    A negative delay or a date in the past means "now" (0.0); anything else (``1.5``, ``1e3``,
    ``1_0``, other scripts' digits such as ``٣٠``) means no hint (None). A date in another zone
    than GMT, or with ``-0000`` (no zone), is read as UTC.

    :param value: the header's value, or None when it is absent.
    :param now: the time to count from (UTC if it has no zone); the current time if None.
    :return: the seconds to wait, 0.0 or more, or None.
    """
    if value is None:
        return None
    text = value.strip(" \t")
    if _DELTA_SECONDS.fullmatch(text):
        return max(float(int(text)), 0.0)
    if not text.isascii():
        return None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    start = now or datetime.now(timezone.utc)
    seconds = (_utc(when) - _utc(start)).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(seconds, 0.0)


def _utc(moment: datetime) -> datetime:
    """An aware time: one without a zone (``-0000``, a naive ``now``) is taken as UTC."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment
