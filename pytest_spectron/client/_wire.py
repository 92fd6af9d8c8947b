"""How a call becomes an HTTP request, and how an answer becomes a result or a typed error.

Everything here is shared by the sync and async clients; only the sending differs between them.
"""

from __future__ import annotations

import functools
import hashlib
import json
import mimetypes
import os
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any, TypeVar

import httpx
import pydantic

from pytest_spectron.client import models as m
from pytest_spectron.client._catalogue import Operation, RetryClass
from pytest_spectron.client._exceptions import (
    SpectronAPIError,
    SpectronConnectionError,
    SpectronDecodeError,
    SpectronTimeoutError,
    error_class_for_status,
)
from pytest_spectron.client._options import ClientOptions

__all__ = [
    "IDEMPOTENCY_HEADER",
    "ON_BEHALF_OF_HEADER",
    "TRACE_ID_HEADER",
    "Call",
    "FileContent",
    "UploadSource",
    "api_error",
    "build_call",
    "connection_error",
    "decode_result",
    "idempotency_key",
    "request_body",
    "upload_metadata",
    "upload_part",
]

IDEMPOTENCY_HEADER = "Idempotency-Key"
ON_BEHALF_OF_HEADER = "X-Spectron-On-Behalf-Of"
TRACE_ID_HEADER = "x-trace-id"
IDEMPOTENCY_WINDOW_SECONDS = 30
"""The official SDKs' time bucket: the same call made within one window gets the same key."""

FileContent = bytes | IO[bytes]
UploadSource = str | os.PathLike[str] | bytes | IO[bytes]
"""What ``documents.upload`` takes: a path, the bytes themselves, or a binary file object."""
RequestModelT = TypeVar("RequestModelT", bound=m.RequestModel)


@dataclass(frozen=True)
class Call:
    """One logical call: the operation, its retry class and the request every attempt sends."""

    operation: Operation
    retry_class: RetryClass
    request: httpx.Request


def build_call(
    http: httpx.Client | httpx.AsyncClient,
    options: ClientOptions,
    operation: Operation,
    *,
    path: Mapping[str, str] | None = None,
    query: Mapping[str, object] | None = None,
    body: m.RequestModel | None = None,
    upload: tuple[str, FileContent, str | None] | None = None,
    on_behalf_of: str | None = None,
    idempotency_key: str | None = None,
    stream: bool = False,
) -> Call:
    """Build the request for one call; ``upload`` is (filename, content, MIME type)."""
    url = str(options.endpoint) + operation.expand(context_id=options.context, **(path or {}))
    headers = {"Authorization": f"Bearer {options.api_key}", "Accept": "application/json"}
    if on_behalf_of is not None:
        headers[ON_BEHALF_OF_HEADER] = _check_header_value("on_behalf_of", on_behalf_of)
    content: bytes | None = None
    files: list[tuple[str, tuple[str | None, Any, str]]] | None = None
    if operation.body == "multipart":
        metadata = _json_bytes(body.to_wire() if body is not None else {})
        assert upload is not None, f"{operation.name} needs a file to upload"
        filename, file_content, mime_type = upload
        # Spectron applies the metadata part only when it precedes the file part.
        files = [
            ("metadata", (None, metadata, "application/json")),
            ("file", (filename, file_content, mime_type or "application/octet-stream")),
        ]
    elif operation.body == "json":
        content = _json_bytes(body.to_wire() if body is not None else {})
        headers["Content-Type"] = "application/json"
    if operation.idempotent:
        key = idempotency_key or _derive_idempotency_key(operation, url, content or b"")
        headers[IDEMPOTENCY_HEADER] = _check_header_value("idempotency_key", key)
    timeout = options.timeout
    if stream:
        headers["Accept"] = "text/event-stream"
        # Tokens may be far apart: only the connection phases keep their limits.
        timeout = httpx.Timeout(
            connect=timeout.connect, read=None, write=timeout.write, pool=timeout.pool
        )
    request = http.build_request(
        operation.method,
        url,
        params=_query_params(query),
        headers=headers,
        content=content,
        files=files,
        timeout=timeout,
    )
    retry_class: RetryClass = "stream" if stream else operation.retry_class
    return Call(operation, retry_class, request)


def idempotency_key(method: str, url: str, body: bytes, *, now: float | None = None) -> str:
    """The official SDKs' key: sha256 over method, path, body and a 30-second time bucket."""
    bucket = int((time.time() if now is None else now) // IDEMPOTENCY_WINDOW_SECONDS)
    digest = hashlib.sha256()
    for part in (method.encode(), httpx.URL(url).raw_path, body, str(bucket).encode()):
        digest.update(part)
        digest.update(b"\n")
    return digest.hexdigest()


def _derive_idempotency_key(operation: Operation, url: str, body: bytes) -> str:
    return idempotency_key(operation.method, url, body)


def decode_result(call: Call, response: httpx.Response) -> Any:
    """The value a successful answer stands for, validated against the operation's response."""
    operation = call.operation
    if operation.response is None:
        return None
    if operation.response is bytes:
        return response.content
    try:
        data = json.loads(response.content)
    except ValueError as exc:
        raise SpectronDecodeError(
            f"HTTP {response.status_code} answer is not JSON ({exc}): "
            f"{_snippet(response.content)!r}",
            operation=operation.name,
            body=response.content,
        ) from None
    try:
        return _adapter(operation.response).validate_python(data)
    except pydantic.ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, error['loc'])) or '<body>'}: {error['msg']}"
            for error in exc.errors(include_url=False)
        )
        raise SpectronDecodeError(
            f"HTTP {response.status_code} answer does not match {_type_name(operation.response)}: "
            f"{problems}",
            operation=operation.name,
            body=response.content,
        ) from None


