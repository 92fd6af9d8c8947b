"""A streamed chat answer, read chunk by chunk as the server sends it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any

import httpx
from httpx_sse import EventSource

from pytest_spectron.client._chat import ENDINGS, ChatChunk, ChatFrames
from pytest_spectron.client._exceptions import SpectronStreamError
from pytest_spectron.client._wire import Call

__all__ = ["AsyncChatStream"]


class AsyncChatStream:
    """The chunks of a streamed chat answer: ``async for chunk in stream``; close it when done.

    The stream is complete on its ``[DONE]``, ``event: done`` or ``"done": true`` frame, as the
    official SDKs read it; the chunk made of that frame is the last, with ``done=True``. The
    request is sent once and never replayed, so a stream can be iterated once. A stream that
    stops before its ending, falls silent for longer than the read timeout, or sends a frame
    that is not a chat chunk raises ``SpectronStreamError``.
    """

    def __init__(self, call: Call[Any], response: httpx.Response) -> None:
        self._call = call
        self._response = response
        self._frames = ChatFrames(call.operation)
        self._iterated = False
        self._closed = False

    @property
    def completed(self) -> bool:
        """True once the stream's ending has arrived."""
        return self._frames.completed

    def __aiter__(self) -> AsyncIterator[ChatChunk]:
        name = self._call.operation.name
        if self._iterated:
            raise SpectronStreamError(
                f"{name}: this chat stream is already read, and a stream can be iterated once: "
                f"keep the chunks you need from the first pass, or call chat() again"
            )
        if self._closed:
            raise SpectronStreamError(
                f"{name}: this chat stream is closed, so it has no chunks to give: iterate it "
                f"before closing it, or call chat() again"
            )
        self._iterated = True
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[ChatChunk]:
        name = self._call.operation.name
        try:
            async for event in EventSource(self._response).aiter_sse():
                chunk = self._frames.read(event)
                if chunk is not None:
                    yield chunk
                if self.completed:
                    # What follows the ending (another ending, as some servers send) is not read.
                    return
        except httpx.ReadTimeout as exc:
            read = self._call.request.extensions["timeout"]["read"]
            raise SpectronStreamError(
                f"{name}: the stream fell silent for more than {read:g} s (the read timeout) "
                f"before {ENDINGS}: raise timeout= if the server may pause longer between chunks"
            ) from exc
        except httpx.RequestError as exc:
            raise SpectronStreamError(
                f"{name}: the stream was cut before {ENDINGS}: {str(exc) or type(exc).__name__}"
            ) from exc
        finally:
            await self._response.aclose()
        raise SpectronStreamError(
            f"{name}: the stream ended before {ENDINGS}, so the answer is incomplete: the "
            f"server or a proxy closed it mid-answer; call chat() again"
        )

    async def aclose(self) -> None:
        """Stop reading and release the connection."""
        self._closed = True
        await self._response.aclose()

    async def __aenter__(self) -> AsyncChatStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
