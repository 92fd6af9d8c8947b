"""``serve --upstream URL``: the proxy and its upstream in separate processes, as users run them."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from pytest_spectron import Spectron, SpectronStreamError
from pytest_spectron.testing import _cli
from pytest_spectron.testing.http._exchange import (
    BrokenStream,
    RelayedFrames,
    ServiceRequest,
    ServiceResponse,
)

if TYPE_CHECKING:
    from tests.live.conftest import Paced, Script, Scripted, Serve, Served

WAIT = 30.0
KEY = "sk-live-secret-0123456789"
"""The key the tests send through proxies: it must never show in any output."""
AUTH = {"Authorization": f"Bearer {KEY}"}


def journal(url: str) -> list[dict[str, Any]]:
    """The attempts a ``serve`` process (proxy or fake) journaled."""
    attempts: list[dict[str, Any]] = httpx.get(f"{url}/__spectron/journal").json()["attempts"]
    return attempts


def outcomes(url: str) -> list[tuple[str | None, str]]:
    """Each journaled attempt's operation and outcome, in order."""
    return [(attempt["operation"], attempt["outcome"]) for attempt in journal(url)]


def state(url: str) -> httpx.Response:
    """One ``GET /api/v1/ctx/state`` with the test key."""
    return httpx.get(f"{url}/api/v1/ctx/state", headers=AUTH, timeout=WAIT)


# -- Faults and forwarding -------------------------------------------------------------------


def test_faults_never_reach_the_upstream(upstream: Served, serve: Serve) -> None:
    """Attempts a fault takes are answered by the proxy; only the others reach the upstream."""
    proxy = serve("--upstream", upstream.url, "--fault", "state=503x2")
    assert [state(proxy.url).status_code for _ in range(3)] == [503, 503, 200]
    assert outcomes(proxy.url) == [("state", "503"), ("state", "503"), ("state", "200")]
    assert outcomes(upstream.url) == [("state", "200")]


def test_state_lives_upstream(upstream: Served, serve: Serve) -> None:
    """A fact remembered through the proxy is recalled through it, and the upstream did both."""
    proxy = serve("--upstream", upstream.url)
    with Spectron("ctx", proxy.url, KEY) as client:
        client.remember("Alice prefers green tea")
        hits = client.recall("green tea").hits
    assert [hit.text for hit in hits] == ["Alice prefers green tea"]
    assert outcomes(upstream.url) == [("remember", "200"), ("recall", "200")]


def test_the_request_is_forwarded_whole(echoing: Scripted, serve: Serve) -> None:
    """Method, raw path, query and body reach the upstream as the client sent them."""
    proxy = serve("--upstream", echoing.url)
    httpx.post(
        f"{proxy.url}/api/v1/ctx/query?k=2&tag=a%20b",
        headers={**AUTH, "Content-Type": "application/json"},
        content=b'{"query": "tea"}',
        timeout=WAIT,
    )
    [seen] = echoing.requests
    assert (seen.method, seen.path, seen.query, seen.body) == (
        "POST",
        "/api/v1/ctx/query",
        (("k", "2"), ("tag", "a b")),
        b'{"query": "tea"}',
    )


def test_authorization_and_other_headers_are_forwarded(echoing: Scripted, serve: Serve) -> None:
    """The bearer key, the idempotency key and custom headers reach the upstream."""
    proxy = serve("--upstream", echoing.url)
    httpx.get(
        f"{proxy.url}/api/v1/ctx/state",
        headers={**AUTH, "Idempotency-Key": "key-1", "X-Spectron-On-Behalf-Of": "bob"},
        timeout=WAIT,
    )
    [seen] = echoing.requests
    assert seen.header("authorization") == f"Bearer {KEY}"
    assert seen.header("idempotency-key") == "key-1"
    assert seen.header("x-spectron-on-behalf-of") == "bob"


def test_hop_by_hop_headers_are_dropped(echoing: Scripted, serve: Serve) -> None:
    """Connection-scoped headers, and those the Connection header names, stop at the proxy."""
    proxy = serve("--upstream", echoing.url)
    httpx.get(
        f"{proxy.url}/api/v1/ctx/state",
        headers={**AUTH, "Connection": "keep-alive, X-Hop", "X-Hop": "1", "Keep-Alive": "5"},
        timeout=WAIT,
    )
    [seen] = echoing.requests
    assert seen.header("x-hop") is None
    assert seen.header("keep-alive") is None
    assert seen.header("host") == echoing.url.removeprefix("http://")


def test_the_upstream_answer_is_relayed(echoing: Scripted, serve: Serve) -> None:
    """The upstream's status, headers and body come back through the proxy."""
    proxy = serve("--upstream", echoing.url)
    answer = state(proxy.url)
    assert (answer.status_code, answer.headers["x-upstream"]) == (200, "echo")
    assert answer.json()["path"] == "/api/v1/ctx/state"


