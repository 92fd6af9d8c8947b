"""Frames of a streamed chat answer: Spectron sends ``data:`` JSON frames, then ``data: [DONE]``."""

from __future__ import annotations

import pydantic

from pytest_spectron.client._catalogue import Operation
from pytest_spectron.client._exceptions import SpectronStreamError
from pytest_spectron.client.models import ResponseModel

__all__ = ["DONE", "ChatChunk", "parse_chunk"]

DONE = "[DONE]"
"""The data of the frame that ends a stream; a stream that stops without it was cut."""


class ChatChunk(ResponseModel):
    """One frame of a streamed chat answer."""

    delta: str = ""
    """The text added by this frame."""
    done: bool = False
    """True on the frame that completes the answer (the ``[DONE]`` frame follows)."""
    trace_id: str | None = pydantic.Field(default=None, alias="traceId")
    session_id: str | None = pydantic.Field(default=None, alias="sessionId")


def parse_chunk(operation: Operation, data: str) -> ChatChunk:
    """The chunk one ``data:`` frame carries; a frame that is not a chunk ends the stream."""
    try:
        return ChatChunk.model_validate_json(data)
    except pydantic.ValidationError:
        shown = data if len(data) <= 120 else data[:119] + "…"
        raise SpectronStreamError(
            f"{operation.name}: the stream sent a frame that is not a chat chunk: {shown!r}"
        ) from None
