"""Streamed chat: chunks in order, ``[DONE]`` ends it, anything else is a typed stream error."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import respx

from pytest_spectron.client import (
    AsyncSpectron,
    ChatChunk,
    Spectron,
    SpectronAuthError,
    SpectronStreamError,
)

ENDPOINT = "https://spectron.test"
FRAMES = [
    b'data: {"delta": "Hello", "traceId": "t1", "sessionId": "s1"}\n\n',
    b'data: {"delta": ", world", "done": true, "traceId": "t1", "sessionId": "s1"}\n\n',
    b"data: [DONE]\n\n",
]


class CutStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body that sends some frames, then the connection drops."""

    def __init__(self, frames: list[bytes]) -> None:
        self.frames = frames

    def __iter__(self) -> Iterator[bytes]:
        yield from self.frames
        raise httpx.RemoteProtocolError("peer closed connection without sending complete body")

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for frame in self.frames:
            yield frame
        raise httpx.RemoteProtocolError("peer closed connection without sending complete body")


def sse(content: bytes | httpx.SyncByteStream) -> httpx.Response:
    headers = {"content-type": "text/event-stream"}
    if isinstance(content, bytes):
        return httpx.Response(200, headers=headers, content=content)
    return httpx.Response(200, headers=headers, stream=content)


def collect_sync(router: respx.MockRouter, response: httpx.Response) -> list[ChatChunk]:
    router.post("/api/v1/ctx/chat").mock(return_value=response)
    with Spectron("ctx", ENDPOINT, "key") as client, client.chat("hi", stream=True) as stream:
        return list(stream)


def collect_async(router: respx.MockRouter, response: httpx.Response) -> list[ChatChunk]:
    router.post("/api/v1/ctx/chat").mock(return_value=response)

    async def main() -> list[ChatChunk]:
        async with (
            AsyncSpectron("ctx", ENDPOINT, "key") as client,
            await client.chat("hi", stream=True) as stream,
        ):
            return [chunk async for chunk in stream]

    return asyncio.run(main())


COLLECTORS = {"sync": collect_sync, "async": collect_async}


@pytest.mark.parametrize("flavour", list(COLLECTORS))
def test_chunks_arrive_in_order(router: respx.MockRouter, flavour: str) -> None:
    """Each ``data:`` frame is one chunk with its delta, done flag, trace and session ids."""
    chunks = COLLECTORS[flavour](router, sse(b"".join(FRAMES)))

    assert "".join(chunk.delta for chunk in chunks) == "Hello, world"
    assert [chunk.done for chunk in chunks] == [False, True]
    assert {(chunk.trace_id, chunk.session_id) for chunk in chunks} == {("t1", "s1")}


@pytest.mark.parametrize("flavour", list(COLLECTORS))
def test_stream_request_asks_for_events(router: respx.MockRouter, flavour: str) -> None:
    """The request body says ``stream: true`` and accepts ``text/event-stream``."""
    COLLECTORS[flavour](router, sse(b"".join(FRAMES)))
    request = router.calls.last.request
    assert request.headers["accept"] == "text/event-stream"
    assert b'"stream":true' in request.content


@pytest.mark.parametrize("flavour", list(COLLECTORS))
def test_stream_cut_mid_way_raises_a_stream_error(router: respx.MockRouter, flavour: str) -> None:
    """A connection dropped after the first frame raises SpectronStreamError, once."""
    with pytest.raises(SpectronStreamError, match="cut before"):
        COLLECTORS[flavour](router, sse(CutStream(FRAMES[:1])))
    assert router.calls.call_count == 1


@pytest.mark.parametrize("flavour", list(COLLECTORS))
def test_stream_ending_without_done_raises(router: respx.MockRouter, flavour: str) -> None:
    """A clean end of body before ``[DONE]`` is still a cut stream."""
    with pytest.raises(SpectronStreamError, match=r"before its \[DONE\]"):
        COLLECTORS[flavour](router, sse(b"".join(FRAMES[:2])))


@pytest.mark.parametrize("flavour", list(COLLECTORS))
def test_garbage_frame_raises(router: respx.MockRouter, flavour: str) -> None:
    """A frame that is not a chat chunk raises SpectronStreamError showing the frame."""
    with pytest.raises(SpectronStreamError, match="not a chat chunk"):
        COLLECTORS[flavour](router, sse(b"data: {not json\n\n"))


@pytest.mark.parametrize("flavour", list(COLLECTORS))
def test_non_event_stream_answer_raises(router: respx.MockRouter, flavour: str) -> None:
    """A JSON answer where events were asked for is a stream error, not a silent empty stream."""
    response = httpx.Response(200, json={"reply": "hi"})
    with pytest.raises(SpectronStreamError, match="text/event-stream"):
        COLLECTORS[flavour](router, response)


@pytest.mark.parametrize("flavour", list(COLLECTORS))
def test_stream_error_status_raises_before_iteration(
    router: respx.MockRouter, flavour: str
) -> None:
    """An error status is raised by the call itself, like any other call."""
    with pytest.raises(SpectronAuthError):
        COLLECTORS[flavour](router, httpx.Response(401, json={"detail": "bad key"}))
