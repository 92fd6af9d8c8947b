"""requests and aiohttp themselves, in-process as over a real socket: what they raise and read.

The official SDK's differential (``test_official_sdk_in_process_vs_socket``) sees these libraries
through the SDK's own error handling. Here the application calls them directly: a stream read
line by line up to a cut, a read timeout (aiohttp's ``sock_read`` and its total timeout), a
reset, and a multipart upload, each once in-process and once over the mock's loopback server.
Both runs must raise the same exception class after the same lines, and deliver the same bytes.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
import requests

from pytest_spectron import SpectronMock

TIMEOUT = 0.5
"""The read timeout where a fault holds the connection (the socket run waits for it)."""
CHAT_PATH = "/api/v1/ctx/chat"
STATE_PATH = "/api/v1/ctx/state"
BOUNDARY = "spectron-differential-boundary"
UPLOAD = (
    (
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="metadata"\r\nContent-Type: application/json\r\n\r\n'
        '{"title": "bytes"}\r\n'
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="file"; filename="x.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    + bytes(range(256))
    + f"\r\n--{BOUNDARY}--\r\n".encode()
)
HEADERS = {"Authorization": "Bearer sk-test"}


@dataclass(frozen=True)
class Seen:
    """What the application read before its call ended, and how it ended."""

    lines: tuple[str, ...]
    error: str | None
    outcomes: tuple[str, ...]


def _chat_lines_requests(base: str) -> tuple[list[str], BaseException | None]:
    lines: list[str] = []
    body: dict[str, Any] = {"message": "tea?", "stream": True}
    try:
        with requests.post(
            base + CHAT_PATH, json=body, headers=HEADERS, stream=True, timeout=TIMEOUT
        ) as response:
            for line in response.iter_lines():
                lines.append(line.decode())
    except requests.RequestException as error:
        return lines, error
    return lines, None


async def _chat_lines_aiohttp(
    base: str, timeout: aiohttp.ClientTimeout
) -> tuple[list[str], BaseException | None]:
    lines: list[str] = []
    body = {"message": "tea?", "stream": True}
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.post(base + CHAT_PATH, json=body, headers=HEADERS) as response,
        ):
            async for line in response.content:
                lines.append(line.decode().rstrip("\r\n"))
    # asyncio.TimeoutError: on Python 3.10 not yet the builtin TimeoutError.
    except (aiohttp.ClientError, asyncio.TimeoutError) as error:
        return lines, error
    return lines, None


def chat(fault: str | None, library: str, timeout_kind: str, *, over_socket: bool) -> Seen:
    """A streamed chat read line by line with ``library``, under ``fault``."""
    with SpectronMock() as mock:
        mock.fake.add_fact("ctx", "Alice prefers tea")
        if fault is not None:
            mock.fail("chat", fault, times=1)
        base = mock.serve(client_timeout=TIMEOUT).url if over_socket else mock.endpoint
        error: BaseException | None
        if library == "requests":
            lines, error = _chat_lines_requests(base)
        else:
            timeout = (
                aiohttp.ClientTimeout(sock_read=TIMEOUT)
                if timeout_kind == "sock_read"
                else aiohttp.ClientTimeout(total=TIMEOUT)
            )
            lines, error = asyncio.run(_chat_lines_aiohttp(base, timeout))
        return Seen(
            lines=tuple(lines),
            error=None if error is None else type(error).__name__,
            outcomes=tuple(attempt.outcome for attempt in mock.attempts("chat")),
        )


CASES = [
    ("requests", "total"),
    ("aiohttp", "total"),
    ("aiohttp", "sock_read"),
]


@pytest.mark.parametrize(("library", "timeout_kind"), CASES)
@pytest.mark.parametrize("fault", [None, "stream_cut:2", "read_timeout", "reset", "503"])
def test_library_reads_and_raises_the_same_in_process_and_over_a_socket(
    fault: str | None, library: str, timeout_kind: str
) -> None:
    """The same lines before the same exception class (or none), both ways."""
    in_process = chat(fault, library, timeout_kind, over_socket=False)
    over_socket = chat(fault, library, timeout_kind, over_socket=True)

    assert in_process == over_socket


def test_a_stream_cut_ends_the_lines_with_the_librarys_error() -> None:
    """The cut is seen where it happens: lines before it, then the library's own exception."""
    cut_requests = chat("stream_cut:2", "requests", "total", over_socket=False)
    cut_aiohttp = chat("stream_cut:2", "aiohttp", "total", over_socket=False)
    whole = chat(None, "requests", "total", over_socket=False)

    assert cut_requests.error == "ChunkedEncodingError"
    assert cut_aiohttp.error == "ClientPayloadError"
    assert cut_requests.lines == cut_aiohttp.lines == whole.lines[: len(cut_requests.lines)]
    assert 0 < len(cut_requests.lines) < len(whole.lines)


def upload_body(library: str, *, over_socket: bool) -> Any:
    """The body the service received for a fixed-boundary multipart upload."""
    content_type = f"multipart/form-data; boundary={BOUNDARY}"
    with SpectronMock() as mock:
        base = mock.serve().url if over_socket else mock.endpoint
        url = base + "/api/v1/ctx/documents"
        headers = {**HEADERS, "Content-Type": content_type}
        if library == "requests":
            requests.post(url, data=UPLOAD, headers=headers, timeout=30).raise_for_status()
        else:

            async def main() -> None:
                async with (
                    aiohttp.ClientSession() as session,
                    session.post(url, data=UPLOAD, headers=headers) as response,
                ):
                    response.raise_for_status()

            asyncio.run(main())
        (stored,) = mock.fake.documents("ctx")
        return mock.attempts("documents.upload")[0].body, stored.content


@pytest.mark.parametrize("library", ["requests", "aiohttp"])
def test_a_multipart_upload_arrives_byte_for_byte(library: str) -> None:
    """The service gets the very bytes sent, in-process as over a socket; the file inside too."""
    in_process = upload_body(library, over_socket=False)
    over_socket = upload_body(library, over_socket=True)

    assert in_process == over_socket
    assert in_process[1] == bytes(range(256))
