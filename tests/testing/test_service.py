"""The service: faults applied, the fake consulted, every attempt journaled, admin endpoints."""

from __future__ import annotations

import dataclasses
import json
import threading
from typing import Any

import pytest

from pytest_spectron.testing.fake import FakeSpectron
from pytest_spectron.testing.faults._engine import FaultEngine
from pytest_spectron.testing.faults._outcomes import SPEC_GRAMMAR, Status
from pytest_spectron.testing.http._exchange import NetworkFailure, ServiceRequest, ServiceResponse
from pytest_spectron.testing.http._problems import ErrorFormat, TraceIds
from pytest_spectron.testing.http._routing import Route
from pytest_spectron.testing.service._clock import VirtualClock
from pytest_spectron.testing.service._journal import Journal
from pytest_spectron.testing.service._service import (
    FormatsErrors,
    SpectronService,
    UnroutableRequest,
)

FRAMES = (b'data: {"delta": "a"}\n\n', b'data: {"delta": "b"}\n\n', b"data: [DONE]\n\n")


class FakeDouble:
    """Stands in for the fake: answers 200 naming the operation, or an SSE stream for chat."""

    def __init__(self) -> None:
        self.handled: list[str] = []
        self.resets = 0

    def handle(self, route: Route, request: ServiceRequest) -> ServiceResponse:
        """Answer any routed request."""
        self.handled.append(route.operation.name)
        if route.operation.streams and b'"stream": true' in request.body:
            return ServiceResponse(
                200, headers=(("content-type", "text/event-stream"),), events=FRAMES
            )
        body = json.dumps({"operation": route.operation.name}).encode()
        return ServiceResponse(200, headers=(("content-type", "application/json"),), body=body)

    def reset(self) -> None:
        """Count resets."""
        self.resets += 1


class LegacyDouble(FakeDouble):
    """A double that speaks the legacy error format and numbers its answers itself."""

    def __init__(self) -> None:
        super().__init__()
        self.error_format: ErrorFormat = "legacy"
        self.trace_ids = TraceIds()


@pytest.fixture
def fake() -> FakeDouble:
    """A fresh fake double."""
    return FakeDouble()


@pytest.fixture
def service(fake: FakeDouble) -> SpectronService:
    """A service over the double, with its own engine, journal and clock."""
    return SpectronService(fake, faults=FaultEngine(), journal=Journal(), clock=VirtualClock())


def get(path: str = "/api/v1/ctx/state", *, timeout: float | None = 30.0) -> ServiceRequest:
    """A GET request with a bearer key and a read timeout."""
    return ServiceRequest("GET", path, headers={"authorization": "Bearer k"}, timeout=timeout)


def post(path: str, body: object, *, headers: dict[str, str] | None = None) -> ServiceRequest:
    """A POST request with a JSON body."""
    return ServiceRequest(
        "POST",
        path,
        headers={"content-type": "application/json", **(headers or {})},
        body=json.dumps(body).encode(),
    )


def answer(result: ServiceResponse | NetworkFailure) -> ServiceResponse:
    """The result, checked to be an HTTP answer."""
    assert isinstance(result, ServiceResponse), result
    return result


def body(result: ServiceResponse | NetworkFailure) -> Any:
    """The decoded JSON body of an HTTP answer."""
    return json.loads(answer(result).body)


def headers(result: ServiceResponse | NetworkFailure) -> dict[str, str]:
    """The answer's headers as a dict."""
    return dict(answer(result).headers)


# -- Attempts ----------------------------------------------------------------------------------


def test_an_untouched_attempt_reaches_the_fake(service: SpectronService, fake: FakeDouble) -> None:
    """With no fault, the fake answers and the attempt is journaled as its status."""
    assert body(service.dispatch(get())) == {"operation": "state"}
    [attempt] = service.journal.attempts()
    assert (fake.handled, attempt.operation, attempt.retry_class, attempt.outcome) == (
        ["state"],
        "state",
        "read",
        "200",
    )
    assert attempt.fault is None