def test_unknown_paths_are_forwarded_and_journaled_without_an_operation(
    upstream: Served, serve: Serve
) -> None:
    """A path no operation matches (a newer Spectron's) goes upstream; its attempt has no op."""
    proxy = serve("--upstream", upstream.url)
    answer = httpx.get(f"{proxy.url}/api/v2/ctx/newer", headers=AUTH, timeout=WAIT)
    assert answer.status_code == 404  # the upstream fake's own answer
    assert outcomes(proxy.url) == [(None, "404")]
    assert [attempt["path"] for attempt in journal(upstream.url)] == ["/api/v2/ctx/newer"]


def test_injected_latency_stays_virtual(upstream: Served, serve: Serve) -> None:
    """Twenty virtual seconds of latency are answered at once, and the journal's clock moves."""
    proxy = serve("--upstream", upstream.url, "--fault", "state=latency:20,ok")
    started = time.monotonic()
    assert [state(proxy.url).status_code for _ in range(2)] == [200, 200]
    assert time.monotonic() - started < 5
    assert [attempt["time"] for attempt in journal(proxy.url)] == [0.0, 20.0]


# -- Streams ---------------------------------------------------------------------------------


def test_a_chat_stream_is_relayed_frame_by_frame(
    scripted: Script, paced: Paced, serve: Serve
) -> None:
    """The first frame reaches the client while the upstream still holds back the rest."""
    first = paced.frames[0]
    streaming = scripted(paced.answer)
    proxy = serve("--upstream", streaming.url)
    # A proxy that buffered the stream would time out here: the upstream waits for release().
    with httpx.stream(
        "POST",
        f"{proxy.url}/api/v1/ctx/chat",
        json={"message": "hi", "stream": True},
        headers=AUTH,
        timeout=5.0,
    ) as answer:
        chunks = answer.iter_raw()
        received = b""
        while len(received) < len(first):
            received += next(chunks)
        assert received == first
        paced.release()
        received += b"".join(chunks)
    assert received == b"".join(paced.frames)


def test_a_stream_cut_fault_cuts_the_relayed_stream(upstream: Served, serve: Serve) -> None:
    """``chat=stream_cut:1`` relays one frame of the upstream's stream, then drops it."""
    proxy = serve("--upstream", upstream.url, "--fault", "chat=stream_cut:1")
    received: list[str] = []
    with (
        Spectron("ctx", proxy.url, KEY) as client,
        pytest.raises(SpectronStreamError),
        client.chat("hello", stream=True) as stream,
    ):
        received.extend(chunk.delta for chunk in stream)
    assert len(received) == 1
    assert outcomes(proxy.url) == [("chat", "stream_cut")]


def test_a_broken_upstream_stream_breaks_the_relayed_one(scripted: Script, serve: Serve) -> None:
    """An upstream stream that stops before its end reaches the client as a cut stream."""

    def broken(request: ServiceRequest) -> ServiceResponse:
        def frames() -> Iterator[bytes]:
            yield b'data: {"delta": "Hel"}\n\n'
            raise BrokenStream("the upstream fell over")

        headers = (("content-type", "text/event-stream"),)
        return ServiceResponse(200, headers, relayed=RelayedFrames(frames(), lambda: None))

    proxy = serve("--upstream", scripted(broken).url)
    body = {"message": "hi", "stream": True}
    url = f"{proxy.url}/api/v1/ctx/chat"
    with (
        httpx.stream("POST", url, json=body, headers=AUTH, timeout=WAIT) as answer,
        pytest.raises(httpx.RemoteProtocolError),
    ):
        answer.read()


# -- An upstream that does not answer --------------------------------------------------------


def test_a_down_upstream_gets_a_prompt_502_naming_it(closed_port: int, serve: Serve) -> None:
    """An upstream nobody listens on: a 502 problem naming it, well within the timeout."""
    down = f"http://127.0.0.1:{closed_port}"
    proxy = serve("--upstream", down, "--upstream-timeout", "2")
    started = time.monotonic()
    answer = state(proxy.url)
    assert time.monotonic() - started < 2
    assert answer.status_code == 502
    assert down in answer.json()["detail"]


def test_an_unreachable_upstream_is_journaled(closed_port: int, serve: Serve) -> None:
    """The attempt is journaled with the 502 the client saw."""
    proxy = serve("--upstream", f"http://127.0.0.1:{closed_port}")
    state(proxy.url)
    assert outcomes(proxy.url) == [("state", "502")]


def test_a_silent_upstream_gets_a_504_after_the_upstream_timeout(
    silent_port: int, serve: Serve
) -> None:
    """An upstream that accepts and never answers: a 504 once ``--upstream-timeout`` passes."""
    proxy = serve("--upstream", f"http://127.0.0.1:{silent_port}", "--upstream-timeout", "0.3")
    started = time.monotonic()
    answer = state(proxy.url)
    elapsed = time.monotonic() - started
    assert answer.status_code == 504
    assert "within 0.3 s" in answer.json()["detail"]
    assert 0.3 <= elapsed < 5


