"""The operation catalogue: the one table every other part of pytest-spectron is built on.

Each row names one operation of Spectron's official API: the client's method for it, its HTTP
method and path template, its retry class, the query parameters it takes and the models of its
request and response bodies. The client, the fake service, the mock routes and the fault targets
are all derived from this table, and a test checks it against Spectron's OpenAPI document.

Every row is also a constant named after its operation (``STATE`` for ``state``,
``DOCUMENTS_UPLOAD`` for ``documents.upload``), typed with what a call returns: the clients send
``STATE`` and get a ``StateResponse`` back, so a misspelt operation or a wrong response type is a
type error, not a runtime one.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Literal, get_args
from urllib.parse import quote

import pydantic
from typing_extensions import TypeVar

from pytest_spectron.client import models as m
from pytest_spectron.client._suggest import did_you_mean

if TYPE_CHECKING:
    # Read by type checkers only: the runtime needs no typing_extensions recent enough for it.
    from typing_extensions import TypeForm

__all__ = [
    "CATALOGUE",
    "RETRY_CLASSES",
    "BodyKind",
    "HttpMethod",
    "Operation",
    "ResponseT",
    "RetryClass",
    "operation",
]

HttpMethod = Literal["GET", "POST", "PUT", "DELETE"]
RetryClass = Literal["read", "idempotent_write", "write", "stream"]
"""How the client's retry policy treats a call.

- ``read``: every GET; retried on connection errors, timeouts and 5xx.
- ``idempotent_write``: ``remember`` and ``remember_many``; retried like reads, with one
  ``Idempotency-Key`` across every attempt.
- ``write``: every other POST, PUT and DELETE (POST reads such as ``recall`` included); sent once.
- ``stream``: ``chat(stream=True)``; sent once, never replayed.
"""
RETRY_CLASSES: tuple[RetryClass, ...] = get_args(RetryClass)

BodyKind = Literal["none", "json", "multipart"]

ResponseT = TypeVar("ResponseT", default=Any)
"""What a successful call of an operation returns; a bare ``Operation`` may return anything."""

_PATH_PARAMETER = re.compile(r"{(\w+)}")


@dataclass(frozen=True)
class Operation(Generic[ResponseT]):
    """One row of the catalogue: everything known about one Spectron operation."""

    name: str
    """The client's name for it: ``remember``, ``documents.upload``…"""
    operation_id: str
    """The ``operationId`` in Spectron's OpenAPI document."""
    method: HttpMethod
    """The HTTP method: ``GET``, ``POST``, ``PUT`` or ``DELETE``."""
    path: str
    """The path template as the document spells it, e.g. ``/api/v1/{context_id}/facts``."""
    response: Any
    """What a successful call returns: a model, ``list[Model]``, ``bytes`` or ``None``.

    Typed ``Any``, as it may be a class, a generic alias or a union: ``ResponseT`` is the type
    it stands for, and ``adapter`` validates answers into it.
    """
    request: type[m.RequestModel] | None = None
    """The model of the request body (JSON or the metadata part of a multipart upload)."""
    body: BodyKind = "none"
    """How the request body is sent: ``none``, ``json`` or ``multipart``."""
    query: tuple[str, ...] = ()
    """Wire names of the query parameters the operation accepts."""
    idempotent: bool = False
    """A write that is safe to replay because it carries an ``Idempotency-Key``."""
    streams: bool = False
    """The operation can answer with a server-sent event stream (``chat``)."""
    path_parameters: tuple[str, ...] = field(init=False)
    """Names of the path template's parameters, in order."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "path_parameters", tuple(_PATH_PARAMETER.findall(self.path)))

    @property
    def retry_class(self) -> RetryClass:
        """The retry class of a non-streaming call to this operation."""
        if self.method == "GET":
            return "read"
        return "idempotent_write" if self.idempotent else "write"

    @property
    def retry_classes(self) -> tuple[RetryClass, ...]:
        """Every retry class a call to this operation can be in: a streamed call is ``stream``."""
        return (self.retry_class, "stream") if self.streams else (self.retry_class,)

    @property
    def namespace(self) -> str | None:
        """The client namespace holding the method (``documents``), or None for a top verb."""
        head, dot, _ = self.name.partition(".")
        return head if dot else None

    @property
    def method_name(self) -> str:
        """The method's name inside its namespace (``upload`` for ``documents.upload``)."""
        return self.name.rpartition(".")[2]

    @functools.cached_property
    def adapter(self) -> pydantic.TypeAdapter[ResponseT]:
        """Validates a decoded answer as ``response``; built on first use, then kept."""
        return pydantic.TypeAdapter(self.response)

    def expand(self, **parameters: str) -> str:
        """The concrete path, with each parameter percent-encoded as one path segment.

        :param parameters: a value for each of ``path_parameters`` (``context_id``, ``id``…).
        :return: the path, such as ``/api/v1/my-app/documents/d%2F1``.
        :raises KeyError: if a path parameter has no value.
        """
        missing = set(self.path_parameters) - parameters.keys()
        if missing:
            raise KeyError(f"{self.name}: missing path parameters {sorted(missing)}")
        return _PATH_PARAMETER.sub(lambda match: quote(parameters[match[1]], safe=""), self.path)

    def __repr__(self) -> str:
        return f"<Operation {self.name}: {self.method} {self.path} ({self.retry_class})>"


