"""How a call becomes an HTTP request, and how an answer becomes a result or a typed error.

Everything here is shared by the sync and async clients; only the sending differs between them.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import os
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any, Final, Generic, TypeVar

import httpx
import pydantic

from pytest_spectron._shared._version import __version__
from pytest_spectron.client import models as m
from pytest_spectron.client._catalogue import Operation, ResponseT, RetryClass
from pytest_spectron.client._exceptions import (
    SpectronAPIError,
    SpectronConnectionError,
    SpectronDecodeError,
    SpectronTimeoutError,
    error_class_for_status,
)
from pytest_spectron.client._options import (
    MAX_URL_LENGTH,
    ClientOptions,
    Secret,
    check_header_value,
    check_id,
)

__all__ = [
    "IDEMPOTENCY_HEADER",
    "MAX_REDIRECTS",
    "ON_BEHALF_OF_HEADER",
    "TRACE_ID_HEADER",
    "USER_AGENT",
    "Call",
    "CallBuilder",
    "FileContent",
    "UploadSource",
    "api_error",
    "api_error_after_redirects",
    "argument_name",
    "compact_json",
    "connection_error",
    "decode_result",
    "request_body",
    "upload_metadata",
    "upload_part",
]

IDEMPOTENCY_HEADER: Final = "Idempotency-Key"
"""Carries the key that makes a retried ``remember`` / ``remember_many`` safe to replay."""
ON_BEHALF_OF_HEADER: Final = "X-Spectron-On-Behalf-Of"
"""Names the principal a call acts for (``on_behalf_of=``)."""
TRACE_ID_HEADER: Final = "x-trace-id"
"""Spectron's answers carry their trace id in this header; errors take it from there."""
USER_AGENT: Final = f"pytest-spectron/{__version__} python-httpx/{httpx.__version__}"
"""What every request says it comes from; an ``http_client``'s own User-Agent goes first."""
_HTTPX_USER_AGENT: Final = f"python-httpx/{httpx.__version__}"
MAX_REDIRECTS: Final = 20
"""Redirects followed per attempt, as httpx does by default (requests: 30); then the 3xx is
an error."""
IDEMPOTENCY_WINDOW_SECONDS = 30
"""The official SDKs' time bucket: the same call made within one window gets the same key."""

FileContent = bytes | IO[bytes]
UploadSource = str | os.PathLike[str] | bytes | IO[bytes]
"""What ``documents.upload`` takes: a path, the bytes themselves, or a binary file object."""
RequestModelT = TypeVar("RequestModelT", bound=m.RequestModel)
_ARGUMENTS_BY_PARAMETER = {"id": "document_id"}
_CONTEXT_ONLY = ("context_id",)
"""Path parameters whose client argument has another name than the document's."""


@dataclass(frozen=True)
class Call(Generic[ResponseT]):
    """One logical call: the operation, its retry class and the request every attempt sends."""

    operation: Operation[ResponseT]
    retry_class: RetryClass
    request: httpx.Request


class CallBuilder:
    """Builds one client's calls; what every call shares is worked out once, here.

    The base URL, each URL without ids (one per operation) and the default headers (the key,
    the User-Agent) are made when the client is; a call adds only what is its own.
    """

    def __init__(self, http: httpx.Client | httpx.AsyncClient, options: ClientOptions) -> None:
        self._http = http
        self._options = options
        self._base_url = options.base_url
        self._urls: dict[str, httpx.URL] = {}
        """The URL of each operation without path parameters, by name, made on its first call."""
        self._headers = {
            "Authorization": Secret(f"Bearer {options.api_key}"),
            "User-Agent": _user_agent(http),
        }

    def build(
        self,
        operation: Operation[ResponseT],
        *,
        path: Mapping[str, str] | None = None,
        query: Mapping[str, object] | None = None,
        body: m.RequestModel | None = None,
        upload: tuple[str, FileContent, str | None] | None = None,
        on_behalf_of: str | None = None,
        idempotency_key: str | None = None,
        stream: bool = False,
    ) -> Call[ResponseT]:
        """Build the request for one call; ``upload`` is (filename, content, MIME type).

        Every argument is checked before the request is built, and the key is only ever held
        wrapped in ``Secret``, so no frame of a failing call shows it (pytest ``--showlocals``).
        """
        api_path = _api_path(operation, self._options.context, path)
        content, files = _payload(operation, body, upload)
        headers = self._call_headers(operation, stream=stream, on_behalf_of=on_behalf_of)
        if operation.idempotent:
            headers[IDEMPOTENCY_HEADER] = _idempotency_header(
                operation, api_path, content, idempotency_key
            )
        request = self._request(operation, api_path, query, headers, content, files)
        return Call(operation, "stream" if stream else operation.retry_class, request)

    def _url(self, operation: Operation, api_path: str) -> httpx.URL:
        """The request URL without its query, parsed once per operation that has no ids."""
        if operation.path_parameters not in ((), _CONTEXT_ONLY):
            return httpx.URL(self._base_url + api_path)  # ids differ from call to call
        url = self._urls.get(operation.name)
        if url is None:
            url = self._urls[operation.name] = httpx.URL(self._base_url + api_path)
        return url

    def _call_headers(
        self, operation: Operation, *, stream: bool, on_behalf_of: str | None
    ) -> dict[str, str]:
        """The headers every attempt of the call sends, but the idempotency key."""
        headers = {
            **self._headers,
            "Accept": "text/event-stream" if stream else "application/json",
        }
        if on_behalf_of is not None:
            headers[ON_BEHALF_OF_HEADER] = check_header_value(
                "on_behalf_of", on_behalf_of, header=ON_BEHALF_OF_HEADER
            )
        if operation.body == "json":
            headers["Content-Type"] = "application/json"
        return headers

    def _request(
        self,
        operation: Operation,
        api_path: str,
        query: Mapping[str, object] | None,
        headers: dict[str, str],
        content: bytes | None,
        files: list[tuple[str, tuple[str | None, Any, str]]] | None,
    ) -> httpx.Request:
        try:
            # The read timeout holds for streams too: httpx applies it to each read, so it
            # bounds the wait for the headers and every silence between chunks, never a
            # flowing stream.
            return self._http.build_request(
                operation.method,
                self._url(operation, api_path),
                params=_query_params(query),
                headers=headers,
                content=content,
                files=files,
                timeout=self._options.timeout,
            )
        except httpx.InvalidURL as exc:
            raise ValueError(
                f"{operation.name}: the request URL would be too long to send ({exc}); httpx "
                f"takes at most {MAX_URL_LENGTH:,} characters: shorten the arguments sent in "
                "the query"
            ) from None


