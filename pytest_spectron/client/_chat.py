"""Frames of a streamed chat answer, read as the official SDKs read them.

Spectron sends ``data:`` JSON frames; the stream is complete on the first of three endings, as the
official SDKs accept: a ``data: [DONE]`` frame, an ``event: done`` frame (whose JSON carries the
trace and session ids and the whole ``reply``), or a frame with ``"done": true``. A stream that
stops before any of them was cut (both official SDKs end quietly there; a reply cut short must not
pass for a whole one). A ``data:`` frame that is not JSON is text, read as the frame's delta, as
both official SDKs read it; a JSON frame that is no chat chunk (a list, a number) is an error.
"""

from __future__ import annotations

import json

import pydantic
from httpx_sse import ServerSentEvent

from pytest_spectron.client._catalogue import Operation
from pytest_spectron.client._exceptions import SpectronStreamError
from pytest_spectron.client.models import ResponseModel

__all__ = ["DONE", "DONE_EVENT", "ENDINGS", "ChatChunk", "ChatFrames"]

DONE = "[DONE]"
"""The data of the frame that ends a stream in the OpenAI style."""
DONE_EVENT = "done"
"""The ``event:`` name of the frame that ends a stream with the whole reply."""
ENDINGS = 'its [DONE], "event: done" or "done": true frame'
"""The endings a complete stream has, as error messages name them."""
_DELTA_NAMES = pydantic.AliasChoices("delta", "token")


class ChatChunk(ResponseModel):
    """One frame of a streamed chat answer."""

    delta: str = pydantic.Field(default="", validation_alias=_DELTA_NAMES)
    """The text added by this frame (sent as ``delta``, or as ``token`` as some servers do)."""
    done: bool = False
    """True on the last chunk, the one that completes the answer; exactly one chunk has it."""
    trace_id: str | None = pydantic.Field(default=None, alias="traceId")
    """The trace of the answer; the last chunk carries it when any frame did."""
    session_id: str | None = pydantic.Field(default=None, alias="sessionId")
    """The session of the answer; the last chunk carries it when any frame did."""
    reply: str | None = None
    """The whole answer, on the last chunk when the server sends it (an ``event: done`` does)."""


class ChatFrames:
    """Turns the events of one chat stream into chunks, and tells when the stream is complete."""

    def __init__(self, operation: Operation) -> None:
        self._operation = operation
        self._trace_id: str | None = None
        self._session_id: str | None = None
        self.completed = False
        """True once one of the stream's endings has arrived; later frames are not read."""

    def read(self, event: ServerSentEvent) -> ChatChunk | None:
        """The chunk ``event`` carries, or None for a frame without data (a keep-alive)."""
        if event.data == DONE:
            return self._last(ChatChunk())
        if not event.data:
            return self._last(ChatChunk()) if event.event == DONE_EVENT else None
        chunk = self._parse(event.data)
        self._trace_id = chunk.trace_id or self._trace_id
        self._session_id = chunk.session_id or self._session_id
        return self._last(chunk) if event.event == DONE_EVENT or chunk.done else chunk

    def _last(self, chunk: ChatChunk) -> ChatChunk:
        # The ending may carry no ids of its own (a bare [DONE]): it takes those seen before, so
        # the last chunk always tells which trace and session the answer belongs to.
        self.completed = True
        update = {"done": True, "trace_id": self._trace_id, "session_id": self._session_id}
        return chunk.model_copy(update=update)

    def _parse(self, data: str) -> ChatChunk:
        try:
            payload = json.loads(data)
        except ValueError:
            # Plain text is the frame's text, as both official SDKs read it.
            return ChatChunk(delta=data)
        try:
            return ChatChunk.model_validate(payload)
        except pydantic.ValidationError:
            shown = data if len(data) <= 120 else data[:119] + "…"
            raise SpectronStreamError(
                f"{self._operation.name}: the stream sent a frame that is not a chat chunk: "
                f"{shown!r}; a chunk is a JSON object such as "
                f'{{"delta": "…", "traceId": "…", "sessionId": "…"}}'
            ) from None
