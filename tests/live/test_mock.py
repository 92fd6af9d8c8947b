"""Live mode's Python API: ``SpectronMock(upstream=...)``, ``SpectronService(UpstreamBackend)``."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.request
from typing import TYPE_CHECKING

import httpx
import pytest
import respx

from pytest_spectron import STATUS_MATRIX, MatrixCase, Spectron, SpectronMock
from pytest_spectron.testing import (
    FakeSpectron,
    LoopbackServer,
    SpectronService,
    parse_fault_spec,
    service_handler,
)
from pytest_spectron.testing._mock import LiveModeError
from pytest_spectron.testing.http._exchange import ServiceRequest, ServiceResponse
from pytest_spectron.testing.transports._upstream import UpstreamBackend

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from tests.live.conftest import Paced, Script

FakeUpstream = tuple[FakeSpectron, LoopbackServer]
AUTH = {"Authorization": "Bearer sk-any"}


@pytest.fixture
def live(fake_upstream: FakeUpstream) -> Iterator[SpectronMock]:
    """A started mock in live mode, forwarding to the fake upstream."""
    with SpectronMock(upstream=fake_upstream[1].url) as mock:
        yield mock


def upstream_operations(fake_upstream: FakeUpstream) -> list[str | None]:
    """The operations the upstream's own journal saw, in order."""
    service = fake_upstream[1].service
    assert isinstance(service, SpectronService)
    return [attempt.operation for attempt in service.journal.attempts()]


def test_attempts_no_fault_takes_reach_the_upstream(
    live: SpectronMock, fake_upstream: FakeUpstream
) -> None:
    """Two 503s are injected in process; only the third attempt is forwarded."""
    live.fail("state", 503, 503)
    with live.client() as client:
        client.state()
    live.assert_attempts("state", 3)
    assert upstream_operations(fake_upstream) == ["state"]


def test_retry_waits_run_on_the_virtual_clock(live: SpectronMock) -> None:
    """The backoff before each retry is recorded, never slept."""
    live.fail("state", 503, 503)
    started = time.monotonic()
    with live.client() as client:
        client.state()
    live.assert_sleeps([0.25, 0.5])
    assert time.monotonic() - started < 5


def test_state_seeded_upstream_is_recalled_through_the_mock(
    live: SpectronMock, fake_upstream: FakeUpstream
) -> None:
    """The upstream keeps the state: a fact stored there is found through the mock."""
    fake_upstream[0].add_fact(live.context, "Carol listens to jazz")
    with live.client() as client:
        assert [hit.text for hit in client.recall("jazz").hits] == ["Carol listens to jazz"]


def test_injected_latency_stays_virtual(live: SpectronMock) -> None:
    """Ten virtual seconds before the upstream answers move the clock, not the wall clock."""
    live.fail("state", latency=10, times=1)
    started = time.monotonic()
    with live.client() as client:
        client.state()
    assert time.monotonic() - started < 5
    assert live.clock.now == 10


def test_async_clients_are_forwarded_too(live: SpectronMock, fake_upstream: FakeUpstream) -> None:
    """An ``AsyncSpectron`` reaches the upstream through the same mock."""

    async def main() -> None:
        async with live.async_client() as client:
            await client.remember("async facts travel too")

    asyncio.run(main())
    assert [fact.text for fact in fake_upstream[0].facts(live.context)] == [
        "async facts travel too"
    ]


def test_an_async_forward_leaves_the_event_loop_running(scripted: Script) -> None:
    """While an async client's request is forwarded, the loop's other tasks go on.

    The upstream answers only once the test's own task has run after the request started: a
    forward that blocked the loop would keep it from running, and the upstream would give up.
    """
    other_task_ran = threading.Event()

    def answer(request: ServiceRequest) -> ServiceResponse:
        status = 200 if other_task_ran.wait(5) else 504
        return ServiceResponse(status, (("content-type", "application/json"),), b"{}")

    async def main(mock: SpectronMock) -> int:
        async with httpx.AsyncClient() as http:
            forwarded = asyncio.create_task(
                http.get(f"{mock.endpoint}/api/v1/ctx/state", headers={"Authorization": "Bearer k"})
            )
            await asyncio.sleep(0)  # the request starts, and runs until it waits
            other_task_ran.set()
            return (await forwarded).status_code

    with SpectronMock(upstream=scripted(answer).url) as mock:
        assert asyncio.run(main(mock)) == 200


def test_a_stream_is_relayed_in_process_frame_by_frame(scripted: Script, paced: Paced) -> None:
    """The client reads the first chunk while the upstream still holds back the rest."""
    with (
        SpectronMock(upstream=scripted(paced.answer).url) as mock,
        mock.client(timeout=5) as client,
        client.chat("hi", stream=True) as stream,
    ):
        chunks = iter(stream)
        first = next(chunks).delta
        paced.release()
        rest = [chunk.delta for chunk in chunks]
    assert (first, rest) == ("Hello", [" world"])
    assert paced.closed.wait(5)  # the relay closes the upstream stream from its own thread


def test_the_fake_is_unavailable_in_live_mode(live: SpectronMock) -> None:
    """``.fake`` raises a LiveModeError that says what to do instead."""
    with pytest.raises(LiveModeError, match=r"mark the test @pytest\.mark\.spectron_fake_only"):
        live.fake  # noqa: B018


