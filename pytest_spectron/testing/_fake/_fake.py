"""``FakeSpectron``: a stateful, deterministic, in-memory Spectron behind the catalogue's routes."""

from __future__ import annotations

import functools
import itertools
import json
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta, timezone
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

import pydantic

from pytest_spectron.client._catalogue import Operation
from pytest_spectron.client._wire import IDEMPOTENCY_HEADER
from pytest_spectron.testing._exchange import ServiceRequest, ServiceResponse
from pytest_spectron.testing._fake._handlers import HANDLERS, PRINCIPAL_ID, Answer, Call, Problem
from pytest_spectron.testing._fake._state import (
    Context,
    StoredDocument,
    StoredFact,
    StoredSession,
)
from pytest_spectron.testing._problems import TRACE_ID_HEADER, new_trace_id, problem_response
from pytest_spectron.testing._routing import NoRoute, Route

__all__ = ["ALL_GRANTS", "EPOCH", "OPERATION_GRANTS", "FakeSpectron", "not_routed_response"]

EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)
"""Virtual time zero: the fake's timestamps are this plus the clock's seconds."""

Grants = dict[str, list[str]]
ALL_GRANTS: tuple[str, ...] = (
    "memory:read",
    "memory:write",
    "memory:forget",
    "scope:read",
    "scope:create",
    "scope:delete",
    "grant:manage",
)

_READ, _WRITE, _FORGET = "memory:read", "memory:write", "memory:forget"
OPERATION_GRANTS: dict[str, str | None] = {
    "remember": _WRITE,
    "remember_many": _WRITE,
    "recall": _READ,
    "forget": _FORGET,
    "chat": _WRITE,
    "consolidate": _WRITE,
    "reflect": _READ,
    "elaborate": _WRITE,
    "query_context": _READ,
    "fsck": _READ,
    "inspect": _READ,
    "state": _READ,
    "whoami": None,
    "profile": _READ,
    "audit": _READ,
    "health": None,
    "documents.upload": _WRITE,
    "documents.list": _READ,
    "documents.get": _READ,
    "documents.reprocess": _WRITE,
    "documents.delete": _FORGET,
    "documents.fetch_raw": _READ,
    "documents.chunks": _READ,
    "documents.document_keywords": _READ,
    "documents.query": _READ,
    "documents.recompute_links": _WRITE,
    "documents.keywords": _READ,
    "documents.keyword": _READ,
    "documents.search_keywords": _READ,
    "sessions.create": _WRITE,
    "sessions.delete": _FORGET,
    "sessions.turns": _READ,
    "sessions.context": _READ,
    "entities.list": _READ,
    "entities.get": _READ,
    "entities.delete": _FORGET,
    "entities.history": _READ,
    "scopes.list": "scope:read",
    "scopes.register": "scope:create",
    "scopes.delete": "scope:delete",
    "scopes.forget": _FORGET,
    "scopes.grant": "grant:manage",
    "principals.list": "scope:read",
    "principals.get": "scope:read",
    "principals.effective": "scope:read",
    "principals.grant": "grant:manage",
    "principals.revoke": "grant:manage",
    "keys.list": None,
    "keys.create": None,
    "keys.delete": None,
    "keys.rotate": None,
    "traces.list": _READ,
    "traces.get": _READ,
    "traces.stats": _READ,
    "lifecycle.decay": _WRITE,
    "lifecycle.expire": _WRITE,
}
"""The grant verb each operation needs (None: any valid key will do)."""