def test_status_fault_answers_problem_json_instead_of_the_fake(
    service: SpectronService, fake: FakeDouble
) -> None:
    """A status outcome answers RFC 7807 with Retry-After and a trace id; the fake is skipped."""
    service.faults.add("state", Status(429, retry_after=2))
    result = service.dispatch(get())
    problem = body(result)
    assert (answer(result).status, problem["status"], problem["title"]) == (
        429,
        429,
        "Too Many Requests",
    )
    assert headers(result)["content-type"] == "application/json"
    assert headers(result)["retry-after"] == "2"
    assert headers(result)["x-trace-id"] == problem["traceId"]
    assert fake.handled == []


@pytest.mark.parametrize(
    ("retry_after", "member"),
    [
        (2, 2),
        ("7", 7),
        ("Wed, 21 Oct 2026 07:28:00 GMT", "Wed, 21 Oct 2026 07:28:00 GMT"),
    ],
)
def test_retry_after_is_in_the_problem_body_too(
    service: SpectronService, retry_after: float | str, member: float | str
) -> None:
    """``retryAfter`` in the body says what ``Retry-After`` says: seconds as a number.

    The errors guide: "When the server returns 429, read retryAfter from the JavaScript
    RateLimitError or the problem-detail body in Python (SpectronAPIError.body)".
    """
    service.faults.add("state", Status(429, retry_after=retry_after))

    assert body(service.dispatch(get()))["retryAfter"] == member


def test_a_status_without_retry_after_has_no_retry_member(service: SpectronService) -> None:
    """A 429 fault without ``retry_after`` sends neither the header nor ``retryAfter``."""
    service.faults.add("state", Status(429))
    result = service.dispatch(get())

    assert "retryAfter" not in body(result)
    assert "retry-after" not in headers(result)


def test_a_backend_that_formats_errors_shapes_the_fault_answers() -> None:
    """A ``FormatsErrors`` backend: faults answer in its format, from its trace-id sequence."""
    backend = LegacyDouble()
    service = SpectronService(backend)
    service.faults.add("state", Status(503))
    result = service.dispatch(get())
    assert isinstance(backend, FormatsErrors)
    assert list(body(result)) == ["message"]
    assert headers(result)["x-trace-id"] == "trc-000001"


def test_a_plain_backend_gets_the_default_error_format(service: SpectronService) -> None:
    """A backend that is no ``FormatsErrors`` (the double): faults answer the default format."""
    assert not isinstance(service.backend, FormatsErrors)
    service.faults.add("state", Status(503))
    result = service.dispatch(get())
    assert (body(result)["status"], headers(result)["content-type"]) == (503, "application/json")


def test_a_shared_service_shares_all_but_the_unroutable_rule(service: SpectronService) -> None:
    """``sharing(on_unroutable=...)``: same backend, faults, journal and clock, its own rule."""
    strict = service.sharing(on_unroutable="raise")
    assert (strict.backend, strict.faults, strict.journal, strict.clock) == (
        service.backend,
        service.faults,
        service.journal,
        service.clock,
    )
    with pytest.raises(UnroutableRequest):
        strict.dispatch(get("/api/v1/ctx/nowhere"))
    assert answer(service.dispatch(get("/api/v1/ctx/nowhere"))).status == 404
    assert len(service.journal.attempts()) == 2


def test_status_fault_with_custom_body_and_headers(service: SpectronService) -> None:
    """A custom body replaces the problem document; custom headers win over generated ones."""
    service.faults.add(
        "state", Status(503, body="down for maintenance", headers={"Content-Type": "text/x"})
    )
    result = answer(service.dispatch(get()))
    assert (result.body, dict(result.headers)["content-type"]) == (
        b"down for maintenance",
        "text/x",
    )


def test_bodiless_status_has_no_body(service: SpectronService) -> None:
    """A 204 or 304 fault carries no body, as HTTP requires."""
    service.faults.add("state", 204)
    result = answer(service.dispatch(get()))
    assert (result.status, result.body) == (204, b"")


