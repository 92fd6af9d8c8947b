"""``wire_service``: the fake, or a forwarder, behind one set of faults, clock and journal."""

from __future__ import annotations

import json

import httpx
import pytest

from pytest_spectron import Spectron, SpectronMock
from pytest_spectron.testing import VirtualClock, parse_fault_spec, service_handler
from pytest_spectron.testing._wiring import wire_service
from pytest_spectron.testing.http._exchange import ServiceRequest, ServiceResponse
from pytest_spectron.testing.service._service import UnroutableRequest

AUTH = {"authorization": "Bearer sk-any"}


def state() -> ServiceRequest:
    """A ``state`` request with a bearer key."""
    return ServiceRequest("GET", "/api/v1/ctx/state", headers=AUTH)


def test_the_fake_tells_the_time_of_the_clock_given() -> None:
    """The fake's timestamps follow the clock passed in, which the service advances too."""
    clock = VirtualClock()
    wired = wire_service(clock=clock)
    clock.advance(90.5)
    transport = httpx.MockTransport(service_handler(wired.service))
    with Spectron("ctx", "http://spectron.test", "key", transport=transport) as client:
        session = client.sessions.create()
    assert wired.service.clock is clock
    assert session.created_at == "2026-01-01T00:01:30.500Z"


def test_faults_given_are_active_from_the_start() -> None:
    """``faults=`` are in the service's engine before the first attempt."""
    wired = wire_service(faults=[parse_fault_spec("state=503")])
    answer = wired.service.dispatch(state())
    assert isinstance(answer, ServiceResponse)
    assert answer.status == 503


def test_the_journal_keeps_the_limit_given() -> None:
    """``journal_limit=2`` keeps the last two attempts of three."""
    wired = wire_service(journal_limit=2)
    for _ in range(3):
        wired.service.dispatch(state())
    assert len(wired.service.journal.attempts()) == 2


def test_the_fake_keeps_the_record_limit_given() -> None:
    """``record_limit=2``: the fake's audit log keeps the last two rows of three calls."""
    wired = wire_service(record_limit=2)
    for _ in range(3):
        wired.service.dispatch(state())
    assert wired.fake is not None
    audit = wired.service.dispatch(ServiceRequest("GET", "/api/v1/ctx/audit", headers=AUTH))
    assert isinstance(audit, ServiceResponse)
    assert len(json.loads(audit.body)["rows"]) == 2


def test_on_unroutable_raise_reaches_the_service() -> None:
    """``on_unroutable="raise"``: a path no operation matches raises ``UnroutableRequest``."""
    wired = wire_service(on_unroutable="raise")
    with pytest.raises(UnroutableRequest):
        wired.service.dispatch(ServiceRequest("GET", "/api/v1/ctx/nowhere", headers=AUTH))


def test_the_error_format_given_shapes_fault_answers() -> None:
    """``error_format="legacy"``: a fault's 503 carries ``{"message"}`` only."""
    wired = wire_service(error_format="legacy", faults=[parse_fault_spec("state=503")])
    answer = wired.service.dispatch(state())
    assert isinstance(answer, ServiceResponse)
    assert answer.body.startswith(b'{"message":')
    assert b'"status"' not in answer.body


def test_live_mode_wires_a_forwarder_and_no_fake() -> None:
    """``upstream=URL``: the backend forwards there, there is no fake, and ``close`` is safe."""
    wired = wire_service(upstream="http://127.0.0.1:9/spectron", upstream_timeout=5.0)
    assert wired.fake is None
    assert wired.upstream is not None
    assert wired.service.backend is wired.upstream
    assert (wired.upstream.url, wired.upstream.timeout) == ("http://127.0.0.1:9/spectron", 5.0)
    assert wired.service.forwards
    wired.close()


def test_a_bad_upstream_is_a_value_error_naming_it() -> None:
    """An upstream that is no http(s) URL is refused before anything is built."""
    with pytest.raises(ValueError, match="upstream must be an absolute http"):
        wire_service(upstream="spectron.example.com")


def test_the_mock_serves_what_the_factory_wired() -> None:
    """``SpectronMock``'s faults, journal, clock and fake are its service's, as wired."""
    clock = VirtualClock()
    mock = SpectronMock(clock=clock)
    assert mock.clock is mock.service.clock is clock
    assert (mock.faults, mock.journal) == (mock.service.faults, mock.service.journal)
    assert mock.service.backend is mock.fake


def test_the_mocks_loopback_server_shares_its_state() -> None:
    """``SpectronMock.serve()``'s service answers from the same fake, faults and journal."""
    with SpectronMock(strict=True) as mock:
        server = mock.serve()
        assert server.service is not mock.service
        mock.fail("state", 503)
        answer = server.service.dispatch(state())
        unrouted = server.service.dispatch(ServiceRequest("GET", "/nowhere", headers=AUTH))
    assert isinstance(answer, ServiceResponse)
    assert isinstance(unrouted, ServiceResponse)
    assert (answer.status, unrouted.status) == (503, 404)
    assert [attempt.outcome for attempt in mock.journal.attempts()] == ["503", "404"]