class FakeSpectron:
    """Spectron's state and behaviour, in memory and deterministic; safe to share between threads.

    By default any non-empty bearer key is accepted with every grant; ``set_api_keys`` restricts
    that. Timestamps come from ``clock`` (virtual seconds), ids from counters, so two fakes fed
    the same calls give the same answers.
    """

    def __init__(self, *, clock: Callable[[], float] | None = None) -> None:
        self._clock = clock or (lambda: 0.0)
        self._lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        """Forget every context, key and count."""
        with self._lock:
            self._contexts: dict[str, Context] = {}
            self._ids = itertools.count(1)
            self._api_keys: dict[str, Grants] | None = None
            self._minted: dict[str, Grants] = {}

    # -- Authentication ------------------------------------------------------------------------

    def set_api_keys(self, keys: Mapping[str, Mapping[str, Iterable[str]] | None] | None) -> None:
        """Accept only these keys, each with its grants (verb → scope patterns; None: all).

        ``None`` goes back to accepting any non-empty key with every grant.
        """
        with self._lock:
            if keys is None:
                self._api_keys = None
                return
            self._api_keys = {
                key: _all_grants() if grants is None else {v: list(p) for v, p in grants.items()}
                for key, grants in keys.items()
            }

    def grants_of(self, authorization: str) -> Grants:
        """The grants of the key in an ``Authorization`` header (empty if it is not accepted)."""
        scheme, _, key = authorization.partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            return {}
        if key in self._minted:
            return self._minted[key]
        if self._api_keys is None:
            return _all_grants()
        return self._api_keys.get(key, {})

    def _accepts(self, authorization: str) -> bool:
        scheme, _, key = authorization.partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            return False
        return self._api_keys is None or key in self._api_keys or key in self._minted

    def mint_secret(self, grants: Mapping[str, list[str]] | None) -> str:
        """A new key secret, accepted from now on with ``grants`` (None: every grant)."""
        secret = f"sk-fake-{self.new_id('secret')}"
        self._minted[secret] = _all_grants() if grants is None else dict(grants)
        return secret

    def revoke_secret(self, secret: str) -> None:
        """Stop accepting a minted key."""
        self._minted.pop(secret, None)

    # -- Ids and time --------------------------------------------------------------------------

    def new_id(self, prefix: str) -> str:
        """A fresh id such as ``fact-000001``."""
        return f"{prefix}-{next(self._ids):06d}"

    def now(self, *, offset: float | None = None) -> str:
        """The virtual time as RFC 3339, optionally ``offset`` seconds later."""
        moment = EPOCH + timedelta(seconds=self._clock() + (offset or 0))
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"

    # -- Seeding and inspection ----------------------------------------------------------------

    def context(self, context_id: str) -> Context:
        """The state of one context (created empty on first use)."""
        with self._lock:
            return self._contexts.setdefault(context_id, Context())

    def contexts(self) -> list[str]:
        """The ids of every context that has state."""
        with self._lock:
            return list(self._contexts)

    def add_fact(
        self,
        context_id: str,
        text: str,
        *,
        labels: Iterable[str] = (),
        memory_category: str = "knowledge",
    ) -> str:
        """Store a fact directly, as if remembered; returns its id."""
        with self._lock:
            context = self.context(context_id)
            session = StoredSession(self.new_id("sess"), self.now())
            context.sessions[session.id] = session
            fact = StoredFact(
                id=self.new_id("fact"),
                text=text,
                session_id=session.id,
                turn_id=self.new_id("turn"),
                labels=tuple(labels),
                memory_category=memory_category,
                created_at=self.now(),
            )
            context.facts.append(fact)
            return fact.id

    def add_document(
        self,
        context_id: str,
        content: bytes,
        *,
        title: str = "document",
        mime_type: str = "text/plain",
    ) -> str:
        """Store a document directly, as if uploaded; returns its id."""
        import hashlib

        with self._lock:
            now = self.now()
            document = StoredDocument(
                id=self.new_id("doc"),
                title=title,
                mime_type=mime_type,
                source=title,
                content=content,
                content_hash=hashlib.sha256(content).hexdigest(),
                created_at=now,
                updated_at=now,
            )
            self.context(context_id).documents[document.id] = document
            return document.id

    def facts(self, context_id: str) -> list[StoredFact]:
        """The facts a context remembers (not forgotten), oldest first."""
        with self._lock:
            return list(self.context(context_id).live_facts())

    def documents(self, context_id: str) -> list[StoredDocument]:
        """The documents a context holds."""
        with self._lock:
            return list(self.context(context_id).documents.values())

    def sessions(self, context_id: str) -> list[StoredSession]:
        """The sessions of a context."""
        with self._lock:
            return list(self.context(context_id).sessions.values())

    # -- Answering -----------------------------------------------------------------------------

    def handle(self, route: Route, request: ServiceRequest) -> ServiceResponse:
        """Answer one routed request: authenticate, validate, replay or run, and audit it."""
        operation = route.operation
        trace_id = new_trace_id()
        try:
            with self._lock:
                return self._handle(operation, route, request, trace_id)
        except Problem as problem:
            return problem_response(
                problem.status,
                problem.detail,
                instance=request.path,
                trace_id=trace_id,
                **problem.extensions,
            )

    def _handle(
        self, operation: Operation, route: Route, request: ServiceRequest, trace_id: str
    ) -> ServiceResponse:
        authorization = request.header("authorization") or ""
        if operation.name != "health":
            if not self._accepts(authorization):
                raise Problem(401, "missing or invalid API key: send 'Authorization: Bearer <key>'")
            needed = OPERATION_GRANTS[operation.name]
            if needed is not None and needed not in self.grants_of(authorization):
                raise Problem(403, f"this key lacks the {needed!r} grant {operation.name} needs")
        context_id = route.parameters.get("context_id", "")
        context = self.context(context_id)
        replay_key = self._replay_key(operation, request)
        if replay_key is not None and replay_key in context.replays:
            status, body = context.replays[replay_key]
            return _json_response(status, body, trace_id)
        call = Call(
            fake=self,
            context=context,
            context_id=context_id,
            path=route.parameters,
            query=dict(request.query),
            headers=dict(request.headers),
        )
        self._parse_body(operation, request, call)
        self._check_scopes(operation, authorization, call.body)
        answer = HANDLERS[operation.name](call)
        context.audit.append(self._audit_row(operation, trace_id))
        response = self._render(operation, answer, trace_id)
        if replay_key is not None:
            context.replays[replay_key] = (response.status, response.body)
        return response

    def _check_scopes(self, operation: Operation, authorization: str, body: Any) -> None:
        """403 unless the key's grant for the operation covers every scope the body names."""
        needed = OPERATION_GRANTS[operation.name]
        if needed is None or body is None:
            return
        patterns = self.grants_of(authorization).get(needed, [])
        for field in ("scopes", "lens"):
            for clause in getattr(body, field, None) or ():
                for path in clause:
                    if not any(_covers(pattern, path) for pattern in patterns):
                        raise Problem(
                            403, f"this key's {needed!r} grant does not cover scope {path!r}"
                        )

    def _replay_key(self, operation: Operation, request: ServiceRequest) -> tuple[str, str] | None:
        key = request.header(IDEMPOTENCY_HEADER)
        return (operation.name, key) if operation.idempotent and key else None

    def _parse_body(self, operation: Operation, request: ServiceRequest, call: Call) -> None:
        if operation.request is None:
            return
        if operation.body == "multipart":
            metadata, call.upload = _parse_multipart(request)
            call.body = _validate(operation, metadata)
            return
        raw = request.body.strip() or b"{}"
        try:
            data = json.loads(raw)
        except ValueError as error:
            raise Problem(400, f"the body is not JSON: {error}") from None
        call.body = _validate(operation, data)

    def _audit_row(self, operation: Operation, trace_id: str) -> dict[str, Any]:
        kind = "response" if operation.name == "chat" else "retrieval"
        if operation.method != "GET" and operation.name not in ("recall", "query_context"):
            kind = "decision" if kind != "response" else kind
        return {
            "traceId": trace_id,
            "kind": kind,
            "cost": 0.0,
            "rowsTouched": 0,
            "latencyMs": 1,
            "createdAt": self.now(),
            "principal": PRINCIPAL_ID,
        }

    def _render(self, operation: Operation, answer: Answer, trace_id: str) -> ServiceResponse:
        headers: tuple[tuple[str, str], ...] = ((TRACE_ID_HEADER, trace_id),)
        if answer.events is not None:
            frames = tuple(f"data: {payload}\n\n".encode() for payload in answer.events)
            return ServiceResponse(
                answer.status, (("content-type", answer.content_type), *headers), events=frames
            )
        if answer.raw is not None:
            return ServiceResponse(
                answer.status, (("content-type", answer.content_type), *headers), answer.raw
            )
        if answer.status == 204:
            return ServiceResponse(204, headers)
        if operation.response is not None:
            # The fake must never answer what the client's models would reject.
            _adapter(operation.response).validate_python(answer.data)
        return _json_response(answer.status, json.dumps(answer.data).encode(), trace_id)

    def __repr__(self) -> str:
        return f"<FakeSpectron contexts={self.contexts()!r}>"


