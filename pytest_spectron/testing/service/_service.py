"""The service every transport serves: routing, faults, a backend and the journal.

For each attempt it routes the request to an operation, asks the fault engine for an outcome,
lets the backend answer unless the outcome replaces the answer, records the attempt exactly once
(with what the client will see) and hands back an answer or a network failure. The backend is
the fake, or (live mode) a ``Forwarder`` that relays to a real Spectron: the same faults and
journal stand in front of either. The service knows its backend only through the protocols
below; requests to the admin endpoints go to ``_admin``.
"""

from __future__ import annotations

import dataclasses
import json
import re
import threading
from typing import Literal, Protocol, cast, runtime_checkable

from pytest_spectron.client._catalogue import Operation, RetryClass
from pytest_spectron.testing.faults._answers import malformed_response, status_response
from pytest_spectron.testing.faults._engine import FaultEngine, Injection
from pytest_spectron.testing.faults._outcomes import (
    PASS,
    Latency,
    Malformed,
    Network,
    Status,
    StreamCut,
)
from pytest_spectron.testing.http._exchange import (
    NetworkFailure,
    NetworkFailureKind,
    ServiceRequest,
    ServiceResponse,
)
from pytest_spectron.testing.http._problems import (
    DEFAULT_ERROR_FORMAT,
    ErrorFormat,
    TraceIds,
    new_trace_id,
    not_routed_response,
    problem_response,
)
from pytest_spectron.testing.http._routing import NoRoute, Route, route
from pytest_spectron.testing.service._admin import AdminEndpoints, is_admin_path
from pytest_spectron.testing.service._clock import VirtualClock
from pytest_spectron.testing.service._journal import Journal

__all__ = [
    "MAX_JSON_DEPTH",
    "ClientWouldHang",
    "FakeBackend",
    "FormatsErrors",
    "Forwarder",
    "OnUnroutable",
    "SpectronService",
    "UnroutableRequest",
    "retry_class_of",
]

MAX_JSON_DEPTH = 200
"""Deepest nesting of arrays and objects a JSON request body may have. Python's ``json`` recurses
once per level and raises ``RecursionError`` near 1000; pydantic stops at about 200, so a deeper
body could never be a valid Spectron request anyway."""
OnUnroutable = Literal["answer", "raise"]
_JSON_START = re.compile(rb"[ \t\r\n]*[\[{]")
_JSON_NESTING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)
"""A JSON string (skipped whole, brackets inside it do not nest) or one bracket."""


class FakeBackend(Protocol):
    """What the service needs of its backend: answer a routed request, and forget everything."""

    def handle(self, route: Route, request: ServiceRequest) -> ServiceResponse | NetworkFailure:
        """The backend's answer to one routed request (a forwarder's may be a network failure)."""
        ...

    def reset(self) -> None:
        """Back to an empty state."""
        ...


@runtime_checkable
class Forwarder(FakeBackend, Protocol):
    """A backend that relays to another Spectron (live mode).

    It answers requests no operation matches too (a newer Spectron may know them), keeps its
    state upstream (``reset`` leaves it alone), and waits on the network, so attempts are not
    serialised behind one another.
    """

    def forward(self, request: ServiceRequest) -> ServiceResponse | NetworkFailure:
        """The upstream's answer to any request, routed or not; a network failure where the
        client's own timeout ran out first."""
        ...


@runtime_checkable
class FormatsErrors(Protocol):
    """A backend whose error format and trace ids the service's own answers share.

    Faults and refused requests then look like the backend's own errors, numbered from the
    same sequence (``FakeSpectron`` and ``UpstreamBackend`` are such backends). A backend that is
    not gets the default format and trace ids from the process's sequence.
    """

    error_format: ErrorFormat
    trace_ids: TraceIds


class UnroutableRequest(AssertionError):
    """A request to the fake matches no Spectron operation: a test bug, never retried away.

    Raised where the application sent the request, under ``strict`` (the plugin's default); the
    message names the nearest operations.

    :ivar method: the request's method.
    :ivar path: the request's path.
    :ivar nearest: names of the catalogue operations closest to the request.
    """

    def __init__(self, error: NoRoute) -> None:
        self.method = error.method
        self.path = error.path
        self.nearest = [operation.name for operation in error.nearest]
        super().__init__(
            f"{error.describe()}. The Spectron fake answers only the operations of "
            "pytest_spectron.CATALOGUE; check the method and path your code sends."
        )


