"""The fault engine: outcomes, scripts, stacking, rates, and the SPEC grammar."""

from __future__ import annotations

import functools
import operator
import pickle
import random
import re
import threading
from typing import Any

import pytest

from pytest_spectron.client._catalogue import RetryClass
from pytest_spectron.testing._mock import SpectronMock
from pytest_spectron.testing.faults._declare import build_fault, fault_from_json, parse_fault_spec
from pytest_spectron.testing.faults._engine import FaultEngine
from pytest_spectron.testing.faults._fault import Fault
from pytest_spectron.testing.faults._grammar import parse_outcome
from pytest_spectron.testing.faults._outcomes import (
    PASS,
    SPEC_GRAMMAR,
    FaultError,
    Latency,
    Malformed,
    Network,
    Outcome,
    Status,
    StreamCut,
)
from pytest_spectron.testing.http._exchange import ServiceRequest

STATE = ServiceRequest("GET", "/api/v1/ctx/state")


def picks(engine: FaultEngine, operation: str = "state", count: int = 5) -> list[Outcome | None]:
    """The outcomes of ``count`` successive attempts of a read operation."""
    retry_class: RetryClass = "write" if operation == "forget" else "read"
    found = [engine.pick(operation, retry_class, STATE) for _ in range(count)]
    return [None if injection is None else injection.outcome for injection in found]


# -- Outcomes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (503, Status(503)),
        ("503", Status(503)),
        ("429:2", Status(429, retry_after=2)),
        ("ok", PASS),
        ("connect", Network("connect")),
        ("connect_timeout", Network("connect_timeout")),
        ("read_timeout", Network("read_timeout")),
        ("timeout", Network("read_timeout")),
        ("reset", Network("reset")),
        ("latency:2.5", Latency(2.5)),
        ("truncated_json", Malformed("truncated_json")),
        ("html", Malformed("html")),
        ("html:500", Malformed("html", 500)),
        ("empty", Malformed("empty")),
        ("stream_cut", StreamCut(0)),
        ("stream_cut:2", StreamCut(after=2)),
        ({"status": 503, "retry_after": 1}, Status(503, retry_after=1)),
        ({"error": "reset"}, Network("reset")),
        ({"error": "timeout"}, Network("read_timeout")),
        ({"latency": 1.5}, Latency(1.5)),
        ({"malformed": "empty", "status": 204}, Malformed("empty", 204)),
        ({"stream_cut": 3}, StreamCut(3)),
        (Latency(1), Latency(1)),
        (PASS, PASS),
    ],
)
def test_parse_outcome_accepts_every_spelling(value: object, expected: Outcome) -> None:
    """Shorthand, SPEC tokens, JSON objects and outcome objects all parse to the same outcome."""
    assert parse_outcome(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("rest", "'rest' is not a fault outcome; did you mean 'reset'?"),
        ("banana", "'banana' is not a fault outcome. Accepted: a final HTTP status"),
        (700, "700 is not a final HTTP status 200-599"),
        (101, "101 is not a final HTTP status 200-599: a 1xx status is an interim answer"),
        (True, "True is not a fault outcome"),
        ("latency", "latency needs seconds, as in 'latency:2.5'"),
        ("latency:soon", "expected seconds, got 'soon'"),
        ("reset:2", "'reset' takes no ':' argument"),
        ({"status": 503, "error": "reset"}, "an outcome with 'error' accepts only error"),
        ({"retry_after": 1}, "must have exactly one of the keys"),
        ({"status": 503, "retry_afer": 1}, "unknown key(s) retry_afer"),
        ({"error": "rest"}, "did you mean 'reset'?"),
        ({"latency": -1}, "Latency must be a finite number of seconds, above 0"),
        (2.5, "2.5 is not a fault outcome"),
        ("²", "'²' is not a fault outcome"),
        ("stream_cut:²", "expected a frame count (digits 0-9), got '²'"),
        ("html:\uff15\uff10\uff12", "expected an HTTP status (digits 0-9)"),
        ("latency:٢", "expected seconds, got '٢'"),
        ("latency:1_0", "expected seconds, got '1_0'"),
        ("429:1e999", "expected Retry-After seconds, got '1e999'"),
        ("429:2.5", "retry_after must be whole seconds (RFC 9110's Retry-After is digits"),
    ],
)
def test_parse_outcome_rejects_with_a_clear_message(value: object, message: str) -> None:
    """Each bad value names what was given, and what is accepted or nearest."""
    with pytest.raises(FaultError) as caught:
        parse_outcome(value)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Status(99), "99 is not a final HTTP status 200-599"),
        (lambda: Status(100), "a 1xx status is an interim answer"),
        (
            lambda: Status(503, retry_after=-1),
            "retry_after must be a finite number of seconds, 0 or more",
        ),
        (lambda: Status(429, retry_after=0.5), "retry_after must be whole seconds"),
        (lambda: Status(503, headers={"a": 1}), "headers must map str to str"),  # type: ignore[dict-item]
        (lambda: Network("rest"), "did you mean 'reset'?"),
        (lambda: Latency(0), "seconds, above 0"),
        (lambda: Malformed("xml"), "is not one of truncated_json, html, empty"),
        (lambda: Malformed("html", 42), "42 is not a final HTTP status"),
        (lambda: StreamCut(-1), "frame count >= 0"),
    ],
)
def test_outcome_objects_validate_their_fields(build: Any, message: str) -> None:
    """A value object with a wrong field fails when built."""
    with pytest.raises(FaultError, match=re.escape(message)):
        build()


