"""What passes between a transport (in-process or socket) and the service behind it.

A transport turns whatever it received into a ``ServiceRequest``, hands it to the service, and
renders what comes back: a ``ServiceResponse`` as an HTTP answer, a ``NetworkFailure`` as the
network misbehaving (an httpx exception in-process, real socket behaviour on the loopback server).

A streamed answer goes frame by frame: the fake's frames are all known up front (``events``), an
upstream Spectron's arrive while they are relayed (``relayed``); ``ServiceResponse.frames()``
reads both alike, and raises ``BrokenStream`` where the stream stops before its end.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

__all__ = [
    "BODILESS_STATUSES",
    "NETWORK_FAILURE_KINDS",
    "REDACTED_AUTHORIZATION",
    "UNKNOWN_FIELD_NOTE",
    "BrokenStream",
    "NetworkFailure",
    "NetworkFailureKind",
    "RelayedFrames",
    "Service",
    "ServiceRequest",
    "ServiceResponse",
    "redact_headers",
    "strip_prefix",
    "unknown_field_note",
]

NetworkFailureKind = Literal["connect", "connect_timeout", "read_timeout", "reset"]
NETWORK_FAILURE_KINDS: tuple[NetworkFailureKind, ...] = (
    "connect",
    "connect_timeout",
    "read_timeout",
    "reset",
)

BODILESS_STATUSES = frozenset({204, 304})
"""Statuses whose answers carry no body, by HTTP's rules (as every 1xx)."""
REDACTED_AUTHORIZATION = "Bearer ***"
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization"})


UNKNOWN_FIELD_NOTE = "unknown field"
"""How a note about a request field Spectron's document does not name starts."""


def unknown_field_note(name: str) -> str:
    """The note an attempt carries for a request field Spectron ignores, by its dotted name."""
    return f"{UNKNOWN_FIELD_NOTE} {name!r} ignored by Spectron"


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Lower-case header names, with credentials replaced by ``Bearer ***``."""
    return {
        name.lower(): (REDACTED_AUTHORIZATION if name.lower() in _SECRET_HEADERS else value)
        for name, value in headers.items()
    }


def strip_prefix(path: str, prefix: str) -> tuple[str, str | None]:
    """``path`` without the endpoint's path ``prefix``, and the prefix if ``path`` is outside it.

    :return: the path to route, and None; or, for a path outside the prefix, the path whole and
        the prefix (the service answers it 404, as a gateway would).
    """
    if not prefix or path == prefix or path.startswith(prefix + "/"):
        return path[len(prefix) :] or "/", None
    return path, prefix


@dataclass(frozen=True)
class ServiceRequest:
    """One HTTP request as the service sees it, whichever way it arrived.

    A fault's ``when=`` predicate receives it: ``when=lambda request: request.header("x-tenant")
    == "a"`` fails only that tenant's requests.
    """

    method: str
    """The HTTP method, as sent (``GET``)."""
    path: str
    """The raw (still percent-encoded) path, without the query string."""
    query: tuple[tuple[str, str], ...] = ()
    """The query string's ``(name, value)`` pairs, in order."""
    headers: Mapping[str, str] = field(default_factory=dict)
    """Header names in lower case (``header(name)`` reads any case)."""
    body: bytes = b""
    """The body, as sent (``b""`` for none)."""
    timeout: float | None = None
    """Seconds the client will wait for the answer, where the transport knows it (in-process)."""
    connect_timeout: float | None = None
    """Seconds the client will wait to connect, where the transport knows it (in-process)."""
    waits_forever: bool = False
    """The client has no read timeout (built with ``timeout=None``): it waits for the answer
    forever, so a silent server hangs it. Known in-process only."""
    outside_prefix: str | None = None
    """The path prefix the service is mounted under, when ``path`` is not under it."""

    def header(self, name: str) -> str | None:
        """The value of a header, by case-insensitive name.

        :param name: the header's name, in any case (``"Idempotency-Key"``).
        :return: its value, or None when the request has no such header.
        """
        return self.headers.get(name.lower())

    def __repr__(self) -> str:
        # Tracebacks (--showlocals, --tb=long) print reprs of locals: never the credentials.
        return (
            f"ServiceRequest(method={self.method!r}, path={self.path!r}, query={self.query!r}, "
            f"headers={redact_headers(self.headers)!r}, body=<{len(self.body)} bytes>, "
            f"timeout={self.timeout!r}, connect_timeout={self.connect_timeout!r}, "
            f"waits_forever={self.waits_forever!r})"
        )


class BrokenStream(Exception):
    """A streamed answer stops before its end: the connection must drop, with no clean end."""


class RelayedFrames:
    """Frames that arrive while they are sent (an upstream's event stream), read once.

    ``frames`` raises ``BrokenStream`` if the source fails midway; ``close`` releases the
    source (the upstream connection) and is called once the answer is sent, or abandoned.
    """

    def __init__(self, frames: Iterator[bytes], close: Callable[[], None]) -> None:
        self._frames = frames
        self._ahead: deque[bytes] = deque()
        self._broken: BrokenStream | None = None
        self._close = close

    def read_ahead(self, count: int) -> int:
        """Read until ``count`` frames wait to be sent or the stream ends; how many wait."""
        while len(self._ahead) < count and self._broken is None:
            try:
                frame = next(self._frames, None)
            except BrokenStream as error:
                self._broken = error  # raised when the frames before it have been sent
                break
            if frame is None:
                break
            self._ahead.append(frame)
        return len(self._ahead)

    def __iter__(self) -> Iterator[bytes]:
        while self._ahead:
            yield self._ahead.popleft()
        if self._broken is not None:
            raise self._broken
        yield from self._frames

    def close(self) -> None:
        """Release the source; safe to call twice."""
        self._close()


@dataclass(frozen=True)
class ServiceResponse:
    """An HTTP answer; a streamed answer carries its frames in ``events`` or ``relayed``."""

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    events: tuple[bytes, ...] | None = None
    """Complete SSE frames (``b"data: …\\n\\n"``), sent one by one."""
    cut_after: int | None = None
    """Drop the connection after this many frames, before the stream's end."""
    relayed: RelayedFrames | None = None
    """Frames relayed as they arrive from an upstream Spectron, instead of ``events``."""
    notes: tuple[str, ...] = ()
    """What the backend noticed of the request and let pass, for the journal (never sent):
    ``unknown field 'dry_run' ignored by Spectron``."""

    @property
    def streams(self) -> bool:
        """Whether the body goes frame by frame (``events`` or ``relayed``) rather than whole."""
        return self.events is not None or self.relayed is not None

    def frames(self) -> Iterator[bytes]:
        """The frames to send, each as soon as it is known.

        :raises BrokenStream: after ``cut_after`` frames, or where a relayed stream failed.
        """
        source = self.relayed if self.relayed is not None else self.events or ()
        yield from itertools.islice(source, self.cut_after)
        if self.cut_after is not None:
            raise BrokenStream(f"cut after {self.cut_after} frame(s)")

    def frames_ahead(self, count: int) -> int:
        """How many frames the stream has, counted up to ``count`` (a relayed one reads ahead)."""
        if self.relayed is not None:
            return self.relayed.read_ahead(count)
        return min(len(self.events or ()), count)

    def close(self) -> None:
        """Release what a relayed stream comes from; nothing to do for any other answer."""
        if self.relayed is not None:
            self.relayed.close()


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
