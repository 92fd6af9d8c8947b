"""The forwarding backend's parts: frames, relayed streams, origins, and the service around it."""

from __future__ import annotations

import gzip
import threading
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING

import httpx
import pytest

from pytest_spectron._shared._defaults import DEFAULT_UPSTREAM_TIMEOUT
from pytest_spectron.testing import FakeSpectron, SpectronService, _cli, parse_fault_spec
from pytest_spectron.testing.http._exchange import (
    BrokenStream,
    RelayedFrames,
    ServiceRequest,
    ServiceResponse,
)
from pytest_spectron.testing.service._service import Forwarder
from pytest_spectron.testing.transports._upstream import (
    PlaintextUpstreamWarning,
    UpstreamBackend,
    check_upstream,
    sse_frames,
)

if TYPE_CHECKING:
    from tests.live.conftest import Script

AUTH = {"authorization": "Bearer sk-any"}
FRAMES = (b"data: 1\n\n", b"data: 2\n\n", b"data: [DONE]\n\n")


def chat(stream: bool = True) -> ServiceRequest:
    """A chat request, streamed unless told otherwise."""
    body = b'{"message": "hi", "stream": true}' if stream else b'{"message": "hi"}'
    headers = {**AUTH, "content-type": "application/json"}
    return ServiceRequest("POST", "/api/v1/ctx/chat", headers=headers, body=body)


def relayed(frames: Iterator[bytes]) -> ServiceResponse:
    """A relayed event stream of these frames."""
    headers = (("content-type", "text/event-stream"),)
    return ServiceResponse(200, headers, relayed=RelayedFrames(frames, lambda: None))


# -- Frames ----------------------------------------------------------------------------------


def test_sse_frames_are_whole_however_the_chunks_are_cut() -> None:
    """Chunks split inside and across events come out as one whole event each."""
    chunks = [b"data: 1\n", b"\ndata: ", b"2\n\ndata: [DONE]", b"\n\n"]
    assert list(sse_frames(chunks)) == list(FRAMES)


def test_sse_frames_accept_every_line_ending() -> None:
    """CRLF, LF and CR blank lines each end an event."""
    assert list(sse_frames([b"data: a\r\n\r\ndata: b\n\ndata: c\r\r"])) == [
        b"data: a\r\n\r\n",
        b"data: b\n\n",
        b"data: c\r\r",
    ]


def test_sse_frames_keep_a_last_unfinished_event() -> None:
    """Bytes after the last blank line still go out when the stream ends."""
    assert list(sse_frames([b"data: 1\n\ndata: 2"])) == [b"data: 1\n\n", b"data: 2"]


def test_read_ahead_keeps_the_frames_for_sending() -> None:
    """Frames read ahead to count them are sent afterwards, in order, with the rest."""
    frames = RelayedFrames(iter(FRAMES), lambda: None)
    assert frames.read_ahead(2) == 2
    assert list(frames) == list(FRAMES)


def test_a_broken_source_breaks_after_the_frames_before_it() -> None:
    """A source that fails midway gives its frames, then ``BrokenStream``."""

    def source() -> Iterator[bytes]:
        yield FRAMES[0]
        raise BrokenStream("gone")

    frames = RelayedFrames(source(), lambda: None)
    assert frames.read_ahead(3) == 1
    sent: list[bytes] = []
    with pytest.raises(BrokenStream):
        sent.extend(frames)
    assert sent == [FRAMES[0]]


def test_a_cut_answer_breaks_after_its_frames() -> None:
    """``cut_after=1`` sends one frame of an answer, then raises ``BrokenStream``."""
    answer = ServiceResponse(200, events=FRAMES, cut_after=1)
    sent: list[bytes] = []
    with pytest.raises(BrokenStream):
        sent.extend(answer.frames())
    assert sent == [FRAMES[0]]


# -- The service around a forwarder ------------------------------------------------------------


class Relaying:
    """A stand-in forwarder whose every answer is a relayed stream of ``FRAMES``."""

    def handle(self, route: object, request: ServiceRequest) -> ServiceResponse:
        return self.forward(request)

    def forward(self, request: ServiceRequest) -> ServiceResponse:
        return relayed(iter(FRAMES))

    def reset(self) -> None:
        pass


def test_a_stream_cut_applies_to_a_relayed_stream() -> None:
    """``stream_cut:1`` on a relayed stream longer than that cuts it, journaled as such."""
    service = SpectronService(Relaying())
    service.faults.add_fault(parse_fault_spec("chat=stream_cut:1"))
    answer = service.dispatch(chat())
    assert isinstance(answer, ServiceResponse)
    assert answer.cut_after == 1
    assert [attempt.outcome for attempt in service.journal.attempts()] == ["stream_cut"]