def test_malformed_default_statuses() -> None:
    """Truncated and empty bodies default to 200, an HTML page to 502."""
    statuses = [Malformed(kind).effective_status for kind in ("truncated_json", "empty", "html")]
    assert statuses == [200, 200, 502]


def test_outcome_json_round_trips() -> None:
    """``to_json`` of every outcome parses back to the same outcome."""
    outcomes: list[Outcome] = [
        Status(429, retry_after=2, body={"detail": "slow down"}, headers={"x-a": "b"}),
        Network("connect_timeout"),
        Latency(0.5),
        Malformed("truncated_json", 503),
        StreamCut(4),
        PASS,
    ]
    assert [parse_outcome(outcome.to_json()) for outcome in outcomes] == outcomes


# -- Scripts -----------------------------------------------------------------------------------


def test_a_script_runs_in_order_then_the_fake_answers() -> None:
    """Several outcomes apply once each, in order; then no fault applies."""
    engine = FaultEngine()
    engine.add("state", "connect", 503)
    assert picks(engine) == [Network("connect"), Status(503), None, None, None]


def test_a_spent_script_never_raises() -> None:
    """Asking long after a script ran out keeps answering None, never StopIteration."""
    engine = FaultEngine()
    engine.add("state", 503, 503)
    assert picks(engine, count=100)[2:] == [None] * 98


def test_one_outcome_without_times_applies_to_every_attempt() -> None:
    """A single outcome with no ``times`` is a persistent fault."""
    engine = FaultEngine()
    engine.add("state", 500)
    assert picks(engine, count=50) == [Status(500)] * 50


def test_times_limits_a_single_outcome() -> None:
    """``times=N`` applies one outcome to the next N attempts only."""
    engine = FaultEngine()
    engine.add("state", 503, times=2)
    assert picks(engine, count=3) == [Status(503), Status(503), None]


def test_times_repeats_a_whole_script() -> None:
    """``times=N`` with several outcomes runs the script N times."""
    engine = FaultEngine()
    engine.add("state", 503, "reset", times=2)
    assert picks(engine) == [Status(503), Network("reset")] * 2 + [None]


def test_ok_step_lets_one_attempt_through() -> None:
    """``"ok"`` in a script is consumed by an attempt the fake answers."""
    engine = FaultEngine()
    engine.add("state", 503, "ok", 502)
    assert picks(engine, count=4) == [Status(503), PASS, Status(502), None]


def test_faults_stack_first_added_first() -> None:
    """The first matching fault with outcomes left applies; spent faults fall through."""
    engine = FaultEngine()
    engine.add("state", 503, times=1)
    engine.add("read", "reset", times=1)
    engine.add("*", 500, times=1)
    assert picks(engine, count=4) == [Status(503), Network("reset"), Status(500), None]


def test_targets_match_operation_retry_class_or_everything() -> None:
    """A fault on another operation or class is skipped; ``*`` matches all."""
    engine = FaultEngine()
    engine.add("whoami", 502)
    engine.add("write", 503)
    assert picks(engine, "state", 1) == [None]
    assert picks(engine, "forget", 1) == [Status(503)]
    engine.add("*", 500)
    assert picks(engine, "state", 1) == [Status(500)]


