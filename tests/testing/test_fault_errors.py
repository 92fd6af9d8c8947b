"""A fault declared wrongly is refused with a message that says what to write instead."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from pytest_spectron.testing import Fault, FaultEngine, FaultError, SpectronMock, parse_fault_spec
from pytest_spectron.testing.faults._declare import fault_from_json
from pytest_spectron.testing.faults._outcomes import (
    SPEC_GRAMMAR,
    Latency,
    Malformed,
    Network,
    Status,
    StreamCut,
)
from pytest_spectron.testing.http._exchange import ServiceRequest


def test_a_request_path_as_target_names_the_operation_it_routes_to() -> None:
    """``/api/v1/ctx/facts`` is answered by ``remember``: the error says to name it instead."""
    with pytest.raises(FaultError, match="that is the route of the operation 'remember'"):
        Fault("/api/v1/ctx/facts", 503)


def test_a_route_with_the_wrong_method_falls_back_to_the_nearest_name() -> None:
    """No operation answers ``DELETE …/state``; the suggestion comes from the name instead."""
    with pytest.raises(FaultError, match="did you mean 'state'") as raised:
        Fault("DELETE /api/v1/ctx/state", 503)
    assert "that is the route" not in str(raised.value)


def test_an_unknown_path_suggests_the_nearest_operation() -> None:
    """A path under the API that routes nowhere suggests the operation whose route is closest."""
    with pytest.raises(FaultError, match=r"is not a Spectron operation.*did you mean '"):
        Fault("/api/v1/ctx/nothing/here", 503)


def test_a_path_near_nothing_gets_no_suggestion() -> None:
    """A path like no route at all lists what a target may be, and suggests nothing."""
    with pytest.raises(FaultError) as raised:
        Fault("/zzz", 503)
    assert str(raised.value).endswith(
        "a retry class (read, idempotent_write, write, stream) or '*'"
    )


def test_a_script_longer_than_the_limit_is_refused() -> None:
    """Ten thousand attempts is the most one script may cover, however its outcomes are given."""
    Fault("state", "503x10000")
    with pytest.raises(FaultError, match="the script covers more than 10000 attempts"):
        Fault("state", "503x10000", 503)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"rate": 0.5, "seed": "1"}, "seed must be an int, got '1'"),
        ({"rate": 0.5, "seed": True}, "seed must be an int, got True"),
        ({"seed": 1}, "seed only goes with rate"),
        ({"when": 3}, "when must be a callable, got 3"),
        ({"optional": "yes"}, "optional must be True or False, got 'yes'"),
    ],
)
def test_bad_fault_options_are_refused(options: dict[str, object], message: str) -> None:
    """Each option of a fault is checked as it is declared, and the error names it."""
    with pytest.raises(FaultError, match=f"fault 'state': {message}"):
        Fault("state", 503, **options)  # type: ignore[arg-type]


def test_a_predicate_fault_shows_its_predicate_by_name() -> None:
    """``when=only_posts`` shows in the fault's spec and description under the function's name."""

    def only_posts(request: ServiceRequest) -> bool:
        return request.method == "POST"

    fault = Fault("state", 503, when=only_posts)
    assert fault.spec() == "state=503 when only_posts"
    assert fault.describe().startswith("state=503 when only_posts")


def test_the_engine_repr_counts_its_active_faults() -> None:
    """``repr(engine)`` says how many faults still fire; a used-up one no longer counts."""
    engine = FaultEngine()
    engine.add("state", 503, times=1)
    engine.add("remember", 500)
    assert repr(engine) == "<FaultEngine active=2>"
    engine.pick("state", "read", ServiceRequest("GET", "/api/v1/ctx/state"))
    assert repr(engine) == "<FaultEngine active=1>"


def test_a_spec_that_is_not_a_string_is_refused() -> None:
    """``parse_fault_spec(42)`` says a spec is a string, and shows the grammar."""
    with pytest.raises(FaultError, match="a spec is a string, got int") as raised:
        parse_fault_spec(42)  # type: ignore[arg-type]
    assert "FAULT   := TARGET" in str(raised.value)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"target": "state", "outcomes": 503}, '"outcomes" must be a list, got 503'),
        (
            {"target": "state", "outcomes": [503], "when": "x"},
            '"when" takes a Python predicate; JSON cannot carry one',
        ),
    ],
)
def test_bad_fault_objects_are_refused(data: dict[str, object], message: str) -> None:
    """The admin API's fault objects: outcomes come as a list, and no predicate fits in JSON."""
    with pytest.raises(FaultError, match=message):
        fault_from_json(data)


@pytest.mark.parametrize("latency", [float("inf"), float("nan")])
def test_an_endless_latency_is_refused(latency: float) -> None:
    """``fail("state", latency=inf)`` would never answer: a finite number of seconds is needed."""
    with (
        SpectronMock() as mock,
        pytest.raises(FaultError, match=r"(?i)latency must be a finite number of seconds"),
    ):
        mock.fail("state", latency=latency)


