"""The attempt journal: every request the service saw, what it answered, and the fault applied."""

from __future__ import annotations

import base64
import json
import threading
from collections import deque
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from pytest_spectron._shared._validators import check_int
from pytest_spectron.client._catalogue import RetryClass
from pytest_spectron.client._retry import RETRIED_CLASSES, is_retryable_status
from pytest_spectron.testing.http._exchange import (
    REDACTED_AUTHORIZATION,
    ServiceRequest,
    redact_headers,
)
from pytest_spectron.testing.http._multipart import MultipartError, parse_multipart

__all__ = [
    "JOURNAL_LIMIT",
    "REDACTED_AUTHORIZATION",
    "Attempt",
    "Journal",
    "describe_body",
    "redact_headers",
]

JOURNAL_LIMIT = 100_000
"""Attempts a journal keeps by default; the oldest go first."""


@dataclass(frozen=True)
class Attempt:
    """One attempt as the service saw it; the API key is never kept."""

    number: int
    """1-based, in the order attempts reached the service."""
    operation: str | None
    """The catalogue name, or None for a request no operation answers."""
    retry_class: RetryClass | None
    """The class the client's policy puts the call in (``stream`` for a streamed chat)."""
    method: str
    """The HTTP method, upper-case."""
    path: str
    """The path, still percent-encoded, without the endpoint's prefix or the query string."""
    query: tuple[tuple[str, str], ...]
    """The query string's ``(name, value)`` pairs, in order."""
    headers: httpx.Headers
    """Read by any case (``headers["Authorization"]``), as ``httpx.Headers``; listed in lower
    case; ``authorization`` redacted to ``Bearer ***``."""
    body: Any
    """Decoded JSON, text, bytes, a short description of a multipart upload, or None if empty."""
    idempotency_key: str | None
    """The ``Idempotency-Key`` header, or None when the request had none."""
    outcome: str
    """What the client saw: a status (``"503"``) or ``connect``, ``connect_timeout``,
    ``read_timeout``, ``reset``, ``stream_cut``."""
    status: int | None
    """The HTTP status sent, or None when no answer was (a network failure)."""
    fault: str | None
    """The fault applied, in words, or None when the fake answered untouched."""
    time: float
    """Virtual time when the attempt arrived."""
    notes: tuple[str, ...] = ()
    """What the fake noticed of the request and let pass, as Spectron would: ``unknown field
    'dry_run' ignored by Spectron``."""
    call: int = 1
    """1-based: the how-manieth call of its operation this attempt belongs to. A retry keeps the
    number of the call it repeats (see ``Journal.call_of``)."""

    def to_json(self) -> dict[str, Any]:
        """This attempt as a JSON-ready object, as ``GET /__spectron/journal`` lists it.

        :return: the fields by name; a binary body goes as base64, with
            ``"body_encoding": "base64"``.
        """
        data: dict[str, Any] = {
            "number": self.number,
            "operation": self.operation,
            "retry_class": self.retry_class,
            "method": self.method,
            "path": self.path,
            "query": [list(pair) for pair in self.query],
            "headers": dict(self.headers),
            "body": self.body,
            "idempotency_key": self.idempotency_key,
            "outcome": self.outcome,
            "status": self.status,
            "fault": self.fault,
            "time": self.time,
            "notes": list(self.notes),
            "call": self.call,
        }
        if isinstance(self.body, bytes):
            data["body"] = base64.b64encode(self.body).decode("ascii")
            data["body_encoding"] = "base64"
        return data