def test_when_predicate_narrows_the_attempts() -> None:
    """A ``when`` predicate is consulted with the request; False lets the attempt through."""
    engine = FaultEngine()
    engine.add("read", 503, when=lambda request: request.path.endswith("/whoami"))
    whoami = ServiceRequest("GET", "/api/v1/ctx/whoami")
    assert engine.pick("state", "read", STATE) is None
    injection = engine.pick("whoami", "read", whoami)
    assert injection is not None
    assert injection.outcome == Status(503)


def test_call_narrows_a_fault_to_one_call_and_its_retries() -> None:
    """``call=2`` fails every attempt of the operation's second call, and no other."""
    engine = FaultEngine()
    fault = engine.add("state", 503, call=2)
    found = [engine.pick("state", "read", STATE, call=call) for call in (1, 2, 2, 3)]
    assert [None if injection is None else injection.outcome for injection in found] == [
        None,
        Status(503),
        Status(503),
        None,
    ]
    assert (fault.spec(), fault.to_json()["call"]) == ("state=503 call 2", 2)
    assert fault_from_json({"target": "state", "outcomes": [503], "call": 2}).call == 2


def test_a_call_fault_fails_the_nth_call_of_a_client() -> None:
    """Through the service, the journal's numbering: the second ``state`` call and its retries."""
    with SpectronMock() as mock, mock.client() as client:
        mock.fail("state", 503, times=1, call=2)
        client.state()
        client.state()
        client.state()
        assert [(a.call, a.outcome) for a in mock.attempts()] == [
            (1, "200"),
            (2, "503"),
            (2, "200"),
            (3, "200"),
        ]


def test_rate_with_seed_is_reproducible() -> None:
    """The same rate and seed fail the same attempts on every run."""

    def pattern(seed: int) -> list[bool]:
        engine = FaultEngine()
        engine.add("state", 503, rate=0.5, seed=seed)
        return [outcome is not None for outcome in picks(engine, count=40)]

    assert pattern(7) == pattern(7)
    assert pattern(7) != pattern(8)
    assert 8 < sum(pattern(7)) < 32


def test_rate_miss_falls_through_to_the_next_fault() -> None:
    """When a rated fault does not fire, the next matching fault is considered."""
    engine = FaultEngine()
    engine.add("state", 503, rate=0.5, seed=1)
    engine.add("state", "reset")
    outcomes = picks(engine, count=30)
    assert set(outcomes) == {Status(503), Network("reset")}


@pytest.mark.parametrize(
    ("arguments", "keywords", "message"),
    [
        (("stat", 503), {}, "did you mean 'state'"),
        (("state",), {}, "give at least one outcome"),
        (("state", 503), {"times": 0}, "times must be an int of 1 or more"),
        (("state", 503), {"rate": 1.5}, "rate must be a probability in (0, 1]"),
        (("state", 503), {"seed": 3}, "seed only goes with rate"),
    ],
)
def test_bad_add_arguments_are_rejected(
    arguments: tuple[Any, ...], keywords: dict[str, Any], message: str
) -> None:
    """Targets, counts, rates and seeds are checked when a fault is added; nothing is added."""
    engine = FaultEngine()
    with pytest.raises(FaultError) as caught:
        engine.add(*arguments, **keywords)
    assert message in str(caught.value)
    assert engine.faults() == []


@pytest.mark.parametrize(
    "keywords",
    [
        {"times": "2"},
        {"times": 0},
        {"times": True},
        {"rate": 0.5, "seed": 1.5},
        {"seed": 3},
        {"optional": "yes"},
    ],
    ids=["times-str", "times-zero", "times-bool", "seed-float", "seed-alone", "optional-str"],
)
def test_build_fault_leaves_the_schedule_to_fault(keywords: dict[str, Any]) -> None:
    """A bad ``times``, ``rate``, ``seed`` or ``optional`` gets Fault's one message either way."""
    with pytest.raises(FaultError) as direct:
        Fault("state", 503, **keywords)
    with pytest.raises(FaultError) as built:
        build_fault("state", 503, **keywords)
    assert str(built.value) == str(direct.value)


def test_build_fault_names_a_bad_target_once() -> None:
    """An unknown target is reported by ``Fault``, with the nearest name, through build_fault."""
    with pytest.raises(FaultError) as built:
        build_fault("stat", status=503)
    assert str(built.value).count("did you mean 'state'") == 1


def test_describe_lists_active_faults_and_clear_removes_them() -> None:
    """``describe`` shows each live fault with what is left; ``clear`` empties the engine."""
    engine = FaultEngine()
    engine.add("state", 503, times=2)
    engine.add("remember", "connect", 503)
    engine.add("*", "latency:1.5")
    picks(engine, count=1)
    assert engine.describe() == (
        "state=503x2 (1 of 2 left)\nremember=connect,503 (2 of 2 left)\n"
        "*=latency:1.5 (every attempt)"
    )
    engine.clear()
    assert engine.describe() == "(no active faults)"