@pytest.mark.parametrize("kind", ["connect", "connect_timeout", "read_timeout", "reset"])
def test_network_fault_is_a_network_failure(service: SpectronService, kind: str) -> None:
    """A network outcome gives no answer; the detail names the fault; status is None."""
    service.faults.add("state", kind)
    result = service.dispatch(get())
    assert isinstance(result, NetworkFailure)
    assert result.kind == kind
    assert f"via state={kind}" in result.detail
    [attempt] = service.journal.attempts()
    assert (attempt.outcome, attempt.status) == (kind, None)


def test_latency_within_the_timeout_delays_then_answers(
    service: SpectronService, fake: FakeDouble
) -> None:
    """Latency moves the virtual clock (not ``.sleeps``) and the fake answers."""
    service.faults.add("state", "latency:2.5")
    assert answer(service.dispatch(get(timeout=5))).status == 200
    assert (service.clock.now, service.clock.sleeps, fake.handled) == (2.5, [], ["state"])
    assert service.journal.attempts()[0].fault == "latency 2.5 s via state=latency:2.5 (#1)"


def test_latency_beyond_the_timeout_is_a_read_timeout(
    service: SpectronService, fake: FakeDouble
) -> None:
    """Past the read timeout the client gets a read timeout after exactly the timeout."""
    service.faults.add("state", "latency:10")
    result = service.dispatch(get(timeout=3))
    assert isinstance(result, NetworkFailure)
    assert result.kind == "read_timeout"
    assert service.clock.now == 3.0
    assert fake.handled == ["state"]
    [attempt] = service.journal.attempts()
    assert attempt.outcome == "read_timeout"
    assert attempt.fault is not None
    assert "beyond the 3 s read timeout" in attempt.fault


def test_latency_without_a_timeout_never_times_out(service: SpectronService) -> None:
    """A request with no read timeout (a streamed chat) just waits, virtually."""
    service.faults.add("state", "latency:600")
    assert answer(service.dispatch(get(timeout=None))).status == 200
    assert service.clock.now == 600.0


def test_html_fault_answers_an_html_error_page(service: SpectronService) -> None:
    """``html`` answers a 502 HTML page, as a proxy would."""
    service.faults.add("state", "html")
    result = answer(service.dispatch(get()))
    assert (result.status, headers(result)["content-type"]) == (502, "text/html; charset=utf-8")
    assert b"<title>502 Bad Gateway</title>" in result.body


def test_truncated_json_fault_answers_a_cut_document(service: SpectronService) -> None:
    """``truncated_json`` answers 200 with a JSON body that does not parse."""
    service.faults.add("state", "truncated_json")
    result = answer(service.dispatch(get()))
    assert (result.status, result.body[:1]) == (200, b"{")
    with pytest.raises(json.JSONDecodeError, match=r"Unterminated string|Expecting"):
        json.loads(result.body)


def test_empty_fault_answers_no_body(service: SpectronService) -> None:
    """``empty`` answers 200 with a JSON content type and no body; the status is overridable."""
    service.faults.add("state", "empty", "empty:503")
    first, second = answer(service.dispatch(get())), answer(service.dispatch(get()))
    assert [(first.status, first.body), (second.status, second.body)] == [(200, b""), (503, b"")]


def test_streamed_chat_is_in_the_stream_class(service: SpectronService) -> None:
    """A chat with ``"stream": true`` matches ``stream`` faults; a plain chat does not."""
    service.faults.add("stream", 503)
    plain = service.dispatch(post("/api/v1/ctx/chat", {"message": "hi"}))
    streamed = service.dispatch(post("/api/v1/ctx/chat", {"message": "hi", "stream": True}))
    assert (answer(plain).status, answer(streamed).status) == (200, 503)
    assert [a.retry_class for a in service.journal.attempts()] == ["write", "stream"]


def test_stream_cut_cuts_an_sse_answer(service: SpectronService) -> None:
    """``stream_cut:N`` keeps the fake's frames and marks the cut; the outcome is ``stream_cut``."""
    service.faults.add("chat", "stream_cut:1")
    result = answer(service.dispatch(post("/api/v1/ctx/chat", {"message": "hi", "stream": True})))
    assert (result.events, result.cut_after) == (FRAMES, 1)
    assert service.journal.attempts()[0].outcome == "stream_cut"


