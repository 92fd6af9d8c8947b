"""What passes between a transport (in-process or socket) and the service behind it.

A transport turns whatever it received into a ``ServiceRequest``, hands it to the service, and
renders what comes back: a ``ServiceResponse`` as an HTTP answer, a ``NetworkFailure`` as the
network misbehaving (an httpx exception in-process, real socket behaviour on the loopback server).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

__all__ = [
    "NETWORK_FAILURE_KINDS",
    "REDACTED_AUTHORIZATION",
    "NetworkFailure",
    "NetworkFailureKind",
    "Service",
    "ServiceRequest",
    "ServiceResponse",
    "redact_headers",
    "strip_prefix",
]

NetworkFailureKind = Literal["connect", "connect_timeout", "read_timeout", "reset"]
NETWORK_FAILURE_KINDS: tuple[NetworkFailureKind, ...] = (
    "connect",
    "connect_timeout",
    "read_timeout",
    "reset",
)

REDACTED_AUTHORIZATION = "Bearer ***"
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization"})


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Lower-case header names, with credentials replaced by ``Bearer ***``."""
    return {
        name.lower(): (REDACTED_AUTHORIZATION if name.lower() in _SECRET_HEADERS else value)
        for name, value in headers.items()
    }


def strip_prefix(path: str, prefix: str) -> str:
    """``path`` without the endpoint's path ``prefix``; a path outside it is left whole."""
    if prefix and (path == prefix or path.startswith(prefix + "/")):
        return path[len(prefix) :] or "/"
    return path


@dataclass(frozen=True)
class ServiceRequest:
    """One HTTP request as the service sees it, whichever way it arrived."""

    method: str
    path: str
    """The raw (still percent-encoded) path, without the query string."""
    query: tuple[tuple[str, str], ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    """Header names in lower case."""
    body: bytes = b""
    timeout: float | None = None
    """Seconds the client will wait for the answer, where the transport knows it (in-process)."""

    def header(self, name: str) -> str | None:
        """The value of a header, by case-insensitive name."""
        return self.headers.get(name.lower())

    def __repr__(self) -> str:
        # Tracebacks (--showlocals, --tb=long) print reprs of locals: never the credentials.
        return (
            f"ServiceRequest(method={self.method!r}, path={self.path!r}, query={self.query!r}, "
            f"headers={redact_headers(self.headers)!r}, body=<{len(self.body)} bytes>, "
            f"timeout={self.timeout!r})"
        )


@dataclass(frozen=True)
class ServiceResponse:
    """An HTTP answer; an SSE answer carries its frames in ``events`` instead of ``body``."""

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    events: tuple[bytes, ...] | None = None
    """Complete SSE frames (``b"data: …\\n\\n"``), sent one by one."""
    cut_after: int | None = None
    """Drop the connection after this many frames, before the stream's end."""


@dataclass(frozen=True)
class NetworkFailure:
    """No HTTP answer: the connection is refused, times out or is reset."""

    kind: NetworkFailureKind
    detail: str = ""


class Service(Protocol):
    """Anything a transport can serve: the fake behind its fault engine and journal."""

    def dispatch(self, request: ServiceRequest) -> ServiceResponse | NetworkFailure:
        """Answer one attempt."""
        ...
