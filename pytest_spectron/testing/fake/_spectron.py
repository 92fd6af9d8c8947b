"""``FakeSpectron``: a stateful, deterministic, in-memory Spectron behind the catalogue's routes.

One request goes: check the context id (422), authenticate (401), check delegation and the
operation's verb (403), replay a known ``Idempotency-Key``, validate the body (400/415), check the
scopes it names (403), run the operation's handler, render its response model, and leave an audit
row. Every answer, error or not, carries a trace id from the fake's own sequence; errors come in
the fake's error format (``error_format``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import threading
from collections.abc import Callable, Iterable, Mapping

from pytest_spectron._shared._validators import is_real
from pytest_spectron.client._scopes import ScopeSelector
from pytest_spectron.client._wire import IDEMPOTENCY_HEADER
from pytest_spectron.testing.fake._auth import (
    OPERATION_GRANTS,
    PRINCIPAL_ID,
    Caller,
    all_grants,
    bearer_key,
    copy_grants,
    narrow,
    region_verb,
)
from pytest_spectron.testing.fake._call import HANDLERS, Call, Problem
from pytest_spectron.testing.fake._context import RECORD_LIMIT, ContextState
from pytest_spectron.testing.fake._keyring import Keyring
from pytest_spectron.testing.fake._reading import (
    check_context_id,
    check_scopes,
    delegated_principal,
    first_values,
    parse_body,
)
from pytest_spectron.testing.fake._render import (
    DEFAULT_STREAM_FORMAT,
    StreamFormat,
    audit_kind,
    check_stream_format,
    render_answer,
)
from pytest_spectron.testing.fake._scoping import freeze_scopes
from pytest_spectron.testing.fake._store import (
    PROCESSING_STAGE_SECONDS,
    Ids,
    StoredAudit,
    StoredDocument,
    StoredFact,
    StoredKey,
    StoredSession,
    StoredTrace,
    timestamp,
)

# Importing the handler modules registers every operation's handler.
from pytest_spectron.testing.fake.handlers import (  # noqa: F401
    _identity,
    _knowledge,
    _memory,
    _observability,
    _sessions,
    _uploads,
)
from pytest_spectron.testing.http._exchange import (
    ServiceRequest,
    ServiceResponse,
    unknown_field_note,
)
from pytest_spectron.testing.http._problems import (
    DEFAULT_ERROR_FORMAT,
    ErrorFormat,
    TraceIds,
    check_error_format,
)
from pytest_spectron.testing.http._routing import Route

__all__ = ["FakeSpectron"]

_DELEGATION_GRANT = "grant:manage"


class _Ticks:
    """The default clock: one virtual second more at every reading, starting at zero."""

    def __init__(self) -> None:
        self._ticks = itertools.count()

    def __call__(self) -> float:
        return float(next(self._ticks))


class FakeSpectron:
    """Spectron's state and behaviour, in memory and deterministic; safe to share between threads.

    Any non-empty bearer key is accepted with every grant until ``set_api_keys`` restricts it.
    Timestamps are ``2026-01-01T00:00:00Z`` plus ``clock()`` seconds (by default a counter that
    moves one second per request), ids come from per-instance counters (``fact-000001``, trace
    ids ``trc-000001`` from ``trace_ids``), so two fakes fed the same calls give the same
    answers. Errors come in ``error_format``: ``"json"`` (the default, the document's),
    ``"problem"`` or ``"legacy"``. Each context keeps its last ``record_limit`` traces, audit
    rows and idempotent replays (default ``RECORD_LIMIT``, 10,000; None keeps all), so a
    long-running fake stays bounded; its facts and other records are kept whole. A streamed chat
    is framed in ``stream_format``: ``"spectron"`` (the default, the real service's ending, an
    ``event: done`` frame with the whole reply, then ``[DONE]``), ``"token"`` or ``"done_flag"``.
    An upload is answered ``queued`` and goes through ``extracting``, ``chunking`` and
    ``embedding`` to ``ready``, one stage every ``processing_seconds`` on the clock; its chunks,
    keywords and search hits appear once it is ready (0: ready at once).

    :param clock: the seconds since the start, for timestamps and key expiry; None for the
        counter above. ``SpectronMock`` passes its virtual clock's ``now``.
    :param error_format: ``"json"``, ``"problem"`` or ``"legacy"``.
    :param stream_format: ``"spectron"``, ``"token"`` or ``"done_flag"``.
    :param processing_seconds: virtual seconds each stage of an upload's processing takes, 0 or
        more (default ``PROCESSING_STAGE_SECONDS``, 1).
    :param record_limit: the traces, audit rows and idempotent replays each context keeps,
        1 or more; None keeps all.
    :raises ValueError: ``record_limit`` is below 1, ``processing_seconds`` below 0, or
        ``error_format`` or ``stream_format`` is unknown.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] | None = None,
        error_format: ErrorFormat = DEFAULT_ERROR_FORMAT,
        record_limit: int | None = RECORD_LIMIT,
        stream_format: StreamFormat = DEFAULT_STREAM_FORMAT,
        processing_seconds: float = PROCESSING_STAGE_SECONDS,
    ) -> None:
        if record_limit is not None and record_limit < 1:
            raise ValueError(
                f"record_limit must be 1 or more (None for no limit), got {record_limit!r}"
            )
        self._given_clock = clock
        self._record_limit = record_limit
        self._lock = threading.RLock()
        self.error_format = error_format
        self.stream_format = stream_format
        self.processing_seconds = processing_seconds
        self.trace_ids = TraceIds()
        """Numbers every answer's trace id: the fake's own, and the faults served in front of it."""
        self.reset()

    @property
    def error_format(self) -> ErrorFormat:
        """How error answers look: ``"json"``, ``"problem"`` or ``"legacy"``; settable."""
        return self._error_format

    @error_format.setter
    def error_format(self, value: ErrorFormat) -> None:
        self._error_format = check_error_format(value)

    @property
    def stream_format(self) -> StreamFormat:
        """How a streamed chat is framed: ``"spectron"``, ``"token"``, ``"done_flag"``; settable."""
        return self._stream_format

    @stream_format.setter
    def stream_format(self, value: StreamFormat) -> None:
        self._stream_format = check_stream_format(value)

    @property
    def processing_seconds(self) -> float:
        """Virtual seconds each stage of an upload's processing takes (0: ready at once)."""
        return self._processing_seconds

    @processing_seconds.setter
    def processing_seconds(self, value: float) -> None:
        if not is_real(value) or not 0 <= value < float("inf"):
            raise ValueError(
                f"processing_seconds must be 0 (ready at once) or more virtual seconds, "
                f"got {value!r}"
            )
        self._processing_seconds = float(value)

    def _context(self, context_id: str) -> ContextState:
        """The state of ``context_id``, made empty on first use."""
        state = self._contexts.get(context_id)
        if state is None:
            state = self._contexts[context_id] = ContextState(record_limit=self._record_limit)
        return state

    def reset(self) -> None:
        """Forget every context, key, count and auth setting."""
        with self._lock:
            self._clock: Callable[[], float] = self._given_clock or _Ticks()
            self._contexts: dict[str, ContextState] = {}
            self._ids = Ids()
            self._keyring = Keyring()
            self.trace_ids.reset()

    def set_api_keys(self, keys: Mapping[str, Mapping[str, Iterable[str]] | None] | None) -> None:
        """Accept only these keys, each with its grants (verb → scope patterns; None: every grant).

        An unknown key then gets 401, a key without the verb an operation needs 403 (see
        ``OPERATION_GRANTS``). ``None`` goes back to accepting any non-empty key. Keys minted
        through ``keys.create`` (or ``add_key``) are accepted either way.

        :param keys: each accepted key and its grants, such as ``{"sk-reader": {"read":
            ["*"]}}``; None accepts any key again.
        """
        with self._lock:
            self._keyring.restrict(keys)

    # -- Answering -----------------------------------------------------------------------------

    def handle(self, route: Route, request: ServiceRequest) -> ServiceResponse:
        """Answer one routed request, as Spectron would; ``SpectronService`` calls it.

        :param route: the operation the request matched, with its path parameters.
        :param request: the request.
        :return: the answer: the operation's, or the problem (401, 403, 422…) it met, with a
            trace id.
        """
        with self._lock:
            seconds = self._clock()
            trace_id = self.trace_ids.next()
            audit: tuple[ContextState, Caller] | None = None
            try:
                if route.operation.name == "health":
                    return self._run(route, request, ContextState(), _ANONYMOUS, trace_id, seconds)
                check_context_id(route.parameters["context_id"])
                caller = self._authenticate(request, route, seconds)
                state = self._context(route.parameters["context_id"])
                state.advance_documents(seconds)
                state.principals.setdefault(caller.principal, copy_grants(caller.grants))
                audit = (state, caller)
                caller = _delegate(caller, request, state)
                _check_verb(route, caller)
                response = self._run(route, request, state, caller, trace_id, seconds)
            except Problem as problem:
                response = problem.response(
                    instance=request.path, trace_id=trace_id, error_format=self.error_format
                )
                if problem.notes:
                    response = dataclasses.replace(response, notes=problem.notes)
            if audit is not None:
                state, caller = audit
                state.audit.append(
                    StoredAudit(
                        trace_id=trace_id,
                        operation=route.operation.name,
                        kind=audit_kind(route.operation),
                        status=response.status,
                        principal=caller.principal,
                        key_name=caller.key_name,
                        created_at=timestamp(seconds),
                        seconds=seconds,
                    )
                )
            return response

    def _authenticate(self, request: ServiceRequest, route: Route, seconds: float) -> Caller:
        """The caller behind the request's bearer key; else a 401."""
        # Details never repeat the key: it must not reach a log or an error message.
        key = bearer_key(request.header("authorization"))
        if key is None:
            raise Problem(401, "missing API key: send 'Authorization: Bearer <key>'")
        if self._keyring.is_revoked(key):
            raise Problem(401, "this API key was rotated or deleted: use its new secret")
        minted = self._keyring.minted(key)
        if minted is not None:
            caller = self._minted_caller(minted, route, seconds)
        elif self._keyring.configured is None:
            caller = Caller(PRINCIPAL_ID, all_grants())
        elif key in self._keyring.configured:
            caller = Caller(PRINCIPAL_ID, self._keyring.configured[key])
        else:
            raise Problem(401, "unknown API key: the fake accepts only the keys set_api_keys gave")
        return caller

    def _minted_caller(self, minted: tuple[str, str], route: Route, seconds: float) -> Caller:
        context_id, name = minted
        if context_id != route.parameters["context_id"]:
            raise Problem(401, "this API key belongs to another context")
        state = self._contexts[context_id]
        key = state.keys[name]
        if key.expires_at_seconds is not None and seconds >= key.expires_at_seconds:
            raise Problem(401, f"this API key expired at {key.valid_until}")
        state.keys[name] = dataclasses.replace(key, last_used_at=timestamp(seconds))
        return Caller(PRINCIPAL_ID, key.holds, key_name=name, token_grants=key.grants)

    def _run(
        self,
        route: Route,
        request: ServiceRequest,
        state: ContextState,
        caller: Caller,
        trace_id: str,
        seconds: float,
    ) -> ServiceResponse:
        operation = route.operation
        idempotency_key = request.header(IDEMPOTENCY_HEADER) if operation.idempotent else None
        # Replays are kept per principal: one principal's key never answers for another's.
        principal = caller.delegated_to or caller.principal
        replay = (principal, operation.name, idempotency_key) if idempotency_key else None
        digest = hashlib.sha256(request.body).hexdigest()
        if replay is not None and replay in state.replays:
            first_digest, first_answer = state.replays[replay]
            if first_digest != digest:
                raise Problem(
                    409,
                    f"Idempotency-Key {idempotency_key!r} was first sent with a different body: "
                    "a key stands for one request; send a new key with a new body",
                )
            return first_answer
        body, parts, unknown = parse_body(operation, request)
        # The document's schemas allow fields it does not name, and Spectron ignores them: say
        # so on the attempt, as a misspelt field (``dry_run`` for ``dryRun``) changes nothing.
        notes = tuple(unknown_field_note(name) for name in unknown)
        try:
            check_scopes(operation, caller, body, request)
            call = Call(
                operation=operation,
                state=state,
                context_id=route.parameters.get("context_id", ""),
                caller=caller,
                trace_id=trace_id,
                now=timestamp(seconds),
                seconds=seconds,
                ids=self._ids,
                keyring=self._keyring,
                path=route.parameters,
                query=first_values(request.query),
                headers=request.headers,
                body=body,
                parts=parts,
                processing_seconds=self.processing_seconds,
            )
            # The document: "permission gating from the caller's grants always applies". Every
            # handler reads facts, documents and sessions through the context's stores, so
            # gating them gates every read, the passages cut from the documents too.
            with state.seen_by(caller.grants.get(region_verb(operation.name), [])):
                answer = HANDLERS[operation.name](call)
            response = render_answer(operation, answer, trace_id, self.stream_format)
        except Problem as problem:
            problem.notes = notes
            raise
        if notes:
            response = dataclasses.replace(response, notes=notes)
        if replay is not None:
            state.keep_replay(replay, digest, response)
        return response

    # -- Seeding -------------------------------------------------------------------------------

    def add_fact(
        self,
        context_id: str,
        text: str,
        *,
        labels: Iterable[str] = (),
        scopes: ScopeSelector = (),
        session_id: str | None = None,
        memory_category: str = "knowledge",
        role: str = "user",
    ) -> str:
        """Store a free-text fact as if remembered, with its turn in a session.

        :param context_id: the context to store it in.
        :param text: the fact.
        :param labels: the fact's labels.
        :param scopes: a scope selector, in any form the client takes (``"team/a"``…).
        :param session_id: an existing session of the context to add the turn to; None opens
            a new one.
        :param memory_category: ``"identity"``, ``"knowledge"`` or ``"context"``.
        :param role: the turn's role (``"user"``, ``"assistant"``…).
        :raises KeyError: ``session_id`` names no session of the context.
        :raises ValueError: ``scopes`` is no scope selector.
        :return: the fact's id (``fact-000001``…).
        """
        with self._lock:
            state = self._context(context_id)
            now, seconds = self._now()
            frozen = freeze_scopes(scopes)
            try:
                session = _sessions.open_session(state, self._ids, now, session_id, scopes=frozen)
            except Problem as problem:
                raise KeyError(problem.detail) from None
            _, fact = _memory.remember_turn(
                state, self._ids, (now, seconds), session, text,
                role=role, labels=tuple(labels), scopes=frozen, memory_category=memory_category,
            )  # fmt: skip
            return fact.id

    def add_document(
        self,
        context_id: str,
        content: bytes,
        *,
        title: str = "document",
        mime_type: str = "text/plain",
        labels: Iterable[str] = (),
        scopes: ScopeSelector = (),
    ) -> str:
        """Store a document as if uploaded.

        :param context_id: the context to store it in.
        :param content: the document's bytes.
        :param title: its title, also kept as its source.
        :param mime_type: its content type.
        :param labels: its labels.
        :param scopes: a scope selector, in any form the client takes.
        :raises ValueError: ``scopes`` is no scope selector.
        :return: the document's id; the existing one's for identical bytes, which are stored
            once.
        """
        with self._lock:
            state = self._context(context_id)
            document, _ = _uploads.store_document(
                state,
                self._ids,
                self._now(),
                bytes(content),
                title=title,
                mime_type=mime_type,
                source=title,
                labels=tuple(labels),
                scopes=freeze_scopes(scopes),
            )
            return document.id

    def add_key(
        self,
        context_id: str,
        name: str,
        grants: Mapping[str, Iterable[str]] | None = None,
        *,
        ttl_seconds: int | None = None,
    ) -> str:
        """Mint a key in a context, as ``keys.create`` would.

        :param context_id: the context the key belongs to (and only works in).
        :param name: the key's name, unique in the context.
        :param grants: verb → scope patterns the key holds; None: every grant.
        :param ttl_seconds: seconds (on the fake's clock) until the key expires; None: never.
        :raises ValueError: the context has a key of that name already.
        :return: the key's secret, to send as the bearer key.
        """
        with self._lock:
            state = self._context(context_id)
            now, seconds = self._now()
            try:
                key = _identity.mint_key(
                    state,
                    self._ids,
                    self._keyring,
                    context_id,
                    now=now,
                    seconds=seconds,
                    name=name,
                    grants=None if grants is None else copy_grants(grants),
                    holder=all_grants(),
                    ttl_seconds=ttl_seconds,
                )
            except Problem as problem:
                raise ValueError(problem.detail) from None
            return key.secret

    def add_principal(
        self, context_id: str, principal_id: str, grants: Mapping[str, Iterable[str]] | None = None
    ) -> None:
        """Register a principal in a context's directory, or replace its grants.

        :param context_id: the context.
        :param principal_id: the principal's id.
        :param grants: verb → scope patterns; None: no grants.
        """
        with self._lock:
            state = self._context(context_id)
            state.principals[principal_id] = {} if grants is None else copy_grants(grants)

    # -- Inspection ----------------------------------------------------------------------------

    def contexts(self) -> list[str]:
        """The ids of every context that has state, in the order they were first used.

        :return: a new list.
        """
        with self._lock:
            return list(self._contexts)

    def facts(self, context_id: str, *, include_forgotten: bool = False) -> list[StoredFact]:
        """The facts a context remembers, oldest first.

        :param context_id: the context; one never used has none.
        :param include_forgotten: whether to include the soft-forgotten facts too.
        :return: a new list.
        """
        with self._lock:
            state = self._contexts.get(context_id, ContextState())
            return state.facts.all() if include_forgotten else state.facts.live()

    def documents(self, context_id: str) -> list[StoredDocument]:
        """The documents a context holds, oldest first.

        :param context_id: the context; one never used has none.
        :return: a new list.
        """
        with self._lock:
            return self._contexts.get(context_id, ContextState()).documents.every()

    def sessions(self, context_id: str) -> list[StoredSession]:
        """The sessions of a context, with their turns, oldest first.

        :param context_id: the context; one never used has none.
        :return: a new list.
        """
        with self._lock:
            return self._contexts.get(context_id, ContextState()).sessions.every()

    def keys(self, context_id: str) -> list[StoredKey]:
        """The keys minted in a context, oldest first.

        :param context_id: the context; one never used has none.
        :return: a new list; the secrets are included, for a test to authenticate with.
        """
        with self._lock:
            return list(self._contexts.get(context_id, ContextState()).keys.values())

    def traces(self, context_id: str) -> list[StoredTrace]:
        """The traces recall, chat and the other traced verbs left in a context, oldest first.

        :param context_id: the context; one never used has none.
        :return: a new list of the last ``record_limit``.
        """
        with self._lock:
            return self._contexts.get(context_id, ContextState()).traces.every()

    def _now(self) -> tuple[str, float]:
        seconds = self._clock()
        return timestamp(seconds), seconds

    def __repr__(self) -> str:
        return f"<FakeSpectron contexts={self.contexts()!r}>"