def test_a_stream_cut_past_a_relayed_stream_end_is_not_applied() -> None:
    """A cut after more frames than the upstream sent leaves the stream whole, and says so."""
    service = SpectronService(Relaying())
    service.faults.add_fault(parse_fault_spec("chat=stream_cut:3"))
    answer = service.dispatch(chat())
    assert isinstance(answer, ServiceResponse)
    assert list(answer.frames()) == list(FRAMES)
    [attempt] = service.journal.attempts()
    assert attempt.fault is not None
    assert attempt.fault.endswith("not applied, the stream had 3 frames")


def test_the_upstream_backend_is_a_forwarder_and_the_fake_is_not() -> None:
    """The service tells the two apart by the ``Forwarder`` protocol."""
    backend = UpstreamBackend("http://127.0.0.1:9")
    assert isinstance(backend, Forwarder)
    assert not isinstance(FakeSpectron(), Forwarder)


def test_attempts_in_front_of_an_upstream_run_side_by_side(scripted: Script) -> None:
    """A slow upstream answer does not hold back the next attempt (no lock around forwards)."""
    arrived, release = threading.Event(), threading.Event()

    def answer(request: ServiceRequest) -> ServiceResponse:
        if request.path.endswith("/state"):
            arrived.set()
            release.wait(30)
        return ServiceResponse(200, (("content-type", "application/json"),), body=b"{}")

    backend = UpstreamBackend(scripted(answer).url)
    service = SpectronService(backend)
    slow = threading.Thread(
        target=service.dispatch, args=(ServiceRequest("GET", "/api/v1/ctx/state", headers=AUTH),)
    )
    slow.start()
    try:
        assert arrived.wait(30)
        quick = service.dispatch(ServiceRequest("GET", "/api/v1/ctx/me", headers=AUTH))
        assert isinstance(quick, ServiceResponse)
        assert quick.status == 200
    finally:
        release.set()
        slow.join(30)
        backend.close()
    assert [attempt.operation for attempt in service.journal.attempts()] == ["whoami", "state"]


def test_compressed_answers_pass_as_they_are(scripted: Script) -> None:
    """A gzip body is relayed with its ``Content-Encoding``; the client decodes it."""
    body = gzip.compress(b'{"compressed": true}')

    def answer(request: ServiceRequest) -> ServiceResponse:
        headers = (("content-type", "application/json"), ("content-encoding", "gzip"))
        return ServiceResponse(200, headers, body=body)

    backend = UpstreamBackend(scripted(answer).url)
    forwarded = backend.forward(ServiceRequest("GET", "/api/v1/ctx/state", headers=AUTH))
    backend.close()
    assert isinstance(forwarded, ServiceResponse)
    assert forwarded.body == body
    response = httpx.Response(200, headers=list(forwarded.headers), content=forwarded.body)
    assert response.json() == {"compressed": True}


# -- Settings --------------------------------------------------------------------------------


def test_default_ports_name_the_same_origin() -> None:
    """``http://host`` and ``http://host:80`` are one origin: refused as endpoint and upstream."""
    with pytest.raises(ValueError, match="must differ"):
        check_upstream("http://spectron.test:80", endpoint="http://spectron.test/prefix")


def test_an_upstream_on_another_port_is_accepted() -> None:
    """Same host, another port: a different origin, so a valid upstream."""
    assert check_upstream("http://localhost:8765/", endpoint="http://localhost:9000") == (
        "http://localhost:8765"
    )


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), True])
def test_the_upstream_timeout_must_be_positive_seconds(timeout: float) -> None:
    """A timeout that is not a number of seconds above 0 is refused, naming it."""
    with pytest.raises((TypeError, ValueError), match=r"timeout must be a (finite )?number of sec"):
        UpstreamBackend("http://127.0.0.1:9", timeout=timeout)


def test_the_command_line_default_timeout_is_the_settings_one() -> None:
    """``serve --upstream-timeout`` defaults to what the plugin's option does."""
    assert _cli.DEFAULT_UPSTREAM_TIMEOUT == DEFAULT_UPSTREAM_TIMEOUT


@pytest.mark.parametrize("url", ["http://10.0.0.5:8080", "http://spectron.example.com/prefix"])
def test_a_plaintext_upstream_beyond_this_machine_warns(url: str) -> None:
    """A plain http upstream that is not loopback sends the key in clear: a warning says so."""
    with pytest.warns(PlaintextUpstreamWarning, match="plain http on a host that is not this"):
        assert check_upstream(url) == url


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8765", "http://localhost:8765", "http://[::1]:8765", "https://x.io"]
)
def test_a_loopback_or_https_upstream_does_not_warn(url: str) -> None:
    """Loopback (any port) and https upstreams keep the key off the network in clear."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_upstream(url)


def test_the_plaintext_warning_can_be_filtered(pytester: pytest.Pytester) -> None:
    """Users filter it by its class, as the warning's message says."""
    pytester.makeini(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\nfilterwarnings =\n"
        "    error\n    ignore::pytest_spectron.PlaintextUpstreamWarning\n"
    )
    pytester.makepyfile(
        """
        from pytest_spectron.testing.transports._upstream import check_upstream

        def test_filtered():
            check_upstream("http://10.0.0.5:8080")
        """
    )
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=1)