def api_error(call: Call, response: httpx.Response) -> SpectronAPIError:
    """The typed error for a non-2xx answer, whatever its body looks like."""
    body, message = _decode_problem(response)
    trace_id = response.headers.get(TRACE_ID_HEADER)
    if trace_id is None and isinstance(body, dict):
        found = body.get("traceId", body.get("trace_id"))
        trace_id = found if isinstance(found, str) else None
    return error_class_for_status(response.status_code)(
        message,
        status_code=response.status_code,
        trace_id=trace_id,
        body=body,
        operation=call.operation.name,
        headers=dict(response.headers),
    )


def connection_error(call: Call, error: httpx.RequestError) -> SpectronConnectionError:
    """The typed error for a request that got no answer; raise it ``from`` ``error``."""
    kind = SpectronTimeoutError if isinstance(error, httpx.TimeoutException) else None
    what = "timed out" if kind else "failed"
    detail = str(error) or type(error).__name__
    url = call.request.url.copy_with(query=None)
    return (kind or SpectronConnectionError)(
        f"{call.operation.name}: {call.request.method} {url} {what}: {detail}"
    )


def _decode_problem(response: httpx.Response) -> tuple[Any, str]:
    """(body, message) of an error answer: RFC 7807, legacy ``{"message"}``, or anything else."""
    raw = response.content
    fallback = f"{response.reason_phrase or 'error'}"
    if not raw.strip():
        return None, f"{fallback} (empty body)"
    try:
        body: Any = json.loads(raw)
    except ValueError:
        text = raw.decode("utf-8", errors="replace")
        title = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
        shown = title[1].strip() if title else _snippet(raw)
        return text, f"{fallback}: {shown}"
    if isinstance(body, dict):
        for field in ("detail", "title", "message", "error"):
            value = body.get(field)
            if isinstance(value, str) and value.strip():
                return body, value
    return body, f"{fallback}: {_snippet(raw)}"


def _snippet(raw: bytes, limit: int = 200) -> str:
    text = " ".join(raw.decode("utf-8", errors="replace").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _query_params(query: Mapping[str, object] | None) -> dict[str, str | int | float]:
    params: dict[str, str | int | float] = {}
    for name, value in (query or {}).items():
        if value is None:
            continue
        if isinstance(value, bool):
            params[name] = "true" if value else "false"
        elif isinstance(value, str | int | float):
            params[name] = value
        else:
            raise TypeError(f"query parameter {name!r} must be a str or number, got {value!r}")
    return params


def _check_header_value(argument: str, value: str) -> str:
    if not isinstance(value, str) or not value or any(c in value for c in "\r\n"):
        raise ValueError(f"{argument} must be a non-empty single-line string, got {value!r}")
    return value


def _json_bytes(data: object) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


@functools.cache
def _adapter(response_type: Any) -> pydantic.TypeAdapter[Any]:
    return pydantic.TypeAdapter(response_type)


def _type_name(response_type: Any) -> str:
    return getattr(response_type, "__name__", None) or str(response_type)


def request_body(model: type[RequestModelT], /, **fields: object) -> RequestModelT:
    """Validate a request body from a method's arguments (None means "not given")."""
    given = {name: value for name, value in fields.items() if value is not None}
    return model.model_validate(given)


def upload_part(
    file: UploadSource, *, filename: str | None, mime_type: str | None
) -> tuple[str, FileContent, str | None]:
    """(filename, content, MIME type) of the file part of an upload."""
    content: FileContent
    if isinstance(file, str | os.PathLike):
        path = os.fspath(file)
        with open(path, "rb") as handle:
            content = handle.read()
        filename = filename or os.path.basename(path)
    elif isinstance(file, bytes | bytearray | memoryview):
        content = bytes(file)
    elif hasattr(file, "read"):
        content = file
        name = getattr(file, "name", None)
        if filename is None and isinstance(name, str):
            filename = os.path.basename(name)
    else:
        raise TypeError(
            f"file must be a path, bytes or a binary file object, got {type(file).__name__}"
        )
    filename = filename or "upload"
    return filename, content, mime_type or mimetypes.guess_type(filename)[0]


def upload_metadata(
    upload: tuple[str, FileContent, str | None],
    title: str | None,
    source: str | None,
    labels: Sequence[str] | None,
    scopes: object,
    observed_at: str | None,
) -> m.UploadMetadata:
    """The metadata part of an upload; its MIME type is the file part's."""
    return request_body(
        m.UploadMetadata,
        title=title,
        mime_type=upload[2],
        source=source,
        labels=labels,
        scopes=scopes,
        observed_at=observed_at,
    )
