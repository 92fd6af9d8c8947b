"""What the fake reads from a request before a handler runs: the context id, the on-behalf-of
headers, the query, the body (JSON or a multipart upload) and the scopes the request names."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

import pydantic
from pydantic_core import ErrorDetails

from pytest_spectron.client._base import RequestModel
from pytest_spectron.client._catalogue import Operation
from pytest_spectron.client.models import NOT_NULL
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
) -> tuple[RequestModel | None, list[Part], list[str]]:
    """The request model the body holds, an upload's parts, and the unknown fields it ignored.

    The body is read as Spectron reads it: by the document's field names only, with the
    document's types and no coercion (``"5"`` is no integer), ``null`` only where the document
    allows it; a field the document does not name is ignored (its schemas allow any), and
    listed. 400/415 if the body cannot be read so.
    """
    model = operation.request
    if model is None:
        return None, [], []
    if operation.body == "multipart":
        if operation.name == "documents.reprocess" and not request.body:
            # The official SDKs reprocess without a body: the document's own bytes run again.
            return model.model_validate({}), [], []
        return _parse_upload(model, request)
    raw = request.body.strip() or b"{}"
    if raw == b"null" and operation.name in _NULL_BODY:
        raw = b"{}"
    body, unknown = _validate(model, raw, prefix="")
    return body, [], unknown


def _parse_upload(
    model: type[RequestModel], request: ServiceRequest
) -> tuple[RequestModel, list[Part], list[str]]:
    content_type = request.header("content-type") or ""
    if not content_type.lower().startswith("multipart/form-data"):
        raise Problem(415, f"expected a multipart/form-data upload, got {content_type!r}")
    try:
        parts = parse_multipart(content_type, request.body)
    except MultipartError as error:
        raise Problem(400, f"malformed multipart body: {error}") from None
    names = [part.name for part in parts]
    if "metadata" not in names:
        return model.model_validate({}), parts, []
    if "file" in names and names.index("file") < names.index("metadata"):
        raise Problem(
            400,
            "the metadata part comes after the file part; the document requires metadata "
            "first (Spectron reads the parts in order): send the metadata part before the file",
        )
    metadata = parts[names.index("metadata")].content.strip() or b"{}"
    body, unknown = _validate(model, metadata, prefix="metadata.")
    return body, parts, unknown


def _validate(
    model: type[RequestModel], raw: bytes, *, prefix: str
) -> tuple[RequestModel, list[str]]:
    """``raw`` as ``model``, read strictly by wire name; and the unknown fields it ignored."""
    try:
        return _strictly(model, raw), []  # the common case: nothing unknown, nothing null
    except pydantic.ValidationError as error:
        found = error.errors(include_url=False)
        if any(item["type"] == "json_invalid" for item in found):
            where = "the metadata part" if prefix else "the body"
            raise Problem(400, f"{where} is not JSON: {found[0]['msg']}") from None
        extra = [item["loc"] for item in found if item["type"] == "extra_forbidden"]
        if not extra:
            raise _not_matching(model, found, prefix) from None
    except _NullSeen:
        extra = []
    data = json.loads(raw)
    for location in extra:
        _remove(data, location)
    try:
        body = _read(model, json.dumps(data))
    except pydantic.ValidationError as error:
        raise _not_matching(model, error.errors(include_url=False), prefix) from None
    nulls = _nulls(body, data, prefix)
    if nulls:
        raise Problem(
            400,
            f"the request does not match {model.__name__}: {', '.join(nulls)} may not be null "
            "(the document types them without null): leave a field out for its default",
            errors=[{"field": name, "message": "may not be null"} for name in nulls],
        )
    return body, [prefix + ".".join(map(str, location)) for location in extra]


def _read(model: type[RequestModel], raw: bytes | str) -> RequestModel:
    """As Spectron reads a body: the document's names (never the client's attribute names), the
    document's types (no ``"5"`` for 5, no ``true`` for 1)."""
    return model.model_validate_json(
        raw, strict=True, by_alias=True, by_name=False, context={"wire": True}
    )


class _NullSeen(Exception):
    """The body holds a ``null`` somewhere: read it the slow way, to check each one."""


def _strictly(model: type[RequestModel], raw: bytes) -> RequestModel:
    body = _read(model, raw)
    if b"null" in raw:
        raise _NullSeen
    return body


def _not_matching(model: type[RequestModel], found: list[ErrorDetails], prefix: str) -> Problem:
    problems = [
        {
            "field": prefix + ".".join(map(str, item["loc"])) if item["loc"] else "<body>",
            "message": item["msg"],
        }
        for item in found
    ]
    fields = ", ".join(problem["field"] for problem in problems)
    return Problem(400, f"the request does not match {model.__name__}: {fields}", errors=problems)


def _remove(data: Any, location: tuple[int | str, ...]) -> None:
    """Delete the field at ``location`` from ``data``; steps naming no member (a union's tag) are
    skipped."""
    node = data
    for step in location[:-1]:
        in_dict = isinstance(node, dict) and step in node
        if in_dict or (isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node)):
            node = node[step]
    if isinstance(node, dict):
        node.pop(location[-1], None)


def _nulls(body: RequestModel, data: Any, prefix: str) -> list[str]:
    """The wire names (dotted, from the top) where ``data`` holds a ``null`` the document bars."""
    if not isinstance(data, dict):
        return []
    barred = NOT_NULL.get(type(body), frozenset())
    found: list[str] = []
    for attribute, info in type(body).model_fields.items():
        wire_name = info.alias or attribute
        if wire_name not in data:
            continue
        raw, value = data[wire_name], getattr(body, attribute)
        if raw is None:
            found += [prefix + wire_name] if wire_name in barred else []
        elif isinstance(value, RequestModel):
            found += _nulls(value, raw, f"{prefix}{wire_name}.")
        elif isinstance(value, list) and isinstance(raw, list):
            for index, (item, raw_item) in enumerate(zip(value, raw, strict=False)):
                if isinstance(item, RequestModel):
                    found += _nulls(item, raw_item, f"{prefix}{wire_name}.{index}.")
    return found


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