def test_stream_cut_on_a_plain_answer_is_not_applied(service: SpectronService) -> None:
    """On an answer that is not a stream the cut is spent, answered in full, and says so."""
    service.faults.add("chat", "stream_cut:1", times=1)
    result = answer(service.dispatch(post("/api/v1/ctx/chat", {"message": "hi"})))
    [attempt] = service.journal.attempts()
    assert (result.cut_after, attempt.outcome) == (None, "200")
    assert attempt.fault is not None
    assert attempt.fault.endswith("not applied, the answer was not a stream")


def test_every_attempt_is_journaled_once_with_what_the_client_saw(
    service: SpectronService,
) -> None:
    """A script's attempts appear once each, in order, with their outcomes."""
    service.faults.add("state", 503, "reset", "ok")
    for _ in range(4):
        service.dispatch(get())
    assert [a.outcome for a in service.journal.attempts()] == ["503", "reset", "200", "200"]
    assert [a.number for a in service.journal.attempts()] == [1, 2, 3, 4]


def test_attempt_time_is_the_virtual_arrival_time(service: SpectronService) -> None:
    """Each attempt is stamped with the clock's time when it arrived."""
    service.faults.add("state", "latency:1", times=1)
    service.dispatch(get())
    service.clock.sleep(0.25)
    service.dispatch(get())
    assert [a.time for a in service.journal.attempts()] == [0.0, 1.25]


def test_unroutable_request_raises_in_raise_mode(fake: FakeDouble) -> None:
    """With ``on_unroutable="raise"`` an AssertionError names the nearest operations."""
    service = SpectronService(fake, on_unroutable="raise")
    with pytest.raises(UnroutableRequest) as caught:
        service.dispatch(get("/api/v1/ctx/stat"))
    assert isinstance(caught.value, AssertionError)
    assert "state (GET /api/v1/{context_id}/state)" in str(caught.value)
    assert "state" in caught.value.nearest
    [attempt] = service.journal.attempts()
    assert (attempt.operation, attempt.outcome) == (None, "404")


def test_unknown_on_unroutable_value_is_rejected(fake: FakeDouble) -> None:
    """``on_unroutable`` accepts only "answer" or "raise"."""
    with pytest.raises(ValueError, match="'answer' or 'raise'"):
        SpectronService(fake, on_unroutable="ignore")  # type: ignore[arg-type]


def test_concurrent_dispatch_keeps_faults_and_journal_consistent(
    service: SpectronService,
) -> None:
    """Many threads: a limited fault applies exactly N times and numbers stay 1..total."""
    service.faults.add("state", 503, times=50)

    def worker() -> None:
        for _ in range(40):
            service.dispatch(get())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    attempts = service.journal.attempts()
    assert [a.number for a in attempts] == list(range(1, 321))
    assert sum(a.outcome == "503" for a in attempts) == 50


# -- Admin endpoints ---------------------------------------------------------------------------


def test_admin_journal_lists_attempts_and_is_not_journaled(service: SpectronService) -> None:
    """``GET /__spectron/journal`` returns the attempts; admin calls are not attempts."""
    service.dispatch(get())
    data = body(service.dispatch(get("/__spectron/journal")))
    assert [attempt["operation"] for attempt in data["attempts"]] == ["state"]
    assert len(service.journal.attempts()) == 1


def test_admin_post_fault_spec_applies_it(service: SpectronService) -> None:
    """``POST /__spectron/faults`` with a spec adds the fault; attempts then fail."""
    created = service.dispatch(post("/__spectron/faults", {"spec": "state=503x2"}))
    assert answer(created).status == 201
    assert [fault["spec"] for fault in body(created)["faults"]] == ["state=503x2"]
    statuses = [answer(service.dispatch(get())).status for _ in range(3)]
    assert statuses == [503, 503, 200]