_V1 = "/api/v1/{context_id}"
_ROWS: list[Operation] = []
"""Every row made by ``_row``, in the order of the table below."""


def _row(
    method: HttpMethod,
    path: str,
    name: str,
    operation_id: str,
    response: TypeForm[ResponseT],
    *,
    json: type[m.RequestModel] | None = None,
    multipart: type[m.RequestModel] | None = None,
    query: tuple[str, ...] = (),
    idempotent: bool = False,
    streams: bool = False,
) -> Operation[ResponseT]:
    """A row of the table, typed with what ``response`` stands for, and kept in ``_ROWS``."""
    body: BodyKind = "json" if json else "multipart" if multipart else "none"
    row: Operation[ResponseT] = Operation(
        name,
        operation_id,
        method,
        path,
        response,
        json or multipart,
        body,
        query,
        idempotent,
        streams,
    )
    _ROWS.append(row)
    return row


# Memory verbs.
REMEMBER = _row(
    "POST",
    f"{_V1}/facts",
    "remember",
    "create_fact",
    m.FactsResponse,
    json=m.FactsRequest,
    idempotent=True,
)
REMEMBER_MANY = _row(
    "POST",
    f"{_V1}/facts/batch",
    "remember_many",
    "create_facts_batch",
    m.FactsBatchResponse,
    json=m.FactsBatchRequest,
    idempotent=True,
)
RECALL = _row(
    "POST",
    f"{_V1}/query",
    "recall",
    "query_memory",
    m.QueryMemoryResponse,
    json=m.QueryMemoryRequest,
)
FORGET = _row("POST", f"{_V1}/forget", "forget", "forget", m.ForgetResponse, json=m.ForgetRequest)
CHAT = _row("POST", f"{_V1}/chat", "chat", "chat", m.ChatResponse, json=m.ChatRequest, streams=True)
CONSOLIDATE = _row(
    "POST",
    f"{_V1}/consolidate",
    "consolidate",
    "consolidate",
    m.ConsolidateResponse,
    json=m.ConsolidateRequest,
)
REFLECT = _row(
    "POST", f"{_V1}/reflect", "reflect", "reflect", m.ReflectResponse, json=m.ReflectRequest
)
ELABORATE = _row(
    "POST",
    f"{_V1}/elaborate",
    "elaborate",
    "elaborate",
    m.ElaborateResponse,
    json=m.ElaborateRequest,
)
QUERY_CONTEXT = _row(
    "POST",
    f"{_V1}/context",
    "query_context",
    "query_context",
    m.ContextQueryResponse,
    json=m.ContextQueryRequest,
)
FSCK = _row("POST", f"{_V1}/fsck", "fsck", "fsck", m.FsckReport, json=m.FsckRequest)
INSPECT = _row(
    "GET",
    f"{_V1}/inspect",
    "inspect",
    "inspect",
    m.InspectResponse,
    query=("ref", "asOf", "atInstant", "validFrom", "validUntil"),
)
STATE = _row("GET", f"{_V1}/state", "state", "get_state", m.StateResponse)
WHOAMI = _row("GET", f"{_V1}/me", "whoami", "whoami", m.Whoami)
PROFILE = _row("GET", f"{_V1}/profile", "profile", "get_profile", m.ProfileResponse)
AUDIT = _row(
    "GET",
    f"{_V1}/audit",
    "audit",
    "list_audit",
    m.AuditResponse,
    query=("principal", "key", "kind", "since", "until", "limit"),
)
HEALTH = _row("GET", "/api/v1/health", "health", "health_check", None)

