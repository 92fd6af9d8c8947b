"""The bad-input inventory: every row of docs/bad-input.md, tried for real.

Each row is an input a user or a server can give, and the typed error the user then sees; the
documentation table lists the same rows (a test below keeps the two in step).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import pydantic
import pytest
import respx

from pytest_spectron import (
    Spectron,
    SpectronAPIError,
    SpectronDecodeError,
    SpectronServerError,
    SpectronStreamError,
    SpectronValidationError,
)
from pytest_spectron.client._exceptions import parse_retry_after

ENDPOINT = "https://spectron.test"
INVENTORY = Path(__file__).resolve().parents[1] / "docs" / "bad-input.md"


@dataclass(frozen=True)
class Row:
    """One bad input: what to do, the error expected, and a fragment of its message."""

    act: Callable[[respx.MockRouter], Any]
    error: type[BaseException]
    message: str


def client(**options: Any) -> Spectron:
    arguments = {"context": "ctx", "endpoint": ENDPOINT, "api_key": "key"} | options
    return Spectron(**arguments)


def state_answer(response: httpx.Response) -> Callable[[respx.MockRouter], Any]:
    """Call ``state`` once against a server that answers ``response``."""

    def act(router: respx.MockRouter) -> Any:
        router.get("/api/v1/ctx/state").mock(return_value=response)
        return client(max_retries=0).state()

    return act


def chat_stream(body: bytes | httpx.SyncByteStream) -> Callable[[respx.MockRouter], Any]:
    """Read a streamed chat whose server sends ``body``."""

    def act(router: respx.MockRouter) -> Any:
        headers = {"content-type": "text/event-stream"}
        if isinstance(body, bytes):
            router.post("/api/v1/ctx/chat").respond(200, headers=headers, content=body)
        else:
            router.post("/api/v1/ctx/chat").respond(200, headers=headers, stream=body)
        return list(client().chat("hi", stream=True))

    return act


class FallsSilent(httpx.SyncByteStream):
    """A stream body that sends one frame, then times out as a server gone silent does."""

    def __iter__(self) -> Iterator[bytes]:
        yield b'data: {"delta": "Hel"}\n\n'
        raise httpx.ReadTimeout("timed out")


def read_stream_twice(router: respx.MockRouter) -> Any:
    """Read a whole streamed chat, then iterate it again."""
    headers = {"content-type": "text/event-stream"}
    router.post("/api/v1/ctx/chat").respond(200, headers=headers, content=b"data: [DONE]\n\n")
    stream = client().chat("hi", stream=True)
    list(stream)
    return list(stream)


# A ``type: ignore`` below marks a row whose bad input is the wrong type: what a caller without
# a type checker can pass, and the client must still refuse clearly.
ROWS: dict[str, Row] = {
    "client-empty-key": Row(lambda _: client(api_key=""), ValueError, "api_key must be"),
    "client-bad-endpoint": Row(lambda _: client(endpoint="spectron"), ValueError, "absolute"),
    "client-negative-timeout": Row(
        lambda _: client(timeout=-1), ValueError, "finite number of seconds, above 0"
    ),
    "client-negative-retries": Row(lambda _: client(max_retries=-1), ValueError, "max_retries"),
    "client-retries-wrong-type": Row(
        lambda _: client(max_retries="3"), TypeError, "max_retries must be an int"
    ),
    "client-field-fails-model": Row(
        lambda _: client().recall("x", k=-1), pydantic.ValidationError, "greater than or equal"
    ),
    "client-bad-scope-selector": Row(
        lambda _: client().remember("x", scopes=[[["deep"]]]),  # type: ignore[list-item]
        ValueError,
        "scope selector",
    ),
    "client-upload-not-a-file": Row(
        lambda _: client().documents.upload(42),  # type: ignore[arg-type]
        TypeError,
        "path, bytes or a binary file",
    ),
    "client-dot-segment-id": Row(
        lambda _: client().documents.get(".."), ValueError, "document_id must not be '..'"
    ),
    "client-id-wrong-type": Row(
        lambda _: client().documents.get(None),  # type: ignore[arg-type]
        TypeError,
        "document_id must be a str",
    ),
    "client-overlong-context": Row(
        lambda _: client(context="c" * 100_000), ValueError, "at most 1,024"
    ),
    "client-header-not-ascii": Row(
        lambda _: client(api_key="sk-clé"), ValueError, "api_key contains a non-ASCII character"
    ),
    "client-http-client-flavour": Row(
        lambda _: client(http_client=httpx.AsyncClient()), TypeError, "must be an httpx.Client"
    ),
    "client-stream-read-twice": Row(read_stream_twice, SpectronStreamError, "already read"),
    "reply-html-page": Row(
        state_answer(httpx.Response(502, html="<title>502 Bad Gateway</title>")),
        SpectronServerError,
        "502 Bad Gateway",
    ),
    "reply-empty-body": Row(state_answer(httpx.Response(503)), SpectronServerError, "empty body"),
    "reply-truncated-json": Row(
        state_answer(httpx.Response(500, content=b'{"detail": "tru')),
        SpectronServerError,
        '{"detail": "tru',
    ),
    "reply-json-wrong-shape": Row(
        state_answer(httpx.Response(400, json=["not", "an", "object"])),
        SpectronValidationError,
        "not",
    ),
    "reply-2xx-missing-fields": Row(
        state_answer(httpx.Response(200, json={"identity": {}})),
        SpectronDecodeError,
        "knowledge",
    ),
    "reply-2xx-wrong-content-type": Row(
        state_answer(httpx.Response(200, text="all good")), SpectronDecodeError, "not JSON"
    ),
    "reply-huge-body": Row(
        state_answer(httpx.Response(500, content=b"x" * 5_000_000)),
        SpectronServerError,
        "…",
    ),
    "reply-invalid-utf8": Row(
        state_answer(httpx.Response(502, content=b"\xff\xfe\xfd bad")),
        SpectronServerError,
        "bad",
    ),
    "reply-redirect-loop": Row(
        state_answer(httpx.Response(302, headers={"location": "/api/v1/ctx/state"})),
        SpectronAPIError,
        "redirected 20 times without an answer",
    ),
    "reply-sse-garbage-frame": Row(
        chat_stream(b"data: [1, 2]\n\n"), SpectronStreamError, "not a chat chunk"
    ),
    "reply-sse-cut-mid-frame": Row(
        chat_stream(b'data: {"delta": "Hel'), SpectronStreamError, "before its [DONE]"
    ),
    "reply-sse-silent": Row(
        chat_stream(FallsSilent()), SpectronStreamError, "fell silent for more than 30 s"
    ),
}

RETRY_AFTER = {
    "reply-retry-after-negative": ("-5", 0.0),
    "reply-retry-after-date": ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
    "reply-retry-after-garbage": ("soon", None),
    "reply-retry-after-not-digits": ("\u0663\u0660", None),
    "reply-retry-after-date-no-zone": ("Wed, 21 Oct 2015 07:28:00 -0000", 0.0),
}


@pytest.fixture
def router() -> Any:
    with respx.mock(base_url=ENDPOINT, assert_all_called=False) as mock:
        yield mock


@pytest.mark.parametrize("row_id", list(ROWS))
def test_bad_input_gives_a_typed_error(router: respx.MockRouter, row_id: str) -> None:
    """The input raises the documented error, with a message that says what went wrong."""
    row = ROWS[row_id]
    with pytest.raises(row.error) as caught:
        row.act(router)
    assert row.message in str(caught.value)
    if isinstance(caught.value, SpectronAPIError):
        assert len(caught.value.message) < 300  # readable, however big the body


def test_huge_error_body_is_kept_whole(router: respx.MockRouter) -> None:
    """The message is short, but nothing is lost: the whole body stays on the error."""
    with pytest.raises(SpectronServerError) as caught:
        ROWS["reply-huge-body"].act(router)
    assert caught.value.body == "x" * 5_000_000


@pytest.mark.parametrize("row_id", list(RETRY_AFTER))
def test_bad_retry_after_is_read_safely(row_id: str) -> None:
    """A negative, past or garbage Retry-After never breaks: 0.0 or None seconds."""
    value, seconds = RETRY_AFTER[row_id]
    assert parse_retry_after(value) == seconds


def test_inventory_documents_every_row() -> None:
    """docs/bad-input.md lists exactly the rows tested here (plus the plugin's own rows)."""
    documented = set(
        re.findall(r"^\| `((?:client|reply)-[a-z0-9-]+)` \|", INVENTORY.read_text(), re.M)
    )
    assert documented == set(ROWS) | set(RETRY_AFTER)


@pytest.mark.parametrize(
    "value",
    [
        *("\u0663\u0660", "1_0", " 1e3 ", "1.5", "+5", "0x1e", "\u00b2", "30s", "9" * 5000),
        # Only spaces and tabs surround a header value (RFC 9110's OWS), no other whitespace.
        *("\x0b30", "30\n", "\xa030", "X30", "30X"),
    ],
)
def test_retry_after_is_ascii_digits_or_a_date(value: str) -> None:
    """RFC 9110: delta-seconds are ASCII digits; anything else that is not a date is no hint."""
    assert parse_retry_after(value) is None


def test_retry_after_digits_around_spaces_are_read() -> None:
    """Optional whitespace around the digits is allowed, as around any header value."""
    assert parse_retry_after(" \t30 ") == 30.0


def test_a_retry_after_date_without_a_zone_is_utc() -> None:
    """``-0000`` (no zone) and a naive ``now`` are both taken as UTC, never a TypeError."""
    naive_now = datetime(2015, 10, 21, 7, 27, 30)
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 -0000", now=naive_now) == 30.0
    aware_now = naive_now.replace(tzinfo=timezone.utc)
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=aware_now) == 30.0


def test_a_retry_after_date_is_read_against_the_true_instant_of_now() -> None:
    """An aware ``now`` in another zone is the instant it names, not its wall clock as UTC."""
    paris_now = datetime(2015, 10, 21, 9, 27, 30, tzinfo=timezone(timedelta(hours=2)))
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=paris_now) == 30.0


def test_a_retry_after_date_is_read_against_utc_whatever_the_machines_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without ``now``, the delay is counted from the current UTC time, not local wall time."""
    in_an_hour = datetime.now(timezone.utc) + timedelta(hours=1)
    header = format_datetime(in_an_hour, usegmt=True)
    monkeypatch.setenv("TZ", "Asia/Tokyo")  # nine hours ahead of UTC, no summer time
    time.tzset()
    try:
        delay = parse_retry_after(header)
    finally:
        monkeypatch.undo()
        time.tzset()
    assert delay is not None
    assert 3500 < delay <= 3600