class Journal:
    """Every attempt, in order; safe to append to from many threads.

    ``limit`` bounds the attempts kept (``None``: all), so a long-running server's memory stays
    flat: past it, the oldest are dropped, and ``dropped`` (and the JSON form) says how many.
    Numbering never restarts, so a dropped attempt leaves a visible gap.

    :param limit: the most attempts kept, 1 or more; None keeps every one.
    :raises TypeError: ``limit`` is neither an int nor None.
    :raises ValueError: ``limit`` is below 1.
    """

    def __init__(self, *, limit: int | None = JOURNAL_LIMIT) -> None:
        if limit is not None:
            check_int("limit", limit, minimum=1)
        self.limit = limit
        self._attempts: deque[Attempt] = deque(maxlen=limit)
        self._recorded = 0
        self._calls: dict[str, int] = {}
        """The number of each operation's latest call."""
        self._latest: dict[Hashable, Attempt] = {}
        """The latest attempt of each distinct request, which the next one may retry."""
        self._lock = threading.Lock()

    @property
    def dropped(self) -> int:
        """How many of the oldest attempts were dropped to stay within ``limit``."""
        with self._lock:
            return self._recorded - len(self._attempts)

    def record(
        self,
        request: ServiceRequest,
        *,
        operation: str | None,
        retry_class: RetryClass | None,
        outcome: str,
        status: int | None,
        fault: str | None,
        time: float,
        notes: tuple[str, ...] = (),
        call: int | None = None,
    ) -> Attempt:
        """Append the next attempt, numbered in arrival order, its secrets redacted.

        :param request: the request as the service saw it.
        :param operation: the catalogue name, or None for a request no operation answers.
        :param retry_class: the retry class the client's policy puts the call in, or None.
        :param outcome: what the client saw: a status (``"503"``) or a network failure's kind.
        :param status: the HTTP status sent, or None when no answer was.
        :param fault: the fault applied, in words, or None.
        :param time: the virtual time the attempt arrived at.
        :param notes: what the fake noticed of the request and let pass.
        :param call: the call the attempt belongs to, as ``call_of`` gave it before the attempt
            was answered; None works it out now.
        :return: the attempt recorded.
        """
        with self._lock:
            if call is None:
                call = self._call_of(operation, retry_class, request)
            self._recorded += 1
            attempt = Attempt(
                number=self._recorded,
                operation=operation,
                retry_class=retry_class,
                method=request.method.upper(),
                path=request.path,
                query=tuple(request.query),
                headers=httpx.Headers(redact_headers(request.headers)),
                body=describe_body(request.headers, request.body),
                idempotency_key=request.header("idempotency-key"),
                outcome=outcome,
                status=status,
                fault=fault,
                time=time,
                notes=tuple(notes),
                call=call,
            )
            self._attempts.append(attempt)
            if operation is not None:
                self._latest[_request_key(operation, retry_class, request)] = attempt
                self._calls[operation] = max(call, self._calls.get(operation, 0))
            return attempt

    def call_of(
        self, operation: str | None, retry_class: RetryClass | None, request: ServiceRequest
    ) -> int:
        """The call of ``operation`` an attempt of ``request`` arriving now belongs to, 1-based.

        It is a retry, and keeps the number of the call it repeats, when the client's policy
        retries its class and the latest attempt of the same request (operation, retry class,
        method, path, query, body, idempotency key) failed in a way the policy retries (5xx, a
        network failure, a timeout). Otherwise it is the operation's next call. Calls made side
        by side (gathered tasks, threads) keep their own numbers, whatever order their retries
        arrive in.

        :param operation: the catalogue name, or None for a request no operation answers.
        :param retry_class: the retry class the client's policy puts the call in, or None.
        :param request: the request, as the service saw it.
        :return: the call's number: 1 for the operation's first call, and for a request no
            operation answers.
        """
        with self._lock:
            return self._call_of(operation, retry_class, request)

    def _call_of(
        self, operation: str | None, retry_class: RetryClass | None, request: ServiceRequest
    ) -> int:
        if operation is None:
            return 1
        previous = self._latest.get(_request_key(operation, retry_class, request))
        if previous is not None and retry_class in RETRIED_CLASSES and _retryable(previous):
            return previous.call
        return self._calls.get(operation, 0) + 1

    def attempts(self, operation: str | None = None) -> list[Attempt]:
        """Every attempt kept so far, or only those of one operation, in order.

        :param operation: a catalogue name (not checked: an unknown one matches nothing), or
            None for all.
        :return: a new list.
        """
        with self._lock:
            if operation is None:
                return list(self._attempts)
            return [attempt for attempt in self._attempts if attempt.operation == operation]

    def clear(self) -> None:
        """Forget every attempt; numbering starts again at 1."""
        with self._lock:
            self._attempts.clear()
            self._calls.clear()
            self._latest.clear()
            self._recorded = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._attempts)

    def ledger(self, attempts: Sequence[Attempt] | None = None) -> str:
        """A readable table of the attempts: number, operation, request, outcome, fault, time, key.

        :param attempts: the attempts to show; None for every one kept.
        :return: the table, or ``(no attempts)``.
        """
        rows = self.attempts() if attempts is None else list(attempts)
        if not rows:
            return "(no attempts)"
        table = [
            ("#", "operation", "request", "outcome", "fault", "t (s)", "idempotency key"),
            *(
                (
                    str(attempt.number),
                    attempt.operation or "(unroutable)",
                    _shorten(f"{attempt.method} {attempt.path}{_query(attempt.query)}", 60),
                    attempt.outcome,
                    _shorten(attempt.fault or "-", 48),
                    f"{attempt.time:.2f}",
                    _short_key(attempt.idempotency_key),
                )
                for attempt in rows
            ),
        ]
        widths = [max(len(row[column]) for row in table) for column in range(len(table[0]))]
        lines = [
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            for row in table
        ]
        # An attempt's notes go on lines of their own under it, so the table keeps its width.
        indent = " " * (widths[0] + 2)
        for index in reversed(range(len(rows))):
            lines[index + 2 : index + 2] = [f"{indent}note: {note}" for note in rows[index].notes]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        """The journal as a JSON-ready object, as ``GET /__spectron/journal`` answers it.

        :return: ``{"attempts": [...], "dropped": n, "limit": n}``.
        """
        return {
            "attempts": [attempt.to_json() for attempt in self.attempts()],
            "dropped": self.dropped,
            "limit": self.limit,
        }

    def __repr__(self) -> str:
        return f"<Journal attempts={len(self)}>"


