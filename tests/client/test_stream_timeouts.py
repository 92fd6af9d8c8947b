"""Streamed chat timeouts over a real loopback socket: silence fails, a flowing stream never does.

These are the only client tests that wait for real: each wait is the client's own read timeout
(0.2 s), or a stream that keeps flowing for 0.4 s.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import pytest

from pytest_spectron.client import (
    AsyncSpectron,
    ChatChunk,
    Spectron,
    SpectronStreamError,
    SpectronTimeoutError,
)

READ_TIMEOUT = 0.2
DEADLINE = 3.0
"""Seconds after which the server hangs up, so a client that never times out fails, not hangs."""
HEADERS = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n"
FRAME = b'data: {"delta": "tick"}\n\n'
DONE = b"data: [DONE]\n\n"

Script = Sequence[tuple[float, bytes]]
"""What the server sends: (seconds to wait first, bytes) pairs, then silence until it hangs up."""


@contextmanager
def scripted_server(script: Script) -> Iterator[str]:
    """A loopback server answering one connection with ``script``; yields its URL."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(DEADLINE)
    hang_up = threading.Event()

    def serve() -> None:
        try:
            connection, _ = listener.accept()
        except OSError:
            return
        with connection:
            for pause, data in script:
                if hang_up.wait(pause):
                    return
                connection.sendall(data)
            hang_up.wait(DEADLINE)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        hang_up.set()
        thread.join(DEADLINE)
        listener.close()


def read_sync(url: str, timeout: float) -> list[ChatChunk]:
    with (
        Spectron("ctx", url, "key", timeout=timeout) as client,
        client.chat("hi", stream=True) as stream,
    ):
        return list(stream)


def read_async(url: str, timeout: float) -> list[ChatChunk]:
    async def main() -> list[ChatChunk]:
        async with (
            AsyncSpectron("ctx", url, "key", timeout=timeout) as client,
            await client.chat("hi", stream=True) as stream,
        ):
            return [chunk async for chunk in stream]

    return asyncio.run(main())


READERS = {"sync": read_sync, "async": read_async}


@pytest.mark.parametrize("flavour", list(READERS))
def test_stream_without_headers_times_out(flavour: str) -> None:
    """A server that accepts and never answers: SpectronTimeoutError after the read timeout."""
    started = time.monotonic()
    with scripted_server([]) as url, pytest.raises(SpectronTimeoutError, match="timed out"):
        READERS[flavour](url, READ_TIMEOUT)
    assert time.monotonic() - started < DEADLINE / 2


@pytest.mark.parametrize("flavour", list(READERS))
def test_stream_falling_silent_raises_a_stream_error(flavour: str) -> None:
    """Headers and one frame, then silence past the read timeout: a SpectronStreamError says so."""
    started = time.monotonic()
    with (
        scripted_server([(0, HEADERS + FRAME)]) as url,
        pytest.raises(SpectronStreamError, match=r"silent for more than 0\.2 s"),
    ):
        READERS[flavour](url, READ_TIMEOUT)
    assert time.monotonic() - started < DEADLINE / 2


@pytest.mark.parametrize("flavour", list(READERS))
def test_flowing_stream_outlasting_the_read_timeout_is_not_cut(flavour: str) -> None:
    """Frames every 0.05 s for 0.4 s in all, with a 0.15 s read timeout: every frame arrives."""
    script = [(0, HEADERS), *[(0.05, FRAME)] * 8, (0.05, DONE)]
    with scripted_server(script) as url:
        chunks = READERS[flavour](url, 0.15)
    assert [chunk.delta for chunk in chunks] == ["tick"] * 8 + [""]  # [DONE] is the last chunk
