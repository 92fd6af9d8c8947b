"""What the fake reads from a request before a handler runs: the context id, the on-behalf-of
headers, the query, the body (JSON or a multipart upload) and the scopes the request names."""

from __future__ import annotations

import re
from collections.abc import Iterable

import pydantic

from pytest_spectron.client._base import RequestModel
from pytest_spectron.client._catalogue import Operation
from pytest_spectron.testing.fake._auth import DELEGATION_HEADERS, OPERATION_GRANTS, Caller
from pytest_spectron.testing.fake._call import Problem
from pytest_spectron.testing.fake._scoping import covers, paths_of
from pytest_spectron.testing.http._exchange import ServiceRequest
from pytest_spectron.testing.http._multipart import MultipartError, Part, parse_multipart

__all__ = [
    "CONTEXT_ID_PATTERN",
    "check_context_id",
    "check_scopes",
    "delegated_principal",
    "first_values",
    "parse_body",
]

CONTEXT_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
"""What the fake takes for a context id; any other gets the document's 422 "Invalid context id".

The document gives no pattern, only examples and SDK samples such as ``acme-prod``: a URL-safe
name. So: 1 to 128 ASCII letters, digits, ``.``, ``_`` or ``-``, starting with a letter or digit.
"""

_PATH_IN_BODY = frozenset(
    {"scopes.register", "scopes.forget", "principals.grant", "principals.revoke"}
)
_PATH_IN_QUERY = frozenset({"scopes.delete", "principals.effective"})
_NULL_BODY = frozenset({"keys.create"})
"""Operations whose body the document allows to be JSON ``null`` (read as an empty body)."""


def check_context_id(context_id: str) -> None:
    """The document's 422 "Invalid context id" unless ``context_id`` fits ``CONTEXT_ID_PATTERN``."""
    if not CONTEXT_ID_PATTERN.fullmatch(context_id):
        raise Problem(
            422,
            f"invalid context id {context_id!r}: a context id is 1 to 128 ASCII letters, digits, "
            "'.', '_' or '-', starting with a letter or digit, such as 'acme-prod'",
        )


def delegated_principal(request: ServiceRequest) -> str | None:
    """The principal the request acts for, from either delegation header; a 400 if they differ.

    The official SDKs send ``principal:<id>`` or a bare ``<id>``; Spectron strips the prefix.
    """
    named = {
        value.strip().removeprefix("principal:")
        for header in DELEGATION_HEADERS
        if (value := request.header(header)) and value.strip()
    }
    if len(named) > 1:
        raise Problem(
            400,
            f"the on-behalf-of headers ({', '.join(DELEGATION_HEADERS)}) name different "
            f"principals {sorted(named)}: send one of them",
        )
    return named.pop() if named else None


def first_values(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    values: dict[str, str] = {}
    for name, value in pairs:
        values.setdefault(name, value)
    return values


def parse_body(
    operation: Operation, request: ServiceRequest
) -> tuple[RequestModel | None, list[Part]]:
    """The request model the body holds (and an upload's parts); 400/415 if it does not."""
    model = operation.request
    if model is None:
        return None, []
    if operation.body == "multipart":
        if operation.name == "documents.reprocess" and not request.body:
            # The official SDKs reprocess without a body: the document's own bytes run again.
            return model.model_validate({}), []
        return _parse_upload(model, request)
    raw = request.body.strip() or b"{}"
    if raw == b"null" and operation.name in _NULL_BODY:
        raw = b"{}"
    return _validate(model, raw, prefix=""), []


def _parse_upload(
    model: type[RequestModel], request: ServiceRequest
) -> tuple[RequestModel, list[Part]]:
    content_type = request.header("content-type") or ""
    if not content_type.lower().startswith("multipart/form-data"):
        raise Problem(415, f"expected a multipart/form-data upload, got {content_type!r}")
    try:
        parts = parse_multipart(content_type, request.body)
    except MultipartError as error:
        raise Problem(400, f"malformed multipart body: {error}") from None
    names = [part.name for part in parts]
    if "metadata" not in names:
        return model.model_validate({}), parts
    if "file" in names and names.index("file") < names.index("metadata"):
        raise Problem(
            400,
            "the metadata part comes after the file part; the document requires metadata "
            "first (Spectron reads the parts in order): send the metadata part before the file",
        )
    metadata = parts[names.index("metadata")].content.strip() or b"{}"
    return _validate(model, metadata, prefix="metadata."), parts


def _validate(model: type[RequestModel], raw: bytes, *, prefix: str) -> RequestModel:
    try:
        return model.model_validate_json(raw)
    except pydantic.ValidationError as error:
        found = error.errors(include_url=False)
        if any(item["type"] == "json_invalid" for item in found):
            where = "the metadata part" if prefix else "the body"
            raise Problem(400, f"{where} is not JSON: {found[0]['msg']}") from None
        problems = [
            {
                "field": prefix + ".".join(map(str, item["loc"])) if item["loc"] else "<body>",
                "message": item["msg"],
            }
            for item in found
        ]
        fields = ", ".join(problem["field"] for problem in problems)
        raise Problem(
            400, f"the request does not match {model.__name__}: {fields}", errors=problems
        ) from None


def check_scopes(
    operation: Operation, caller: Caller, body: RequestModel | None, request: ServiceRequest
) -> None:
    """403 unless the caller's grant for the operation covers every scope the request names.

    A read ``lens`` is not checked: the document says "The lens can only narrow — permission
    gating from the caller's grants always applies on top, so an out-of-region lens yields
    empty results, never a 403."
    """
    verb = OPERATION_GRANTS[operation.name]
    if verb is None:
        return
    named = paths_of(getattr(body, "scopes", None))
    path_in_body = getattr(body, "path", None)
    if operation.name in _PATH_IN_BODY and isinstance(path_in_body, str) and path_in_body:
        named.append(path_in_body)
    if operation.name in _PATH_IN_QUERY:
        named.extend(value for name, value in request.query if name == "path" and value)
    patterns = caller.grants.get(verb, [])
    for path in named:
        if not any(covers(pattern, path) for pattern in patterns):
            raise Problem(403, f"this key's {verb!r} grant does not cover scope {path!r}")