def _request_key(
    operation: str, retry_class: RetryClass | None, request: ServiceRequest
) -> Hashable:
    """What makes two attempts the same request, and so a retry one of the other."""
    return (
        operation,
        retry_class,
        request.method.upper(),
        request.path,
        tuple(request.query),
        request.header("idempotency-key"),
        request.body,
    )


def _retryable(attempt: Attempt) -> bool:
    """Whether the client's policy retries an attempt that ended so (its class permitting)."""
    if attempt.status is None:
        return attempt.outcome != "stream_cut"
    return attempt.outcome != "stream_cut" and is_retryable_status(attempt.status)


def describe_body(headers: Mapping[str, str], body: bytes) -> Any:
    """A request body for the journal: JSON decoded, text as text, multipart described."""
    if not body:
        return None
    content_type = next(
        (value for name, value in headers.items() if name.lower() == "content-type"), ""
    ).lower()
    if content_type.startswith("multipart/"):
        return _describe_multipart(content_type, body)
    if "json" in content_type:
        try:
            return json.loads(body)
        except ValueError:
            pass
    if content_type.startswith("text/") or "json" in content_type or "form" in content_type:
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            pass
    return body


def _describe_multipart(content_type: str, body: bytes) -> str:
    try:
        parts = parse_multipart(content_type, body)
    except MultipartError as error:
        return f"<multipart, {len(body)} bytes, malformed: {error}>"
    described = []
    for part in parts:
        label = part.name + ("" if part.filename is None else f" {part.filename!r}")
        kind = part.content_type or "text/plain"
        described.append(f"{label} ({kind}, {len(part.content)} bytes)")
    return f"<multipart: {', '.join(described)}>"


def _query(query: tuple[tuple[str, str], ...]) -> str:
    return "?" + "&".join(f"{name}={value}" for name, value in query) if query else ""


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _short_key(key: str | None) -> str:
    if key is None:
        return "-"
    return key if len(key) <= 12 else key[:8] + "…"