# Documents.
DOCUMENTS_UPLOAD = _row(
    "POST",
    f"{_V1}/documents",
    "documents.upload",
    "upload_document",
    m.UploadResponse,
    multipart=m.UploadMetadata,
)
DOCUMENTS_LIST = _row(
    "GET",
    f"{_V1}/documents",
    "documents.list",
    "list_documents",
    m.DocumentPage,
    query=("status", "mimeType", "page", "pageSize"),
)
DOCUMENTS_GET = _row("GET", f"{_V1}/documents/{{id}}", "documents.get", "get_document", m.Document)
DOCUMENTS_REPROCESS = _row(
    "PUT",
    f"{_V1}/documents/{{id}}",
    "documents.reprocess",
    "reprocess_document",
    m.UploadResponse,
    multipart=m.UploadMetadata,
)
DOCUMENTS_DELETE = _row(
    "DELETE", f"{_V1}/documents/{{id}}", "documents.delete", "delete_document", None
)
DOCUMENTS_FETCH_RAW = _row(
    "GET", f"{_V1}/documents/{{id}}/raw", "documents.fetch_raw", "fetch_document_raw", bytes
)
DOCUMENTS_CHUNKS = _row(
    "GET",
    f"{_V1}/documents/{{id}}/chunks",
    "documents.chunks",
    "list_chunks",
    m.ChunkPage,
    query=("page", "pageSize"),
)
DOCUMENTS_DOCUMENT_KEYWORDS = _row(
    "GET",
    f"{_V1}/documents/{{id}}/keywords",
    "documents.document_keywords",
    "list_document_keywords",
    m.DocumentKeywordsResponse,
)
DOCUMENTS_QUERY = _row(
    "POST",
    f"{_V1}/documents/query",
    "documents.query",
    "query_documents",
    m.QueryResponse,
    json=m.QueryRequest,
)
DOCUMENTS_RECOMPUTE_LINKS = _row(
    "POST",
    f"{_V1}/documents/recompute-links",
    "documents.recompute_links",
    "recompute_document_links",
    m.RecomputeLinksResponse,
)
DOCUMENTS_KEYWORDS = _row(
    "GET",
    f"{_V1}/documents/keywords",
    "documents.keywords",
    "list_keywords",
    m.KeywordPage,
    query=("q", "minDocumentCount", "sort", "page", "pageSize"),
)
DOCUMENTS_KEYWORD = _row(
    "GET",
    f"{_V1}/documents/keywords/{{normalised}}",
    "documents.keyword",
    "get_keyword",
    m.KeywordDetail,
)
DOCUMENTS_SEARCH_KEYWORDS = _row(
    "POST",
    f"{_V1}/documents/keywords/search",
    "documents.search_keywords",
    "search_keywords",
    m.KeywordSearchResponse,
    json=m.KeywordSearchRequest,
)

# Sessions.
SESSIONS_CREATE = _row(
    "POST",
    f"{_V1}/sessions",
    "sessions.create",
    "create_session",
    m.SessionResponse,
    json=m.CreateSessionRequest,
)
SESSIONS_DELETE = _row(
    "DELETE", f"{_V1}/sessions/{{session_id}}", "sessions.delete", "delete_session", None
)
SESSIONS_TURNS = _row(
    "GET",
    f"{_V1}/sessions/{{session_id}}/turns",
    "sessions.turns",
    "list_turns",
    m.TurnListResponse,
    query=("limit", "offset"),
)
SESSIONS_CONTEXT = _row(
    "POST",
    f"{_V1}/sessions/{{session_id}}/context",
    "sessions.context",
    "get_session_context",
    m.SessionContextResponse,
    json=m.SessionContextRequest,
)

# Entities.
ENTITIES_LIST = _row(
    "GET",
    f"{_V1}/entities",
    "entities.list",
    "list_entities",
    m.EntityListResponse,
    query=("type", "limit", "offset"),
)
ENTITIES_GET = _row(
    "GET",
    f"{_V1}/entities/{{entity_type}}/{{entity_name}}",
    "entities.get",
    "get_entity",
    m.EntityResponse,
)
ENTITIES_DELETE = _row(
    "DELETE",
    f"{_V1}/entities/{{entity_type}}/{{entity_name}}",
    "entities.delete",
    "delete_entity",
    None,
)
ENTITIES_HISTORY = _row(
    "GET",
    f"{_V1}/entities/{{entity_type}}/{{entity_name}}/history/{{key}}",
    "entities.history",
    "get_entity_history",
    m.EntityHistoryResponse,
)