def test_injection_describes_outcome_and_fault() -> None:
    """The journal's fault text names the outcome, the fault and the step."""
    engine = FaultEngine()
    engine.add("state", Status(429, retry_after=2), times=2)
    injection = engine.pick("state", "read", STATE)
    assert injection is not None
    assert injection.describe() == "HTTP 429, Retry-After: 2 via state=429:2x2 (1/2)"


def test_concurrent_picks_apply_each_outcome_once() -> None:
    """Picks from many threads consume a limited fault exactly ``times`` times."""
    engine = FaultEngine()
    engine.add("state", 503, times=100)
    applied: list[int] = []

    def worker() -> None:
        applied.extend(1 for outcome in picks(engine, count=50) if outcome is not None)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(applied) == 100


# -- The SPEC grammar and JSON -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "script", "total"),
    [
        ("state=503x2", [Status(503)], 2),
        ("state=503", [Status(503)], None),
        ("remember=connect,503,ok", [Network("connect"), Status(503), PASS], 3),
        ("*=latency:2.5", [Latency(2.5)], None),
        ("chat=stream_cut:2", [StreamCut(2)], None),
        ("read=503@0.3", [Status(503)], None),
        ("read=503@0.3~7", [Status(503)], None),
        ("state=429:2x3", [Status(429, retry_after=2)], 3),
        ("write=html:500x2,empty", [Malformed("html", 500)] * 2 + [Malformed("empty")], 3),
        ("documents.upload=timeout", [Network("read_timeout")], None),
        (" state = 503 x2 ", [Status(503)], 2),
    ],
)
def test_spec_grammar_accepts(spec: str, script: list[Outcome], total: int | None) -> None:
    """Valid specs become a fault with the expected script and attempt count."""
    fault = parse_fault_spec(spec)
    assert (list(fault.script), fault.total) == (script, total)


def test_spec_rate_and_seed_are_read() -> None:
    """``@RATE~SEED`` sets the fault's rate and seed."""
    fault = parse_fault_spec("read=503@0.3~7")
    assert (fault.rate, fault.seed) == (0.3, 7)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("state", "expected OP=SPEC"),
        ("stat=503", "did you mean 'state'"),
        ("state=", "empty step"),
        ("state=503,,503", "empty step"),
        ("state=rest", "did you mean 'reset'"),
        ("state=503x0", "the count after 'x' must be 1 to 10000, got 0"),
        ("state=503x10001", "the count after 'x' must be 1 to 10000, got 10001"),
        ("state=503x999999999,ok", "the count after 'x' must be 1 to 10000"),
        ("state=" + ",".join(["503x5000"] * 3), "the steps cover more than 10000 attempts"),
        ("state=503x²", "'503x²' is not a fault outcome"),
        ("state=503x" + "9" * 5000, "is not a fault outcome"),
        ("state=503@0.5~²", "expected an int seed (digits 0-9), got '²'"),
        ("state=700", "700 is not a final HTTP status"),
        ("state=503@2", "rate must be a probability in (0, 1]"),
        ("state=503@often", "expected a probability"),
        ("state=503@0.5~x", "expected an int seed"),
        ("state=503~3", "'~SEED' only follows '@RATE'"),
        ("state=latency", "latency needs seconds"),
    ],
)
def test_spec_grammar_rejects_with_the_grammar(spec: str, message: str) -> None:
    """A bad spec fails with what went wrong and the whole grammar."""
    with pytest.raises(FaultError) as caught:
        parse_fault_spec(spec)
    assert message in str(caught.value)
    assert str(caught.value).endswith(SPEC_GRAMMAR)


@pytest.mark.parametrize(
    "spec",
    ["state=503x2", "remember=connect,503x2,ok", "*=latency:2.5", "read=503@0.3~7", "chat=ok"],
)
def test_spec_round_trips(spec: str) -> None:
    """A parsed spec renders back to the same text."""
    assert parse_fault_spec(spec).spec() == spec


def test_fault_from_json_takes_a_spec_or_an_object() -> None:
    """Both JSON forms build the same fault."""
    by_spec = fault_from_json({"spec": "state=503x2"})
    by_object = fault_from_json({"target": "state", "outcomes": [503], "times": 2})
    assert by_spec.spec() == by_object.spec() == "state=503x2"