_ANONYMOUS = Caller("anonymous", {})


def _delegate(caller: Caller, request: ServiceRequest, state: ContextState) -> Caller:
    """The caller acting for the principal an on-behalf-of header names; 400/403 if it may not.

    The document (``WhoamiJson.effectiveGrants``): "Effective per-verb grants after attenuation
    + delegation. This is what gates every read/write": the call runs with the target's grants,
    narrowed by the key's.
    """
    delegated = delegated_principal(request)
    if delegated is None:
        return caller
    if not caller.may(_DELEGATION_GRANT):
        raise Problem(
            403,
            f"acting on behalf of {delegated!r} needs the {_DELEGATION_GRANT!r} grant, "
            "which this key lacks: send the request without the on-behalf-of header, or "
            "use a key that holds the grant",
        )
    target = state.principals.get(delegated)
    if target is None:
        raise Problem(
            403,
            f"cannot act on behalf of {delegated!r}: no such principal in this context; "
            "register it first (principals.grant, or fake.add_principal when seeding)",
        )
    return dataclasses.replace(caller, grants=narrow(target, caller.grants), delegated_to=delegated)


def _check_verb(route: Route, caller: Caller) -> None:
    """A 403 unless the caller (as delegated) holds the verb the operation needs."""
    needed = OPERATION_GRANTS[route.operation.name]
    if needed is not None and not caller.may(needed):
        whose = "this key" if caller.delegated_to is None else f"{caller.delegated_to!r}"
        raise Problem(403, f"{whose} lacks the {needed!r} grant that {route.operation.name} needs")