def not_routed_response(error: NoRoute) -> ServiceResponse:
    """The 404 or 405 problem for a request no operation answers."""
    if error.allowed:
        allow = (("allow", ", ".join(error.allowed)),)
        return problem_response(405, error.describe(), instance=error.path, headers=allow)
    nearest = [operation.name for operation in error.nearest]
    return problem_response(404, error.describe(), instance=error.path, nearest=nearest)


def _validate(operation: Operation, data: Any) -> Any:
    assert operation.request is not None
    try:
        return operation.request.model_validate(data)
    except pydantic.ValidationError as error:
        problems = [
            {"field": ".".join(map(str, item["loc"])) or "<body>", "message": item["msg"]}
            for item in error.errors(include_url=False)
        ]
        fields = ", ".join(problem["field"] for problem in problems)
        detail = f"the body does not match {operation.name}: {fields}"
        raise Problem(422, detail, errors=problems) from None


def _parse_multipart(request: ServiceRequest) -> tuple[Any, tuple[str, bytes, str] | None]:
    content_type = request.header("content-type") or ""
    if not content_type.startswith("multipart/form-data"):
        raise Problem(415, f"expected a multipart/form-data upload, got {content_type!r}")
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + request.body
    )
    metadata: Any = {}
    upload = None
    for part in message.iter_parts():
        assert isinstance(part, Message)
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
        if name == "metadata":
            try:
                metadata = json.loads(content or b"{}")
            except ValueError as error:
                raise Problem(400, f"the metadata part is not JSON: {error}") from None
        elif name == "file":
            upload = (part.get_filename() or "upload", content, part.get_content_type())
    return metadata, upload


def _covers(pattern: str, path: str) -> bool:
    """Whether a grant's scope pattern (``*``, ``team/*``, ``team/a/``) covers a scope path."""
    if pattern.endswith("*"):
        return path.startswith(pattern[:-1])
    return (path.rstrip("/") + "/").startswith(pattern.rstrip("/") + "/")


def _json_response(status: int, body: bytes, trace_id: str) -> ServiceResponse:
    headers = (("content-type", "application/json"), (TRACE_ID_HEADER, trace_id))
    return ServiceResponse(status, headers, body)


def _all_grants() -> Grants:
    return {verb: ["*"] for verb in ALL_GRANTS}


@functools.cache
def _adapter(response_type: Any) -> pydantic.TypeAdapter[Any]:
    return pydantic.TypeAdapter(response_type)