def test_an_unknown_error_format_lists_the_formats() -> None:
    """``fail(..., error_format="xml")`` names the formats a fault's error body may take."""
    with (
        SpectronMock() as mock,
        pytest.raises(FaultError, match="error_format must name an error format, got 'xml'"),
    ):
        mock.fail("state", status=503, error_format="xml")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Status(100), "Status: 100 is not a final HTTP status 200-599: a 1xx status is"),
        (lambda: Status(199), "Status: 199 is not a final HTTP status 200-599: a 1xx status is"),
        (lambda: Status(True), "Status: True is not a final HTTP status 200-599"),
        (
            lambda: Status(503, format="html"),  # type: ignore[arg-type]
            "Status format must name an error format, got 'html'",
        ),
        (
            lambda: Status(503, retry_after=-1),
            "Status retry_after must be a finite number of seconds, 0 or more",
        ),
        (
            lambda: Status(503, retry_after=True),
            "Status retry_after must be a number of seconds (an int or a float)",
        ),
        (lambda: Status(503, body=3), "Status body must be a dict, str or bytes, got 3"),  # type: ignore[arg-type]
        (lambda: Network("bogus"), "Network kind 'bogus' is not one of"),
        (lambda: Malformed("bogus"), "Malformed kind 'bogus' is not one of"),
        (lambda: Malformed("html", status=99), "Malformed status: 99 is not a final HTTP status"),
        (lambda: Latency(0), "Latency must be a finite number of seconds, above 0, got 0"),
        (lambda: StreamCut(-1), "StreamCut after must be a frame count >= 0, got -1"),
        (lambda: StreamCut(True), "StreamCut after must be a frame count >= 0, got True"),
    ],
)
def test_each_outcome_refuses_a_bad_value_by_name(make: Callable[[], object], message: str) -> None:
    """Each outcome's error starts with the outcome and the argument, and says what fits."""
    with pytest.raises(FaultError) as raised:
        make()
    assert str(raised.value).startswith(message)


def test_a_status_above_599_is_not_called_interim() -> None:
    """600 is refused as no final status, without the 1xx explanation."""
    with pytest.raises(FaultError) as raised:
        Status(600)
    assert str(raised.value) == "Status: 600 is not a final HTTP status 200-599"


def test_the_edges_of_each_outcome_are_accepted() -> None:
    """A zero Retry-After, a cut before any frame, and statuses 200 and 599 are fine."""
    tokens = [Status(503, retry_after=0).token(), StreamCut(0).token()]
    assert [*tokens, Status(200).token(), Status(599).token()] == [
        "503:0",
        "stream_cut:0",
        "200",
        "599",
    ]


def test_a_spec_error_carries_the_grammar_apart() -> None:
    """A spec's FaultError holds its detail and the grammar separately, for the admin API."""
    with pytest.raises(FaultError) as raised:
        parse_fault_spec("state")
    assert raised.value.grammar == SPEC_GRAMMAR
    assert raised.value.detail == "bad fault spec 'state': expected OP=SPEC, as in state=503x2"


def test_a_target_that_is_not_a_string_gets_no_hint() -> None:
    """``Fault(42, ...)`` lists what a target may be and ends there, with no suggestion."""
    with pytest.raises(FaultError) as raised:
        Fault(42, 503)  # type: ignore[arg-type]
    assert str(raised.value) == (
        "fault target 42 is not a Spectron operation, a retry class "
        "(read, idempotent_write, write, stream) or '*'"
    )


def test_a_malformed_body_at_its_default_status_is_spelled_by_kind_alone() -> None:
    """``Malformed("html")`` spells ``html``; with a status, ``html:503``."""
    assert (Malformed("html").token(), Malformed("html", status=503).token()) == (
        "html",
        "html:503",
    )


@pytest.mark.parametrize(
    ("target", "hint"),
    [
        ("GET /api/v1/ctx/state", "that is the route of the operation 'state': name it instead"),
        ("/api/v1/ctx/query", "that is the route of the operation 'recall': name it instead"),
        (
            "delete /api/v1/ctx/sessions/s1",
            "that is the route of the operation 'sessions.delete': name it instead",
        ),
        (
            "/api/v1/ctx/sessions/s1",
            "that is the route of the operation 'sessions.delete': name it instead",
        ),
        ("/api/v1/ctx/state?page=2", "that is the route of the operation 'state': name it instead"),
        ("/api/v1/ctx/stat", "did you mean 'state'?"),
        ("POST /api/v1/ctx/stat", "did you mean 'chat'?"),  # the nearest POST route
        (
            "/api/v1/ctx/documents/d1",
            "that is the route of the operations 'documents.get', 'documents.reprocess', "
            "'documents.delete': name one instead",
        ),
    ],
    ids=[
        "method-and-path",
        "post-only",
        "lower-case-method",
        "delete-only",
        "query",
        "near",
        "near-post",
        "several-methods",
    ],
)
def test_a_route_given_as_target_names_its_operation(target: str, hint: str) -> None:
    """A route or a request path (any method case, a query string) suggests its operation."""
    with pytest.raises(FaultError) as refused:
        Fault(target, 503)
    assert str(refused.value).endswith(f"or '*'; {hint}")


@pytest.mark.parametrize("call", [0, -1, "2", 1.0, True])
def test_call_must_be_a_positive_int(call: Any) -> None:
    """``call`` counts an operation's calls from 1; anything else is refused, saying so."""
    with pytest.raises(FaultError, match=r"call must be an int of 1 or more \(the how-manieth"):
        Fault("state", 503, call=call)


def test_call_one_is_the_first_call() -> None:
    """``call=1`` is accepted: the smallest call there is."""
    assert Fault("state", 503, call=1).call == 1