def test_fault_json_round_trips() -> None:
    """``to_json`` of a fault parses back to an equivalent fault."""
    fault = Fault("remember", "connect", {"status": 429, "retry_after": 1}, rate=0.5, seed=2)
    assert fault_from_json(fault.to_json()).spec() == fault.spec()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "a fault must be a JSON object"),
        ({}, 'needs either "spec"'),
        ({"spec": 3}, '"spec" must be a string'),
        ({"target": "state", "outcomes": 503}, '"outcomes" must be a list'),
        (
            {"target": "state", "outcomes": [503], "tims": 2},
            "unknown keyword 'tims'; did you mean 'times'? Accepted:",
        ),
        ({"target": "state", "status": 503, "times": 2}, ""),
        ({"target": "state", "outcomes": [503], "times": "2"}, "times must be an int"),
    ],
)
def test_fault_from_json_rejects_bad_objects(data: object, message: str) -> None:
    """Each bad fault object is a FaultError saying what is wrong."""
    if not message:  # the marker's keyword form is accepted in JSON too
        assert fault_from_json(data).spec() == "state=503x2"
        return
    with pytest.raises(FaultError) as caught:
        fault_from_json(data)
    assert message in str(caught.value)


# -- What mutation testing found untested ------------------------------------------------------


def test_a_fault_is_required_unless_marked_optional() -> None:
    """A fault built by hand is not optional: unused, it is reported by ``unused()``."""
    engine = FaultEngine()
    required = engine.add_fault(Fault("state", 503))
    engine.add_fault(Fault("whoami", 503, optional=True))
    assert (required.optional, engine.unused()) == (False, [required])


@pytest.mark.parametrize("rate", [0, 0.0, -0.1, 1.01, True])
def test_a_rate_outside_zero_to_one_is_refused(rate: object) -> None:
    """The rate is a probability in (0, 1]: 0, below 0, above 1 and a bool are refused."""
    with pytest.raises(FaultError, match="rate must be a probability in"):
        Fault("state", 503, rate=rate)  # type: ignore[arg-type]


def test_a_rate_of_one_applies_to_every_attempt() -> None:
    """``rate=1`` is accepted, and never passes an attempt by."""
    engine = FaultEngine()
    engine.add("state", 503, rate=1)
    assert picks(engine, count=20) == [Status(503)] * 20


def test_the_default_seed_is_zero() -> None:
    """Without ``seed``, a rate draws from ``random.Random(0)``: the same attempts as seed 0."""
    draws = random.Random(0)
    expected = [Status(503) if draws.random() < 0.5 else None for _ in range(30)]
    for options in ({}, {"seed": 0}):
        engine = FaultEngine()
        engine.add("state", 503, rate=0.5, **options)  # type: ignore[arg-type]
        assert picks(engine, count=30) == expected


def test_the_spec_names_a_seed_only_when_given() -> None:
    """``read=503@0.3`` without a seed, ``read=503@0.3~7`` with one."""
    assert Fault("read", 503, rate=0.3).spec() == "read=503@0.3"
    assert Fault("read", 503, rate=0.3, seed=7).spec() == "read=503@0.3~7"


def test_a_predicate_without_a_name_is_shown_by_its_repr() -> None:
    """A ``when`` with no ``__name__`` (a partial) appears in the spec as its repr."""
    predicate = functools.partial(operator.is_not, None)
    fault = Fault("state", 503, when=predicate)
    assert fault.spec() == f"state=503 when {predicate!r}"


def test_every_matching_attempt_counts_once_in_matched() -> None:
    """``matched`` counts each matching attempt, applied or passed by; others are not counted."""
    fault = Fault("state", 503)
    for _ in range(3):
        fault.take("state", "read", STATE)
    fault.take("whoami", "read", STATE)
    assert fault.matched == 3


def test_an_unlimited_fault_numbers_its_steps_without_a_total() -> None:
    """The journal shows an every-attempt fault's step as ``#N``, a limited one's as ``N/T``."""
    engine = FaultEngine()
    engine.add("state", 503)
    first, second = (engine.pick("state", "read", STATE) for _ in range(2))
    assert first is not None
    assert second is not None
    assert second.describe() == "HTTP 503 via state=503 (#2)"
    limited = FaultEngine()
    limited.add("state", 503, times=2)
    injection = limited.pick("state", "read", STATE)
    assert injection is not None
    assert injection.describe() == "HTTP 503 via state=503x2 (1/2)"


