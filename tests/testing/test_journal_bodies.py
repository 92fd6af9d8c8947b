"""What the journal keeps of bodies it cannot decode, and how a reset empties it."""

from __future__ import annotations

import httpx

from pytest_spectron import Spectron
from pytest_spectron.testing import FakeSpectron, SpectronService, service_handler
from pytest_spectron.testing.service._journal import describe_body


def test_a_malformed_multipart_body_is_described_with_its_fault() -> None:
    """A multipart body the parser refuses is summarised with its size and what is wrong."""
    content_type = "multipart/mixed; boundary=b0undary"
    described = describe_body({"Content-Type": content_type}, b"--b0undary--")
    assert described == (
        "<multipart, 12 bytes, malformed: expected multipart/form-data, got "
        "'multipart/mixed; boundary=b0undary'>"
    )


def test_json_that_does_not_parse_is_kept_as_text() -> None:
    """A body labelled JSON that is not JSON is kept as the text that was sent."""
    assert describe_body({"content-type": "application/json"}, b"{not json") == "{not json"


def test_text_that_is_not_utf8_is_kept_as_bytes() -> None:
    """A text body that is not UTF-8 is kept as its bytes, not half-decoded."""
    assert describe_body({"content-type": "text/plain"}, b"\xff\xfe") == b"\xff\xfe"


def test_a_reset_empties_the_journal_and_restarts_the_numbering() -> None:
    """After ``service.reset()`` the journal is empty and the next attempt is number 1."""
    service = SpectronService(FakeSpectron())
    transport = httpx.MockTransport(service_handler(service))
    with Spectron("ctx", "http://spectron.test", "key", transport=transport) as client:
        client.state()
        client.state()
        assert (len(service.journal), repr(service.journal)) == (2, "<Journal attempts=2>")

        service.reset()
        assert (len(service.journal), repr(service.journal)) == (0, "<Journal attempts=0>")

        client.state()
    assert [attempt.number for attempt in service.journal.attempts()] == [1]


def test_the_journal_records_what_a_bare_client_sent() -> None:
    """A request the typed client would never send is journalled as it came, body included."""
    service = SpectronService(FakeSpectron())
    transport = httpx.MockTransport(service_handler(service))
    with httpx.Client(transport=transport, base_url="http://spectron.test") as http:
        http.post(
            "/api/v1/ctx/facts",
            content=b"{not json",
            headers={"authorization": "Bearer key", "content-type": "application/json"},
        )
    (attempt,) = service.journal.attempts()
    assert (attempt.operation, attempt.status, attempt.body) == ("remember", 400, "{not json")