def _api_path(operation: Operation, context: str, path: Mapping[str, str] | None) -> str:
    """The operation's path for ``context``, each id checked, then percent-encoded."""
    segments = {
        parameter: check_id(argument_name(parameter), value)
        for parameter, value in (path or {}).items()
    }
    return operation.expand(context_id=context, **segments)


def _payload(
    operation: Operation,
    body: m.RequestModel | None,
    upload: tuple[str, FileContent, str | None] | None,
) -> tuple[bytes | None, list[tuple[str, tuple[str | None, Any, str]]] | None]:
    """(content, files) of the request: the JSON body, or the parts of a multipart upload."""
    if operation.body == "none":
        return None, None
    wire = compact_json(body.to_wire() if body is not None else {})
    if operation.body == "json":
        return wire, None
    assert upload is not None, f"{operation.name} needs a file to upload"
    filename, file_content, mime_type = upload
    # Spectron applies the metadata part only when it precedes the file part.
    return None, [
        ("metadata", (None, wire, "application/json")),
        ("file", (filename, file_content, mime_type or "application/octet-stream")),
    ]


def _idempotency_header(
    operation: Operation, api_path: str, content: bytes | None, given: str | None
) -> str:
    """The call's Idempotency-Key: the one given, checked, or the one derived from the call."""
    if given is None:
        return _idempotency_key(operation.method, api_path, content or b"")
    return check_header_value("idempotency_key", given, header=IDEMPOTENCY_HEADER)


def argument_name(parameter: str) -> str:
    """The client method's argument that fills path parameter ``parameter``."""
    return _ARGUMENTS_BY_PARAMETER.get(parameter, parameter)


def _idempotency_key(method: str, api_path: str, body: bytes) -> str:
    """The key both official SDKs derive: ``sha256(METHOD \\0 api_path \\0 body \\0 bucket)``, hex.

    ``api_path`` is the operation's path with its ids percent-encoded (``/api/v1/ctx/facts``):
    no endpoint prefix, no query. ``body`` is the exact bytes sent, and ``bucket`` the number of
    whole 30-second windows since the epoch, so the same call made again within a window gets
    the same key.
    """
    bucket = int(time.time() // IDEMPOTENCY_WINDOW_SECONDS)
    parts = (method.encode("ascii"), api_path.encode(), body, str(bucket).encode("ascii"))
    return hashlib.sha256(b"\0".join(parts)).hexdigest()


def _user_agent(http: httpx.Client | httpx.AsyncClient) -> str:
    # Set on every request, so a client the application passes in still names us; a User-Agent
    # of its own (not httpx's default) goes first, so the server's logs see both products.
    theirs = http.headers.get("User-Agent")
    return USER_AGENT if theirs in (None, "", _HTTPX_USER_AGENT) else f"{theirs} {USER_AGENT}"


def decode_result(call: Call[ResponseT], response: httpx.Response) -> ResponseT:
    """The value a successful answer stands for, validated against the operation's response."""
    operation = call.operation
    if operation.response is None or operation.response is bytes:
        # No JSON to parse: nothing at all (a 204), or the document's bytes as they came.
        return operation.adapter.validate_python(
            None if operation.response is None else response.content
        )
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
        return operation.adapter.validate_python(data)
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


def api_error_after_redirects(call: Call, response: httpx.Response) -> SpectronAPIError:
    """The typed error for a non-2xx answer; a 3xx still redirecting says it went round."""
    error = api_error(call, response)
    location = response.headers.get("location")
    if not response.is_redirect or location is None:
        return error
    return type(error)(
        f"redirected {MAX_REDIRECTS} times without an answer, the last time to {location!r}: "
        "fix the endpoint, or the redirect loop of the server or gateway",
        status_code=error.status_code,
        trace_id=error.trace_id,
        body=error.body,
        operation=error.operation,
        headers=error.headers,
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


def _query_params(query: Mapping[str, object] | None) -> dict[str, str | int | float] | None:
    """The query parameters given a value; None for none, so httpx keeps the URL as parsed."""
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
    return params or None


def compact_json(data: object) -> bytes:
    """``data`` as the JSON bytes sent on the wire: UTF-8, no spaces, no ASCII escapes."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


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
