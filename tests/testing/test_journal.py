"""The attempt journal: what it keeps of each attempt, and how it shows them."""

from __future__ import annotations

import json
import threading

import httpx
import pytest

from pytest_spectron.testing.http._exchange import ServiceRequest
from pytest_spectron.testing.service._journal import Attempt, Journal, describe_body

SECRET = "sk-very-secret-key"


def request(
    method: str = "GET",
    path: str = "/api/v1/ctx/state",
    *,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    query: tuple[tuple[str, str], ...] = (),
) -> ServiceRequest:
    """A service request with a bearer key, plus any other headers."""
    return ServiceRequest(
        method,
        path,
        query=query,
        headers={"authorization": f"Bearer {SECRET}", **(headers or {})},
        body=body,
    )


def record(journal: Journal, service_request: ServiceRequest, **fields: object) -> Attempt:
    """Record an attempt with defaults for every field not given."""
    values: dict[str, object] = {
        "operation": "state",
        "retry_class": "read",
        "outcome": "200",
        "status": 200,
        "fault": None,
        "time": 0.0,
    }
    values.update(fields)
    return journal.record(service_request, **values)  # type: ignore[arg-type]


def test_attempts_are_numbered_in_arrival_order() -> None:
    """Each recorded attempt gets the next number, starting at 1."""
    journal = Journal()
    numbers = [record(journal, request()).number for _ in range(3)]
    assert numbers == [1, 2, 3]


def test_authorization_is_redacted_everywhere() -> None:
    """The key appears in no field, repr, ledger or JSON; the header reads ``Bearer ***``."""
    journal = Journal()
    attempt = record(journal, request())
    assert attempt.headers["authorization"] == "Bearer ***"
    shown = repr(attempt) + journal.ledger() + json.dumps(journal.to_json())
    assert SECRET not in shown


def test_header_names_are_lower_case() -> None:
    """Header names are kept in lower case whatever the transport sent."""
    attempt = record(Journal(), request(headers={"X-Custom": "1"}))
    assert attempt.headers["x-custom"] == "1"


def test_idempotency_key_is_captured() -> None:
    """The Idempotency-Key header is lifted into its own field."""
    attempt = record(Journal(), request("POST", headers={"idempotency-key": "abc"}))
    assert attempt.idempotency_key == "abc"


def test_json_body_is_decoded() -> None:
    """A JSON body is kept as the decoded value."""
    body = describe_body({"content-type": "application/json"}, b'{"text": "tea"}')
    assert body == {"text": "tea"}


def test_text_body_is_kept_as_text() -> None:
    """A text body is kept as a str."""
    assert describe_body({"content-type": "text/plain"}, b"hello") == "hello"


def test_binary_body_is_kept_as_bytes() -> None:
    """A body that is neither JSON nor text stays bytes."""
    assert describe_body({"content-type": "application/pdf"}, b"%PDF\x00") == b"%PDF\x00"


def test_empty_body_is_none() -> None:
    """No body at all is recorded as None."""
    assert describe_body({"content-type": "application/json"}, b"") is None


def test_multipart_body_is_described() -> None:
    """An upload is summarised part by part, not stored."""
    built = httpx.Request(
        "POST",
        "http://x/upload",
        files=[
            ("metadata", (None, b'{"a":1}', "application/json")),
            ("file", ("notes.txt", b"hello world", "text/plain")),
        ],
    )
    described = describe_body(dict(built.headers), built.read())
    assert described == (
        "<multipart: metadata (application/json, 7 bytes), file 'notes.txt' (text/plain, 11 bytes)>"
    )


def test_attempts_filter_by_operation() -> None:
    """``attempts(op)`` keeps one operation's attempts, in order."""
    journal = Journal()
    record(journal, request())
    record(journal, request("GET", "/api/v1/ctx/whoami"), operation="whoami")
    record(journal, request())
    assert [a.number for a in journal.attempts("state")] == [1, 3]


def test_clear_forgets_and_restarts_numbering() -> None:
    """After ``clear`` the journal is empty and numbers start again at 1."""
    journal = Journal()
    record(journal, request())
    assert [attempt.number for attempt in journal.attempts()] == [1]
    journal.clear()
    assert (journal.attempts(), record(journal, request()).number) == ([], 1)


def test_ledger_is_a_readable_table() -> None:
    """The ledger aligns number, operation, request, outcome, fault, time and short key."""
    journal = Journal()
    record(journal, request(query=(("k", "3"),)), outcome="503", status=503, fault="HTTP 503")
    record(
        journal,
        request("POST", "/api/v1/ctx/facts", headers={"idempotency-key": "0123456789abcdef"}),
        operation="remember",
        retry_class="idempotent_write",
        outcome="reset",
        status=None,
        fault="connection reset by peer",
        time=0.25,
    )
    record(journal, request("GET", "/api/v1/ctx/nope"), operation=None, outcome="404", time=0.75)
    assert journal.ledger().splitlines() == [
        "#  operation     request                    outcome  fault                     t (s)  "
        "idempotency key",
        "1  state         GET /api/v1/ctx/state?k=3  503      HTTP 503                  0.00   -",
        "2  remember      POST /api/v1/ctx/facts     reset    connection reset by peer  0.25   "
        "01234567…",
        "3  (unroutable)  GET /api/v1/ctx/nope       404      -                         0.75   -",
    ]


