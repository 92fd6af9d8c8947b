"""A handler's answer rendered for the wire, and the kind of audit row its call leaves."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Final, Literal, get_args

import pydantic

from pytest_spectron.client._base import ResponseModel
from pytest_spectron.client._catalogue import Operation
from pytest_spectron.client._chat import DONE, DONE_EVENT
from pytest_spectron.client._wire import compact_json
from pytest_spectron.testing.fake._call import Answer, StreamedReply
from pytest_spectron.testing.http._exchange import ServiceResponse
from pytest_spectron.testing.http._problems import TRACE_ID_HEADER

__all__ = [
    "DEFAULT_STREAM_FORMAT",
    "STREAM_FORMATS",
    "StreamFormat",
    "audit_kind",
    "check_stream_format",
    "render_answer",
    "stream_frames",
]

StreamFormat = Literal["spectron", "token", "done_flag"]
STREAM_FORMATS: Final[tuple[StreamFormat, ...]] = get_args(StreamFormat)
"""How a streamed chat is framed: Spectron's own way, and two ways other servers use."""
DEFAULT_STREAM_FORMAT: Final[StreamFormat] = "spectron"

_RETRIEVALS = frozenset(
    {
        "recall",
        "query_context",
        "reflect",
        "documents.query",
        "documents.search_keywords",
        "sessions.context",
    }
)


def audit_kind(operation: Operation) -> str:
    """The audit row kind a call of ``operation`` leaves: response, retrieval or decision."""
    if operation.name == "chat":
        return "response"
    if operation.method == "GET" or operation.name in _RETRIEVALS:
        return "retrieval"
    return "decision"


def check_stream_format(value: object) -> StreamFormat:
    """``value`` if it names a stream format; a ``ValueError`` naming the formats if not."""
    for known in STREAM_FORMATS:
        if value == known:
            return known
    raise ValueError(
        f"stream_format must be one of {', '.join(map(repr, STREAM_FORMATS))}, got {value!r}"
    )


def stream_frames(reply: StreamedReply, stream_format: StreamFormat) -> tuple[bytes, ...]:
    """The server-sent events of a streamed reply, framed in ``stream_format``.

    ``spectron`` (the real service's): ``{"delta", "done": false, "traceId", "sessionId"}``
    frames, then an ``event: done`` frame carrying ``traceId``, ``sessionId`` and the whole
    ``reply`` and no delta, then ``data: [DONE]``. ``token``: ``{"token", "traceId",
    "sessionId"}`` frames, then ``data: [DONE]``. ``done_flag``: the ``delta`` frames with the
    last one marked ``"done": true`` (it carries the last piece of text), then ``data: [DONE]``.
    """
    ids = {"traceId": reply.trace_id, "sessionId": reply.session_id}
    last = len(reply.deltas) - 1
    payloads: list[dict[str, str | bool]]
    if stream_format == "token":
        payloads = [{"token": delta, **ids} for delta in reply.deltas]
    else:
        flagged = stream_format == "done_flag"
        payloads = [
            {"delta": delta, "done": flagged and index == last, **ids}
            for index, delta in enumerate(reply.deltas)
        ]
    frames = [f"data: {json.dumps(payload)}\n\n" for payload in payloads]
    if stream_format == "spectron":
        ending = json.dumps({**ids, "reply": reply.reply})
        frames.append(f"event: {DONE_EVENT}\ndata: {ending}\n\n")
    frames.append(f"data: {DONE}\n\n")
    return tuple(frame.encode() for frame in frames)


def render_answer(
    operation: Operation,
    answer: Answer,
    trace_id: str,
    stream_format: StreamFormat = DEFAULT_STREAM_FORMAT,
) -> ServiceResponse:
    """A handler's answer as sent: raw bytes, an event stream, or JSON its model accepts.

    Every answer carries the trace id; a stream is framed in ``stream_format``.

    :raises AssertionError: the fake built an answer its own response models reject (a bug).
    """
    trace = (TRACE_ID_HEADER, trace_id)
    if answer.stream is not None:
        frames = stream_frames(answer.stream, stream_format)
        stream = (("content-type", answer.content_type), ("cache-control", "no-cache"), trace)
        return ServiceResponse(answer.status, stream, events=frames)
    if answer.raw is not None:
        raw = (("content-type", answer.content_type), trace)
        return ServiceResponse(answer.status, raw, answer.raw)
    if answer.model is None:
        return ServiceResponse(answer.status, (trace,))
    model = answer.model
    if isinstance(model, ResponseModel) and type(model) is operation.response:
        # Validated when the handler built it, and its dump is what its class accepts: no
        # required field of a response model is nullable, so dropping the Nones drops nothing
        # required (tests/fake/test_fake_render.py). pydantic writes the bytes itself.
        body = model.model_dump_json(by_alias=True, exclude_none=True).encode()
    else:
        # A list, or a model of another class: checked against the operation's response.
        data = _dump(model)
        if operation.response is not None:
            try:
                operation.adapter.validate_python(data)
            except pydantic.ValidationError as error:  # a bug in the fake
                raise AssertionError(
                    f"the fake built a {operation.name} answer its own models reject: {error}"
                ) from error
        body = compact_json(data)
    return ServiceResponse(answer.status, (("content-type", "application/json"), trace), body)


def _dump(model: ResponseModel | Iterable[ResponseModel]) -> Any:
    if isinstance(model, ResponseModel):
        return model.model_dump(mode="json", by_alias=True, exclude_none=True)
    return [item.model_dump(mode="json", by_alias=True, exclude_none=True) for item in model]