def test_an_endpoint_equal_to_the_upstream_is_refused(fake_upstream: FakeUpstream) -> None:
    """The mock cannot both catch and forward to one origin: a ValueError says they must differ."""
    url = fake_upstream[1].url
    with pytest.raises(ValueError, match="must differ"):
        SpectronMock(endpoint=url, upstream=url)


def test_other_respx_routers_never_catch_the_forwarded_requests(
    fake_upstream: FakeUpstream,
) -> None:
    """A catch-all respx router under the mock does not intercept what the mock forwards."""
    with (
        respx.mock(assert_all_mocked=True, assert_all_called=False),
        SpectronMock(upstream=fake_upstream[1].url) as mock,
        mock.client() as client,
    ):
        assert client.state().knowledge is not None


def test_unknown_paths_are_forwarded_when_not_strict(fake_upstream: FakeUpstream) -> None:
    """With ``strict=False`` a path no operation matches goes upstream, journaled without op."""
    with SpectronMock(upstream=fake_upstream[1].url, strict=False) as mock:
        answer = httpx.get(f"{mock.endpoint}/api/v2/ctx/newer", headers=AUTH)
    assert answer.status_code == 404  # the upstream's answer
    assert [attempt.operation for attempt in mock.attempts()] == [None]
    assert upstream_operations(fake_upstream) == [None]


def test_the_loopback_server_of_a_live_mock_is_a_proxy(
    live: SpectronMock, fake_upstream: FakeUpstream
) -> None:
    """``serve()`` in live mode forwards what it is sent to the upstream too."""
    server = live.serve()
    request = urllib.request.Request(
        f"{server.url}/api/v1/{live.context}/state",
        headers={"Authorization": f"Bearer {live.api_key}"},
    )
    with urllib.request.urlopen(request, timeout=5) as answer:
        assert "knowledge" in json.loads(answer.read())
    live.assert_attempts("state", 1)
    assert upstream_operations(fake_upstream) == ["state"]


def test_a_service_takes_the_upstream_as_its_backend(fake_upstream: FakeUpstream) -> None:
    """``SpectronService(UpstreamBackend(url))`` serves the upstream behind faults and journal."""
    backend = UpstreamBackend(fake_upstream[1].url)
    service = SpectronService(backend)
    service.faults.add_fault(parse_fault_spec("state=500x1"))
    url = "http://any.test/api/v1/ctx/state"
    with httpx.Client(transport=httpx.MockTransport(service_handler(service))) as client:
        statuses = [client.get(url, headers=AUTH).status_code for _ in range(2)]
    backend.close()
    assert statuses == [500, 200]
    assert upstream_operations(fake_upstream) == ["state"]


def test_the_repr_hides_the_upstream_password(fake_upstream: FakeUpstream) -> None:
    """A password in the upstream URL never shows in the mock's repr."""
    port = fake_upstream[1].port
    mock = SpectronMock(upstream=f"http://user:hunter2@127.0.0.1:{port}")
    assert "hunter2" not in repr(mock)
    assert "upstream='http://user:***@127.0.0.1" in repr(mock)


@pytest.mark.parametrize("case", STATUS_MATRIX, ids=str)
def test_the_status_matrix_holds_in_live_mode(case: MatrixCase, live: SpectronMock) -> None:
    """Every matrix case gives its error, attempts and sleeps in front of an upstream."""
    live.fail(case.retry_class, case.outcome)
    calls: dict[str, Callable[[Spectron], object]] = {
        "state": lambda client: client.state(),
        "remember": lambda client: client.remember("a fact"),
        "forget": lambda client: client.forget("a fact"),
        "chat": lambda client: list(client.chat("hello", stream=True)),
    }
    with live.client() as client, pytest.raises(case.error) as raised:
        calls[case.operation](client)
    assert type(raised.value) is case.error
    live.assert_attempts(case.operation, case.attempts)
    live.assert_sleeps(case.sleeps)


def forget_within(mock: SpectronMock, flavour: str, timeout: float) -> None:
    """``forget`` once (a write: never retried) from a client with this timeout."""
    if flavour == "sync":
        with mock.client(timeout=timeout, max_retries=0) as client:
            client.forget("anything")
        return

    async def forget() -> None:
        async with mock.async_client(timeout=timeout, max_retries=0) as client:
            await client.forget("anything")

    asyncio.run(forget())


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_the_forward_is_bounded_by_the_clients_own_timeout(silent_port: int, flavour: str) -> None:
    """A 0.2 s client before a silent upstream times out in-process, as over a socket."""
    from pytest_spectron import SpectronTimeoutError

    with SpectronMock(upstream=f"http://127.0.0.1:{silent_port}", upstream_timeout=5.0) as mock:
        started = time.monotonic()
        with pytest.raises(SpectronTimeoutError):
            forget_within(mock, flavour, 0.2)
        waited = time.monotonic() - started
        (attempt,) = mock.attempts("forget")
        assert attempt.outcome == "read_timeout"
    assert waited < 4.0, f"waited {waited:.1f} s: the upstream timeout, not the client's"