def test_ledger_of_an_empty_journal_says_so() -> None:
    """An empty journal renders a placeholder, not an empty string."""
    assert Journal().ledger() == "(no attempts)"


def test_to_json_lists_attempts_and_encodes_bytes() -> None:
    """The admin view is JSON-ready; a binary body goes as base64."""
    journal = Journal()
    record(journal, request("POST", headers={"content-type": "image/png"}, body=b"\x89PNG"))
    [attempt] = journal.to_json()["attempts"]
    assert (attempt["number"], attempt["body"], attempt["body_encoding"]) == (
        1,
        "iVBORw==",
        "base64",
    )
    json.dumps(journal.to_json())


def test_concurrent_records_get_distinct_numbers() -> None:
    """Attempts recorded from many threads are numbered 1..N without gaps or repeats."""
    journal = Journal()

    def worker() -> None:
        for _ in range(100):
            record(journal, request())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.number for a in journal.attempts()] == list(range(1, 801))


def test_a_journal_keeps_at_most_its_limit_dropping_the_oldest() -> None:
    """Past ``limit``, the oldest attempts go; numbering goes on and ``dropped`` counts them."""
    journal = Journal(limit=3)
    for _ in range(5):
        journal.record(
            ServiceRequest("GET", "/api/v1/c/state"),
            operation="state",
            retry_class="read",
            outcome="200",
            status=200,
            fault=None,
            time=0.0,
        )
    assert [attempt.number for attempt in journal.attempts()] == [3, 4, 5]
    assert (journal.dropped, journal.to_json()["dropped"], journal.to_json()["limit"]) == (2, 2, 3)


@pytest.mark.parametrize("limit", [0, -1, True, 2.5])
def test_a_bad_journal_limit_is_refused(limit: object) -> None:
    """A limit is an int of 1 or more, or None for no limit."""
    with pytest.raises((TypeError, ValueError), match="limit must be"):
        Journal(limit=limit)  # type: ignore[arg-type]


def failing(journal: Journal, service_request: ServiceRequest, outcome: str = "503") -> Attempt:
    """Record an attempt of ``state`` that failed with ``outcome``."""
    status = int(outcome) if outcome.isdigit() else None
    return record(journal, service_request, outcome=outcome, status=status)


def test_a_retry_keeps_the_number_of_the_call_it_repeats() -> None:
    """A read that failed with a 5xx or a network error, then the same request: one call."""
    journal = Journal()
    failing(journal, request())
    failing(journal, request(), "connect")
    record(journal, request())
    record(journal, request())
    assert [attempt.call for attempt in journal.attempts()] == [1, 1, 1, 2]


def test_calls_are_numbered_per_operation() -> None:
    """Each operation counts its own calls; another operation's attempts in between are no call."""
    journal = Journal()
    record(journal, request())
    record(journal, request("GET", "/api/v1/ctx/whoami"), operation="whoami")
    failing(journal, request())
    record(journal, request())
    assert [(a.operation, a.call) for a in journal.attempts()] == [
        ("state", 1),
        ("whoami", 1),
        ("state", 2),
        ("state", 2),
    ]


@pytest.mark.parametrize(
    ("first", "then", "fields"),
    [
        (request(), request(query=(("limit", "2"),)), {}),
        (request("POST", body=b"a"), request("POST", body=b"b"), {}),
        (request(), request(), {"retry_class": "write"}),
    ],
    ids=["other-query", "other-body", "class-sent-once"],
)
def test_a_new_call_after_a_failure_is_not_a_retry(
    first: ServiceRequest, then: ServiceRequest, fields: dict[str, object]
) -> None:
    """Another request, or one of a class sent once, starts the next call even after a 503."""
    journal = Journal()
    record(journal, first, outcome="503", status=503, **fields)
    assert record(journal, then, **fields).call == 2


def test_a_request_after_a_4xx_or_a_cut_stream_is_a_new_call() -> None:
    """The policy retries no 4xx and no cut stream: what follows them is another call."""
    journal = Journal()
    failing(journal, request(), "429")
    record(journal, request(), outcome="stream_cut", status=200)
    third = record(journal, request())
    assert [attempt.call for attempt in journal.attempts()] == [1, 2, 3]
    assert third.to_json()["call"] == 3


def test_call_of_says_where_the_next_attempt_belongs_and_clear_restarts() -> None:
    """``call_of`` answers before the attempt is recorded; ``clear`` starts at call 1 again."""
    journal = Journal()
    failing(journal, request())
    assert journal.call_of("state", "read", request()) == 1
    assert journal.call_of("state", "read", request(query=(("a", "b"),))) == 2
    assert journal.call_of(None, None, request()) == 1
    journal.clear()
    assert record(journal, request()).call == 1


def test_headers_are_read_by_any_case() -> None:
    """``attempt.headers["Authorization"]`` reads as httpx.Headers does; the key stays redacted."""
    attempt = record(Journal(), request(headers={"X-Custom": "1"}))
    assert attempt.headers["Authorization"] == "Bearer ***"
    assert attempt.headers["X-CUSTOM"] == attempt.headers.get("x-custom") == "1"
    assert SECRET not in repr(attempt.headers)