def test_add_spec_adds_the_fault_it_reads() -> None:
    """``add_spec`` parses the spec and adds that fault, which it returns."""
    engine = FaultEngine()
    fault = engine.add_spec("state=503x2")
    assert (fault.spec(), engine.faults()) == ("state=503x2", [fault])


def test_clear_of_one_target_leaves_the_others() -> None:
    """``clear("read")`` removes the ``read`` faults and keeps a ``state`` one."""
    engine = FaultEngine()
    kept = engine.add("state", 503)
    engine.add("read", 502)
    engine.clear("read")
    assert engine.faults() == [kept]


def test_the_engine_json_lists_each_active_fault() -> None:
    """``to_json`` is ``{"faults": [...]}``, each fault's own JSON."""
    engine = FaultEngine()
    fault = engine.add("state", 503, times=2)
    assert engine.to_json() == {"faults": [fault.to_json()]}


@pytest.mark.parametrize(
    ("outcome", "described", "token", "as_json"),
    [
        (
            Status(503, body=b"\xffdown", headers={"x": "1"}, format="legacy"),
            "HTTP 503, legacy error format, custom body and headers",
            "503+custom",
            {"status": 503, "body": "\ufffddown", "headers": {"x": "1"}, "format": "legacy"},
        ),
        (Status(503, headers={"x": "1"}), "HTTP 503, custom headers", "503+custom", None),
        (Status(503, body="down"), "HTTP 503, custom body", "503+custom", None),
        (Status(503, format="problem"), "HTTP 503, problem error format", "503+custom", None),
        (Status(503), "HTTP 503", "503", {"status": 503}),
        (Malformed("html", status=503), "HTML error page (HTTP 503)", "html:503", None),
        (StreamCut(1), "stream cut after 1 frame", "stream_cut:1", {"stream_cut": 1}),
        (StreamCut(2), "stream cut after 2 frames", "stream_cut:2", {"stream_cut": 2}),
        (PASS, "ok (the fake answers)", "ok", "ok"),
    ],
)
def test_each_outcome_describes_spells_and_writes_itself(
    outcome: Outcome, described: str, token: str, as_json: object
) -> None:
    """The journal's words, the grammar's token and the admin API's JSON of each outcome."""
    assert (outcome.describe(), outcome.token()) == (described, token)
    if as_json is not None:
        assert outcome.to_json() == as_json


def test_pass_is_one_object_that_shows_its_name() -> None:
    """``PASS`` shows as ``PASS`` and survives pickling as the same object."""
    assert (repr(PASS), pickle.loads(pickle.dumps(PASS))) == ("PASS", PASS)
    assert pickle.loads(pickle.dumps(PASS)) is PASS


def test_a_caller_that_names_no_call_asks_about_the_first() -> None:
    """``pick``, ``take`` and ``matches`` without ``call`` ask about an operation's first call."""
    first, second = Fault("state", 503, call=1), Fault("state", 503, call=2)
    assert (first.matches("state", "read", STATE), second.matches("state", "read", STATE)) == (
        True,
        False,
    )
    assert first.take("state", "read", STATE) == Status(503)
    assert second.take("state", "read", STATE) is None
    engine = FaultEngine()
    engine.add("state", 503, call=1)
    assert engine.pick("state", "read", STATE) is not None


def test_applied_counts_every_attempt_the_fault_failed() -> None:
    """Three attempts failed are three applied, and a fourth past ``times`` is not one."""
    fault = Fault("state", 503, times=3)
    taken = [fault.take("state", "read", STATE, call=1) for _ in range(4)]
    assert (taken.count(Status(503)), fault.applied, fault.used) == (3, 3, 3)


def test_a_fault_that_did_nothing_names_its_first_three_reasons() -> None:
    """The unused-fault report lists at most three reasons, separated by semicolons."""
    fault = Fault("chat", "stream_cut:50")
    fault.take("chat", "stream", ServiceRequest("POST", "/api/v1/ctx/chat"), call=1)
    for number in range(1, 5):
        fault.missed(f"reason {number}")
    assert fault.why_unused() == ("taken 1 time(s), but did nothing: reason 1; reason 2; reason 3")


def test_a_rate_fault_that_matched_nothing_says_so_not_its_draw() -> None:
    """With ``rate`` and no matching attempt, the report blames the match, not the random draw."""
    fault = Fault("state", 503, rate=0.5)
    fault.take("whoami", "read", STATE, call=1)
    assert fault.why_unused() == "matched no attempt"