# Scopes.
SCOPES_LIST = _row("GET", f"{_V1}/scopes", "scopes.list", "list_scopes", list[m.ScopeNode])
SCOPES_REGISTER = _row(
    "POST",
    f"{_V1}/scopes",
    "scopes.register",
    "register_scope",
    m.ScopeNode,
    json=m.RegisterScopeRequest,
)
SCOPES_DELETE = _row(
    "DELETE", f"{_V1}/scopes", "scopes.delete", "delete_scope", None, query=("path",)
)
SCOPES_FORGET = _row(
    "POST",
    f"{_V1}/scopes/forget",
    "scopes.forget",
    "forget_scope",
    m.ForgetScopeResponse,
    json=m.ScopeForgetRequest,
)
SCOPES_GRANT = _row(
    "POST",
    f"{_V1}/scope-grants",
    "scopes.grant",
    "scope_grants_stub",
    None,
    json=m.ScopeGrantRequest,
)

# Principals.
PRINCIPALS_LIST = _row(
    "GET", f"{_V1}/principals", "principals.list", "list_principals", list[m.Principal]
)
PRINCIPALS_GET = _row(
    "GET", f"{_V1}/principals/{{principal_id}}", "principals.get", "get_principal", m.Principal
)
PRINCIPALS_EFFECTIVE = _row(
    "GET",
    f"{_V1}/principals/{{principal_id}}/effective",
    "principals.effective",
    "effective_principal",
    m.EffectiveGrants,
    query=("path", "asOf"),
)
PRINCIPALS_GRANT = _row(
    "POST",
    f"{_V1}/principals/{{principal_id}}/grants",
    "principals.grant",
    "grant_principal",
    m.Principal,
    json=m.GrantRequest,
)
PRINCIPALS_REVOKE = _row(
    "DELETE",
    f"{_V1}/principals/{{principal_id}}/grants",
    "principals.revoke",
    "revoke_principal",
    m.Principal,
    json=m.GrantRequest,
)

# Keys.
KEYS_LIST = _row("GET", f"{_V1}/keys", "keys.list", "list_self_keys", list[m.KeyDetail])
KEYS_CREATE = _row(
    "POST",
    f"{_V1}/keys",
    "keys.create",
    "create_self_key",
    m.MintedKey,
    json=m.MintKeyBody,
    query=("ttlSeconds",),
)
KEYS_DELETE = _row("DELETE", f"{_V1}/keys/{{key_name}}", "keys.delete", "delete_self_key", None)
KEYS_ROTATE = _row(
    "POST",
    f"{_V1}/keys/{{key_name}}/rotate",
    "keys.rotate",
    "rotate_self_key",
    m.MintedKey,
    query=("ttlSeconds",),
)

# Traces.
TRACES_LIST = _row(
    "GET", f"{_V1}/traces", "traces.list", "list_traces", m.TraceListResponse, query=("limit",)
)
TRACES_GET = _row("GET", f"{_V1}/traces/{{trace_id}}", "traces.get", "get_trace", m.TraceRecord)
TRACES_STATS = _row(
    "GET", f"{_V1}/traces/stats", "traces.stats", "get_trace_stats", m.TraceStatsResponse
)

# Lifecycle.
LIFECYCLE_DECAY = _row(
    "POST", f"{_V1}/lifecycle/decay", "lifecycle.decay", "decay_importance", m.LifecycleResponse
)
LIFECYCLE_EXPIRE = _row(
    "POST", f"{_V1}/lifecycle/expire", "lifecycle.expire", "expire_context", m.LifecycleResponse
)


CATALOGUE: dict[str, Operation] = {row.name: row for row in _ROWS}
"""Every Spectron operation, by the client's name for it."""


def operation(name: str) -> Operation:
    """The catalogue row called ``name``.

    :param name: the operation's name in the catalogue, such as ``documents.upload``.
    :return: its row.
    :raises KeyError: if no operation has that name; the message lists the nearest names.
    """
    try:
        return CATALOGUE[name]
    except KeyError:
        raise KeyError(
            f"{name!r} is not a Spectron operation{did_you_mean(name, CATALOGUE)}"
        ) from None