# -- https -----------------------------------------------------------------------------------


def test_https_certificates_are_verified_by_default(tls_upstream: str, serve: Serve) -> None:
    """A self-signed upstream is refused with a 502 that names the certificate problem."""
    proxy = serve("--upstream", tls_upstream)
    answer = state(proxy.url)
    assert answer.status_code == 502
    assert "CERTIFICATE_VERIFY_FAILED" in answer.json()["detail"]


def test_a_trusted_certificate_authority_is_accepted(
    tls_upstream: str,
    certificate: tuple[Path, Path],
    serve: Serve,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With its certificate in ``SSL_CERT_FILE``, the https upstream answers through the proxy."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    proxy = serve("--upstream", tls_upstream)
    assert state(proxy.url).json() == {"ok": True}


def test_upstream_insecure_accepts_any_certificate(tls_upstream: str, serve: Serve) -> None:
    """``--upstream-insecure`` turns verification off (dangerous, and documented so)."""
    proxy = serve("--upstream", tls_upstream, "--upstream-insecure")
    assert state(proxy.url).json() == {"ok": True}


# -- Admin endpoints and secrets -------------------------------------------------------------


def test_admin_faults_apply_in_front_of_the_upstream(upstream: Served, serve: Serve) -> None:
    """A fault added with ``POST /__spectron/faults`` fails the next attempt at the proxy."""
    proxy = serve("--upstream", upstream.url)
    added = httpx.post(f"{proxy.url}/__spectron/faults", json={"spec": "state=500"})
    assert added.status_code == 201
    assert state(proxy.url).status_code == 500
    assert journal(upstream.url) == []


def test_admin_reset_leaves_the_upstream_state_alone(upstream: Served, serve: Serve) -> None:
    """``POST /__spectron/reset`` clears the proxy's faults and journal, never upstream facts."""
    proxy = serve("--upstream", upstream.url)
    with Spectron("ctx", proxy.url, KEY) as client:
        client.remember("Bob drinks coffee")
        reset = httpx.post(f"{proxy.url}/__spectron/reset").json()
        hits = client.recall("coffee").hits
    assert reset == {"reset": ["faults", "journal", "clock"]}
    assert [hit.text for hit in hits] == ["Bob drinks coffee"]
    assert outcomes(proxy.url) == [("recall", "200")]


def test_the_key_is_redacted_and_never_printed(upstream: Served, serve: Serve) -> None:
    """The journal shows ``Bearer ***``; neither process writes the key anywhere."""
    proxy = serve("--upstream", upstream.url)
    state(proxy.url)
    [attempt] = journal(proxy.url)
    assert attempt["headers"]["authorization"] == "Bearer ***"
    printed = [*proxy.stop(), *upstream.stop()]
    assert not [text for text in printed if KEY in text]


# -- The command line ------------------------------------------------------------------------


def usage_error(capsys: pytest.CaptureFixture[str], *arguments: str) -> str:
    """Run ``serve`` in this process with arguments it must refuse; what it wrote to stderr."""
    with pytest.raises(SystemExit) as exited:
        _cli.main(["serve", *arguments])
    assert exited.value.code == 2
    return capsys.readouterr().err


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_serve_refuses_to_be_its_own_upstream(
    capsys: pytest.CaptureFixture[str], host: str
) -> None:
    """``--upstream`` naming the proxy's own address would loop: a usage error, exit 2."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    error = usage_error(capsys, "--port", str(port), "--upstream", f"http://{host}:{port}")
    assert "is this very server: it would loop" in error


def test_serve_refuses_api_keys_with_an_upstream(capsys: pytest.CaptureFixture[str]) -> None:
    """``--api-key`` configures the fake: with ``--upstream`` it is a usage error."""
    error = usage_error(capsys, "--upstream", "http://127.0.0.1:9", "--api-key", "sk-1")
    assert "the upstream checks keys" in error


def test_serve_refuses_a_bad_upstream_url(capsys: pytest.CaptureFixture[str]) -> None:
    """An upstream that is no http(s) URL is a usage error naming what is expected."""
    assert "absolute http(s) URL" in usage_error(capsys, "--upstream", "ftp://example.invalid")


@pytest.mark.parametrize("seconds", ["0", "-1", "soon"])
def test_serve_refuses_a_bad_upstream_timeout(
    capsys: pytest.CaptureFixture[str], seconds: str
) -> None:
    """``--upstream-timeout`` takes a number of seconds above 0."""
    error = usage_error(capsys, "--upstream", "http://127.0.0.1:9", "--upstream-timeout", seconds)
    assert f"{seconds!r} is not a number of seconds above 0" in error