class ClientWouldHang(AssertionError):
    """A timeout fault met a client that has no read timeout: in production it would hang.

    A silent Spectron does not make such a client time out; it waits forever. Raised where the
    application sent the request, after journaling the attempt.

    :ivar operation: the operation the request called.
    """

    def __init__(self, operation: str, fault: str) -> None:
        self.operation = operation
        super().__init__(
            f"{operation}: the fault {fault} makes Spectron fall silent, but this client has no "
            "read timeout (it was built with timeout=None): in production it would hang "
            "forever, never raise a timeout. Give the client a timeout (Spectron(..., "
            "timeout=30), or httpx.Timeout(30) on your own httpx client)."
        )


class SpectronService:
    """A backend behind the fault engine and attempt journal, as every transport serves it.

    The backend is the fake (``FakeSpectron``) or a ``Forwarder`` to a real Spectron
    (``UpstreamBackend``). ``on_unroutable="raise"`` makes a request no operation answers raise
    ``UnroutableRequest`` (after journaling it) instead of answering the fake's 404/405 problem
    or forwarding it.

    :param backend: what answers routed requests: a ``FakeSpectron``, or a ``Forwarder``.
    :param faults: the fault engine to consult; a new one if None.
    :param journal: the journal to record in; a new one if None.
    :param clock: the virtual clock latency advances; a new one if None.
    :param on_unroutable: ``"answer"`` or ``"raise"``, as above.
    :raises ValueError: ``on_unroutable`` is neither.
    """

    def __init__(
        self,
        backend: FakeBackend,
        *,
        faults: FaultEngine | None = None,
        journal: Journal | None = None,
        clock: VirtualClock | None = None,
        on_unroutable: OnUnroutable = "answer",
    ) -> None:
        if on_unroutable not in ("answer", "raise"):
            raise ValueError(f"on_unroutable must be 'answer' or 'raise', got {on_unroutable!r}")
        self.backend = backend
        self.faults = FaultEngine() if faults is None else faults
        self.journal = Journal() if journal is None else journal
        self.clock = VirtualClock() if clock is None else clock
        self.on_unroutable: OnUnroutable = on_unroutable
        # One attempt at a time: the fault picked, the fake's state and the journal's order
        # stay consistent when the loopback server dispatches from many threads. Nothing in
        # the fake waits for real, so serialising costs nothing. A forwarder waits on the
        # network: its attempts run side by side (the engine, journal and clock lock
        # themselves), and each is journaled when the upstream's answer starts.
        self._lock = threading.RLock()
        self._forwarder = backend if isinstance(backend, Forwarder) else None
        self._styled = backend if isinstance(backend, FormatsErrors) else None
        self._admin = AdminEndpoints(self)
        self.raised: list[AssertionError] = []
        """The errors raised where the application sent a request (``UnroutableRequest``,
        ``ClientWouldHang``), oldest first: the plugin fails a passing test whose code caught
        one."""

    def sharing(self, *, on_unroutable: OnUnroutable) -> SpectronService:
        """A service over the same backend, faults, journal and clock, with its own unroutable rule.

        The two take turns, as one service's attempts do: the in-process mock and its loopback
        server serve one fake this way.

        :param on_unroutable: ``"answer"`` or ``"raise"``, for the new service.
        :raises ValueError: ``on_unroutable`` is neither.
        :return: the new service.
        """
        twin = SpectronService(
            self.backend,
            faults=self.faults,
            journal=self.journal,
            clock=self.clock,
            on_unroutable=on_unroutable,
        )
        twin._lock = self._lock
        twin.raised = self.raised
        return twin

    @property
    def fake(self) -> FakeBackend:
        """The backend (the name from before a backend could forward)."""
        return self.backend

    @property
    def forwards(self) -> bool:
        """Whether the backend forwards to an upstream Spectron (live mode)."""
        return self._forwarder is not None

    @property
    def error_format(self) -> ErrorFormat:
        """The format of the errors answered here: the backend's (``FakeSpectron.error_format``)."""
        return DEFAULT_ERROR_FORMAT if self._styled is None else self._styled.error_format

    def new_trace_id(self) -> str:
        """The next trace id of the backend's sequence: faults and the fake's answers share one.

        :return: such as ``trc-000007``.
        """
        return new_trace_id() if self._styled is None else self._styled.trace_ids.next()

    def dispatch(self, request: ServiceRequest) -> ServiceResponse | NetworkFailure:
        """Answer one attempt (admin requests are answered and not journaled).

        A body nested deeper than ``MAX_JSON_DEPTH`` is refused with a 400 before anything reads
        it (not journaled: the journal decodes JSON bodies too).

        :param request: the request, as a transport read it.
        :raises UnroutableRequest: under ``on_unroutable="raise"``, for a request no operation
            answers (journaled first).
        :return: the answer, or the network failure a fault chose, for the transport to enact.
        """
        if _nested_too_deep(request.body):
            return problem_response(
                400,
                f"the request body nests JSON arrays and objects more than {MAX_JSON_DEPTH} "
                "levels deep; no Spectron request does: send a flatter document",
                error_format=self.error_format,
                instance=request.path,
                trace_id=self.new_trace_id(),
            )
        if request.outside_prefix is not None:
            return problem_response(
                404,
                f"{request.path} is not under {request.outside_prefix}, the path prefix this "
                f"Spectron is mounted under (as behind a gateway): every request, the admin "
                f"endpoints' too, goes to a path under it; end the client's endpoint in "
                f"{request.outside_prefix}",
                error_format=self.error_format,
                instance=request.path,
                trace_id=self.new_trace_id(),
            )
        if self._forwarder is not None and not is_admin_path(request.path):
            return self._attempt(request)
        with self._lock:
            if is_admin_path(request.path):
                return self._admin.answer(request)
            return self._attempt(request)

    def reset(self) -> None:
        """Forget the fake's state, every fault, the journal, and rewind the clock.

        A forwarder's state is left alone: it lives in the upstream Spectron.
        """
        with self._lock:
            self.backend.reset()
            self.faults.clear()
            self.journal.clear()
            self.clock.reset()
            self.raised.clear()

    # -- Attempts ------------------------------------------------------------------------------

    def _attempt(self, request: ServiceRequest) -> ServiceResponse | NetworkFailure:
        started = self.clock.now
        try:
            matched = route(request.method, request.path)
        except NoRoute as error:
            if self._forwarder is not None and self.on_unroutable == "answer":
                forwarded = self._forwarder.forward(request)
                self._record(request, forwarded, None, None, fault=None, time=started)
                return forwarded
            not_routed = not_routed_response(
                error, error_format=self.error_format, trace_id=self.new_trace_id()
            )
            self._record(request, not_routed, None, None, fault=None, time=started)
            if self.on_unroutable == "raise":
                unroutable = UnroutableRequest(error)
                self.raised.append(unroutable)
                raise unroutable from None
            return not_routed
        operation = matched.operation
        retry_class = retry_class_of(operation, request)
        call = self.journal.call_of(operation.name, retry_class, request)
        injection = self.faults.pick(operation.name, retry_class, request, call=call)
        answer, fault = self._answer(injection, matched, request)
        self._record(
            request, answer, operation.name, retry_class, fault=fault, time=started, call=call
        )
        if (
            isinstance(answer, NetworkFailure)
            and answer.kind == "read_timeout"
            and request.waits_forever
            and injection is not None
        ):
            hang = ClientWouldHang(operation.name, injection.fault.spec())
            self.raised.append(hang)
            raise hang
        return answer

    def _record(
        self,
        request: ServiceRequest,
        answer: ServiceResponse | NetworkFailure,
        operation: str | None,
        retry_class: RetryClass | None,
        *,
        fault: str | None,
        time: float,
        call: int | None = None,
    ) -> None:
        """Journal one attempt with what the client sees of ``answer``."""
        outcome: str
        status: int | None
        if isinstance(answer, NetworkFailure):
            outcome, status = answer.kind, None
        elif answer.cut_after is not None:
            outcome, status = "stream_cut", answer.status
        else:
            outcome, status = str(answer.status), answer.status
        self.journal.record(
            request,
            operation=operation,
            retry_class=retry_class,
            outcome=outcome,
            status=status,
            fault=fault,
            time=time,
            notes=() if isinstance(answer, NetworkFailure) else answer.notes,
            call=call,
        )

    def _answer(
        self, injection: Injection | None, matched: Route, request: ServiceRequest
    ) -> tuple[ServiceResponse | NetworkFailure, str | None]:
        """The answer to one routed attempt, and the fault applied in words."""
        if injection is None or injection.outcome is PASS:
            return self.backend.handle(matched, request), None
        outcome = injection.outcome
        described = injection.describe()
        if isinstance(outcome, Status):
            return status_response(
                outcome,
                operation=matched.operation.name,
                request=request,
                error_format=self.error_format,
                trace_id=self.new_trace_id(),
            ), described
        if isinstance(outcome, Malformed):
            return malformed_response(
                outcome, error_format=self.error_format, trace_id=self.new_trace_id()
            ), described
        if isinstance(outcome, Network):
            kind = cast(NetworkFailureKind, outcome.kind)
            if kind == "read_timeout" and request.waits_forever:
                described += ": the client has no read timeout, it would hang"
            elif kind == "read_timeout" and request.timeout is not None:
                # Spectron is silent for as long as the client waits: its read timeout.
                self.clock.advance(request.timeout)
            return NetworkFailure(kind, f"pytest-spectron fault: {described}"), described
        if isinstance(outcome, Latency):
            timeout = request.timeout
            if timeout is not None and outcome.seconds > timeout:
                # The server is slow, not down: it does the work, the client stops waiting.
                self.clock.advance(timeout)
                late = self.backend.handle(matched, request)
                if isinstance(late, ServiceResponse):
                    late.close()
                described += f", beyond the {timeout:g} s read timeout"
                detail = f"pytest-spectron fault: {described}"
                return NetworkFailure("read_timeout", detail), described
            self.clock.advance(outcome.seconds)
            return self.backend.handle(matched, request), described
        assert isinstance(outcome, StreamCut)
        answer = self.backend.handle(matched, request)
        if isinstance(answer, NetworkFailure):
            return answer, f"{described}: not applied, the request failed first"
        # A cut that cuts nothing is no failure: the fault is reported unused (Fault.missed).
        if not answer.streams:
            why = "the answer was not a stream"
            self.faults.missed(injection, f"{why} (a stream_cut needs chat(stream=True))")
            return answer, f"{described}: not applied, {why}"
        # One frame past the cut must exist, or the stream ends there anyway.
        frames = answer.frames_ahead(outcome.after + 1)
        if frames <= outcome.after:
            why = f"the stream had {frames} frames"
            self.faults.missed(injection, f"{why}, none after frame {outcome.after}")
            return answer, f"{described}: not applied, {why}"
        return dataclasses.replace(answer, cut_after=outcome.after), described


def retry_class_of(operation: Operation, request: ServiceRequest) -> RetryClass:
    """The retry class the client's policy gives this request (``stream`` for a streamed chat)."""
    if operation.streams:
        try:
            body = json.loads(request.body) if request.body else None
        except ValueError:
            body = None
        if isinstance(body, dict) and body.get("stream") is True:
            return "stream"
    return operation.retry_class


def _nested_too_deep(body: bytes) -> bool:
    """Whether ``body`` is JSON whose arrays and objects nest deeper than ``MAX_JSON_DEPTH``.

    Read without recursion, and only for a body that starts like a JSON array or object (a
    multipart upload starts with its boundary): its bytes may hold any brackets.
    """
    if not _JSON_START.match(body):
        return False
    if body.count(b"[") + body.count(b"{") <= MAX_JSON_DEPTH:
        return False  # the common case, counted at C speed
    depth = 0
    for match in _JSON_NESTING.finditer(body):
        token = match[0]
        if token in (b"[", b"{"):
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return True
        elif token in (b"]", b"}"):
            depth -= 1
    return False
