"""Streamed chat: chunks in order, complete on any official ending, else a typed stream error."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

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


# Streams as the official SDKs read them (surrealdb-memory's _streaming.py): text arrives as
# ``delta`` or ``token``, and the stream ends on ``data: [DONE]``, on an ``event: done`` frame
# carrying traceId, sessionId and the whole reply, or on a frame with ``"done": true``.
TOKENS = b'data: {"token": "Hel"}\n\ndata: {"token": "lo", "traceId": "t1", "sessionId": "s1"}\n\n'
DONE_EVENT = b'event: done\ndata: {"traceId": "t1", "sessionId": "s1", "reply": "Hello"}\n\n'
DONE_FLAG = b'data: {"done": true, "traceId": "t1", "sessionId": "s1"}\n\n'
DONE_DATA = b"data: [DONE]\n\n"
ENDINGS = {
    "[DONE] only": DONE_DATA,
    "event: done, then EOF": DONE_EVENT,
    '"done": true, then EOF': DONE_FLAG,
    "all three in sequence": DONE_EVENT + DONE_FLAG + DONE_DATA,
}


@pytest.mark.parametrize("ending", list(ENDINGS))
@pytest.mark.parametrize("flavour", list(COLLECTORS))
def test_each_official_ending_completes_the_stream(
    router: respx.MockRouter, flavour: str, ending: str
) -> None:
    """Every official ending gives one last chunk, ``done=True``, with the trace and session."""
    chunks = COLLECTORS[flavour](router, sse(TOKENS + ENDINGS[ending]))

    assert [chunk.done for chunk in chunks] == [False, False, True]
    assert (chunks[-1].trace_id, chunks[-1].session_id) == ("t1", "s1")


@pytest.mark.parametrize("flavour", list(COLLECTORS))
def test_token_frames_keep_their_text(router: respx.MockRouter, flavour: str) -> None:
    """A frame sending ``token`` instead of ``delta`` gives its text as the chunk's ``delta``."""
    chunks = COLLECTORS[flavour](router, sse(TOKENS + DONE_DATA))

    assert [chunk.delta for chunk in chunks] == ["Hel", "lo", ""]


@pytest.mark.parametrize("flavour", list(COLLECTORS))
def test_done_event_carries_the_whole_reply(router: respx.MockRouter, flavour: str) -> None:
    """The ``event: done`` frame's ``reply`` is the last chunk's ``.reply``."""
    chunks = COLLECTORS[flavour](router, sse(TOKENS + DONE_EVENT))

    assert [chunk.reply for chunk in chunks] == [None, None, "Hello"]


@pytest.mark.parametrize("flavour", list(COLLECTORS))
def test_bare_done_event_completes_the_stream(router: respx.MockRouter, flavour: str) -> None:
    """An ``event: done`` frame with no data still ends the stream, with the ids seen before."""
    chunks = COLLECTORS[flavour](router, sse(TOKENS + b"event: done\ndata:\n\n"))

    assert [(chunk.done, chunk.trace_id) for chunk in chunks][-1] == (True, "t1")


@pytest.mark.parametrize("flavour", list(COLLECTORS))
def test_frames_after_the_ending_are_not_read(router: respx.MockRouter, flavour: str) -> None:
    """Once the stream is complete, a frame that follows it (even garbage) is no error."""
    chunks = COLLECTORS[flavour](router, sse(TOKENS + DONE_FLAG + b"data: {not json\n\n"))

    assert chunks[-1].done


@pytest.mark.parametrize("flavour", list(COLLECTORS))
def test_stream_ending_without_any_ending_raises(router: respx.MockRouter, flavour: str) -> None:
    """A clean end of body before any of the three endings is a cut stream."""
    with pytest.raises(SpectronStreamError, match=r"ended before its \[DONE\], \"event: done\""):
        COLLECTORS[flavour](router, sse(TOKENS))


@pytest.mark.parametrize("flavour", list(COLLECTORS))
def test_json_frame_that_is_no_chunk_raises(router: respx.MockRouter, flavour: str) -> None:
    """A JSON frame that is not a chat chunk raises SpectronStreamError showing the frame."""
    with pytest.raises(SpectronStreamError, match=r"not a chat chunk: '\[1, 2\]'"):
        COLLECTORS[flavour](router, sse(b"data: [1, 2]\n\n"))


@pytest.mark.parametrize("flavour", list(COLLECTORS))
def test_plain_text_frame_is_text(router: respx.MockRouter, flavour: str) -> None:
    """A ``data:`` frame that is not JSON is the chunk's text, as both official SDKs read it.

    surrealdb_memory/_streaming.py: ``except json.JSONDecodeError: return
    ChatChunk(delta=payload)``; surrealdb.js streaming.ts: ``catch { payload = { delta: data }; }``.
    """
    chunks = COLLECTORS[flavour](router, sse(b"data: Hello {world\n\n" + DONE_DATA))

    assert [(chunk.delta, chunk.done) for chunk in chunks] == [("Hello {world", False), ("", True)]


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


def reuse_sync(router: respx.MockRouter, how: str) -> list[ChatChunk]:
    """Read a stream to its end (or close it unread), then iterate it again."""
    router.post("/api/v1/ctx/chat").mock(return_value=sse(b"".join(FRAMES)))
    with Spectron("ctx", ENDPOINT, "key") as client, client.chat("hi", stream=True) as stream:
        if how == "closed":
            stream.close()
        else:
            assert list(stream)
        return list(stream)


def reuse_async(router: respx.MockRouter, how: str) -> list[ChatChunk]:
    """The async twin of ``reuse_sync``."""
    router.post("/api/v1/ctx/chat").mock(return_value=sse(b"".join(FRAMES)))

    async def main() -> list[ChatChunk]:
        async with (
            AsyncSpectron("ctx", ENDPOINT, "key") as client,
            await client.chat("hi", stream=True) as stream,
        ):
            if how == "closed":
                await stream.aclose()
            else:
                assert [chunk async for chunk in stream]
            return [chunk async for chunk in stream]

    return asyncio.run(main())


@pytest.mark.parametrize("how", ["read", "closed"])
@pytest.mark.parametrize("reuse", [reuse_sync, reuse_async], ids=["sync", "async"])
def test_iterating_a_used_stream_again_raises_a_stream_error(
    router: respx.MockRouter, reuse: Callable[[respx.MockRouter, str], Any], how: str
) -> None:
    """A finished or closed stream raises SpectronStreamError, never httpx.StreamConsumed."""
    message = "already read" if how == "read" else "closed"
    with pytest.raises(SpectronStreamError, match=f"this chat stream is {message}"):
        reuse(router, how)
