"""A handler's answer rendered for the wire, and the kind of audit row its call leaves."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pydantic

from pytest_spectron.client._base import ResponseModel
from pytest_spectron.client._catalogue import Operation
from pytest_spectron.client._wire import compact_json
from pytest_spectron.testing.fake._call import Answer
from pytest_spectron.testing.http._exchange import ServiceResponse
from pytest_spectron.testing.http._problems import TRACE_ID_HEADER

__all__ = ["audit_kind", "render_answer"]

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


def render_answer(operation: Operation, answer: Answer, trace_id: str) -> ServiceResponse:
    """A handler's answer as sent: raw bytes, an event stream, or JSON its model accepts.

    Every answer carries the trace id.

    :raises AssertionError: the fake built an answer its own response models reject (a bug).
    """
    trace = (TRACE_ID_HEADER, trace_id)
    if answer.events is not None:
        frames = tuple(f"data: {payload}\n\n".encode() for payload in answer.events)
        stream = (("content-type", answer.content_type), ("cache-control", "no-cache"), trace)
        return ServiceResponse(answer.status, stream, events=frames)
    if answer.raw is not None:
        raw = (("content-type", answer.content_type), trace)
        return ServiceResponse(answer.status, raw, answer.raw)
    if answer.model is None:
        return ServiceResponse(answer.status, (trace,))
    data = _dump(answer.model)
    if operation.response is not None:
        try:
            operation.adapter.validate_python(data)
        except pydantic.ValidationError as error:  # pragma: no cover - a bug in the fake
            raise AssertionError(
                f"the fake built a {operation.name} answer its own models reject: {error}"
            ) from error
    body = compact_json(data)
    return ServiceResponse(answer.status, (("content-type", "application/json"), trace), body)


def _dump(model: ResponseModel | Iterable[ResponseModel]) -> Any:
    if isinstance(model, ResponseModel):
        return model.model_dump(mode="json", by_alias=True, exclude_none=True)
    return [item.model_dump(mode="json", by_alias=True, exclude_none=True) for item in model]