def test_admin_post_accepts_a_list_of_fault_objects(service: SpectronService) -> None:
    """A list of fault objects adds them all, in order."""
    faults = [
        {"target": "state", "outcomes": [{"status": 502}], "times": 1},
        {"spec": "whoami=reset"},
    ]
    result = service.dispatch(post("/__spectron/faults", faults))
    assert [fault["spec"] for fault in body(result)["added"]] == ["state=502x1", "whoami=reset"]


def test_admin_post_bad_fault_is_422_and_adds_nothing(service: SpectronService) -> None:
    """One bad fault in the body: a 422 problem, the grammar as a list of lines, nothing added."""
    result = service.dispatch(post("/__spectron/faults", [{"spec": "state=503"}, {"spec": "x"}]))
    problem = body(result)
    assert (answer(result).status, headers(result)["content-type"]) == (
        422,
        "application/json",
    )
    assert "\n" not in problem["detail"]
    assert "expected OP=SPEC" in problem["detail"]
    assert problem["grammar"] == SPEC_GRAMMAR.splitlines()
    assert service.faults.faults() == []


def test_admin_post_non_json_is_422(service: SpectronService) -> None:
    """A body that is not JSON is a 422 problem saying so."""
    request = ServiceRequest("POST", "/__spectron/faults", body=b"state=503")
    result = service.dispatch(request)
    assert answer(result).status == 422
    assert "the body is not JSON" in body(result)["detail"]


def test_admin_post_spec_with_non_ascii_digits_is_422(service: SpectronService) -> None:
    """``state=503x²``: ``²`` is no count; a 422 problem showing the grammar, not a 500."""
    result = service.dispatch(post("/__spectron/faults", {"spec": "state=503x²"}))
    assert answer(result).status == 422
    assert "'503x²' is not a fault outcome" in body(result)["detail"]


def test_admin_delete_faults_clears_them(service: SpectronService) -> None:
    """``DELETE /__spectron/faults`` removes every fault."""
    service.faults.add("state", 503)
    assert len(service.faults.faults()) == 1
    result = service.dispatch(ServiceRequest("DELETE", "/__spectron/faults"))
    assert (body(result), service.faults.faults()) == ({"faults": []}, [])


def test_admin_get_faults_lists_active_ones(service: SpectronService) -> None:
    """``GET /__spectron/faults`` lists the active faults."""
    service.faults.add("state", 503, times=2)
    [fault] = body(service.dispatch(get("/__spectron/faults")))["faults"]
    assert (fault["spec"], fault["remaining"]) == ("state=503x2", 2)


def test_admin_reset_resets_state_faults_journal_and_clock(
    service: SpectronService, fake: FakeDouble
) -> None:
    """``POST /__spectron/reset`` starts everything afresh."""
    service.faults.add("state", "latency:1")
    service.dispatch(get())
    service.clock.sleep(1)
    assert (len(service.faults.faults()), len(service.journal.attempts())) == (1, 1)
    assert (service.clock.now, service.clock.sleeps) == (2.0, [1])
    result = service.dispatch(ServiceRequest("POST", "/__spectron/reset"))
    assert body(result) == {"reset": ["state", "faults", "journal", "clock"]}
    assert (fake.resets, service.faults.faults(), service.journal.attempts()) == (1, [], [])
    assert (service.clock.now, service.clock.sleeps) == (0.0, [])


def test_admin_unknown_endpoint_is_404_listing_the_endpoints(service: SpectronService) -> None:
    """An unknown admin path answers 404 naming every admin endpoint."""
    result = service.dispatch(get("/__spectron/jurnal"))
    assert answer(result).status == 404
    assert "GET /__spectron/journal" in body(result)["detail"]


def test_admin_wrong_method_is_405_with_allow(service: SpectronService) -> None:
    """A known admin path with the wrong method answers 405 and an Allow header."""
    result = service.dispatch(get("/__spectron/reset"))
    assert (answer(result).status, headers(result)["allow"]) == (405, "POST")


# -- With the real fake ------------------------------------------------------------------------


@pytest.fixture
def clock() -> VirtualClock:
    """The virtual clock the real fake and its service share."""
    return VirtualClock()


@pytest.fixture
def real_fake(clock: VirtualClock) -> FakeSpectron:
    """The real FakeSpectron, on the virtual clock."""
    return FakeSpectron(clock=lambda: clock.now)


@pytest.fixture
def real(real_fake: FakeSpectron, clock: VirtualClock) -> SpectronService:
    """A service over the real fake."""
    return SpectronService(real_fake, clock=clock)


def test_unroutable_request_gets_the_fakes_404_in_answer_mode(real: SpectronService) -> None:
    """By default an unroutable request is answered by the fake's 404 problem and journaled."""
    result = real.dispatch(get("/api/v1/ctx/stat"))
    assert (answer(result).status, body(result)["nearest"][0]) == (404, "state")
    [attempt] = real.journal.attempts()
    assert (attempt.operation, attempt.retry_class, attempt.outcome) == (None, None, "404")


def test_wrong_method_gets_the_fakes_405(real: SpectronService) -> None:
    """A known path with the wrong method is answered 405 with Allow."""
    result = real.dispatch(ServiceRequest("DELETE", "/api/v1/ctx/state"))
    assert (answer(result).status, headers(result)["allow"]) == (405, "GET")


def test_json_nested_too_deep_is_a_400_and_not_journaled(real: SpectronService) -> None:
    """A 100,000-deep JSON body gets a 400 problem (not a RecursionError 500), unjournaled."""
    deep = b"[" * 100_000 + b"]" * 100_000
    request = dataclasses.replace(post("/api/v1/ctx/facts", {}), body=deep)
    result = real.dispatch(request)
    assert answer(result).status == 400
    assert "more than 200 levels deep" in body(result)["detail"]
    assert real.journal.attempts() == []


def test_brackets_inside_json_strings_do_not_nest(
    real: SpectronService, real_fake: FakeSpectron
) -> None:
    """Brackets inside a string are text: a fact made of 1000 ``[`` is stored."""
    request = post("/api/v1/ctx/facts", {"text": "[" * 1000}, headers={"authorization": "Bearer k"})
    assert answer(real.dispatch(request)).status == 200
    assert [fact.text for fact in real_fake.facts("ctx")] == ["[" * 1000]


def test_faulted_remember_stores_nothing_and_the_retry_stores_once(
    real: SpectronService, real_fake: FakeSpectron
) -> None:
    """A status fault never reaches the fake; the retry under the same key stores one fact."""
    real.faults.add("remember", 503, times=1)
    request = post(
        "/api/v1/ctx/facts",
        {"text": "Alice likes tea"},
        headers={"authorization": "Bearer k", "idempotency-key": "key-1"},
    )
    statuses = [answer(real.dispatch(request)).status for _ in range(3)]
    assert statuses == [503, 200, 200]
    assert len(real_fake.facts("ctx")) == 1


def test_timed_out_remember_was_still_stored(
    real: SpectronService, real_fake: FakeSpectron
) -> None:
    """Latency past the timeout: the client sees a timeout, but the slow server did the work."""
    real.faults.add("remember", "latency:60", times=1)
    request = dataclasses.replace(
        post("/api/v1/ctx/facts", {"text": "slow fact"}, headers={"authorization": "Bearer k"}),
        timeout=30.0,
    )
    result = real.dispatch(request)
    assert (isinstance(result, NetworkFailure), len(real_fake.facts("ctx"))) == (True, 1)


def test_admin_reset_empties_the_real_fake(real: SpectronService, real_fake: FakeSpectron) -> None:
    """``POST /__spectron/reset`` forgets the fake's stored facts."""
    real.dispatch(post("/api/v1/ctx/facts", {"text": "x"}, headers={"authorization": "Bearer k"}))
    assert ([fact.text for fact in real_fake.facts("ctx")], len(real.journal.attempts())) == (
        ["x"],
        1,
    )
    real.dispatch(ServiceRequest("POST", "/__spectron/reset"))
    assert (real_fake.facts("ctx"), real.journal.attempts()) == ([], [])
