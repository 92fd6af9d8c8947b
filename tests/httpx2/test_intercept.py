"""httpx2 clients an application builds are answered by the mock, exactly as httpx clients are."""

from __future__ import annotations

import asyncio
import json

import pytest

from pytest_spectron.testing import SpectronMock
from pytest_spectron.testing.service._service import UnroutableRequest
from pytest_spectron.testing.transports.loopback import LoopbackServer

httpx2 = pytest.importorskip("httpx2", reason="httpx2 is not installed (Python 3.11+, test extra)")

STATE = "/api/v1/ctx/state"


def bearer(mock: SpectronMock) -> dict[str, str]:
    """The headers of an authorized request to ``mock``."""
    return {"Authorization": f"Bearer {mock.api_key}"}


def test_sync_client_is_answered_by_the_fake(spectron_mock: SpectronMock) -> None:
    """``httpx2.get`` to the endpoint reaches the fake, and the journal records it."""
    response = httpx2.get(spectron_mock.endpoint + STATE, headers=bearer(spectron_mock))

    assert response.status_code == 200
    assert "knowledge" in response.json()
    spectron_mock.assert_attempts("state", 1)


def test_async_client_is_answered_by_the_fake(spectron_mock: SpectronMock) -> None:
    """An ``httpx2.AsyncClient`` reaches the fake too."""

    async def main() -> int:
        async with httpx2.AsyncClient() as client:
            response = await client.get(
                spectron_mock.endpoint + STATE, headers=bearer(spectron_mock)
            )
            status: int = response.status_code
            return status

    assert asyncio.run(main()) == 200
    spectron_mock.assert_attempts("state", 1)


def test_request_body_and_headers_reach_the_journal(spectron_mock: SpectronMock) -> None:
    """What an httpx2 client sends is what the journal shows, with the key redacted."""
    httpx2.post(
        spectron_mock.endpoint + "/api/v1/ctx/facts",
        headers={**bearer(spectron_mock), "Idempotency-Key": "key-1"},
        json={"text": "tea at five"},
    )

    (attempt,) = spectron_mock.attempts("remember")
    assert attempt.body == {"text": "tea at five"}
    assert attempt.status == 200
    assert attempt.idempotency_key == "key-1"
    assert attempt.headers["authorization"] == "Bearer ***"


@pytest.mark.spectron_fault("state", 503)
def test_marker_fault_answers_httpx2_clients(spectron_mock: SpectronMock) -> None:
    """A ``spectron_fault`` marker's status reaches an httpx2 client, with its problem body."""
    response = httpx2.get(spectron_mock.endpoint + STATE, headers=bearer(spectron_mock))

    assert response.status_code == 503
    assert response.json()["status"] == 503
    assert response.headers["x-trace-id"]


@pytest.mark.parametrize(
    ("outcome", "error"),
    [
        ("connect", "ConnectError"),
        ("connect_timeout", "ConnectTimeout"),
        ("read_timeout", "ReadTimeout"),
        ("reset", "ReadError"),
    ],
)
def test_network_failure_raises_the_httpx2_error_of_its_kind(
    spectron_mock: SpectronMock, outcome: str, error: str
) -> None:
    """A network fault raises httpx2's own exception, as a real network failure would."""
    spectron_mock.fail("state", outcome)

    with pytest.raises(getattr(httpx2, error)) as raised:
        httpx2.get(spectron_mock.endpoint + STATE, headers=bearer(spectron_mock))

    assert raised.value.request.url == spectron_mock.endpoint + STATE


def test_latency_beyond_the_timeout_is_a_read_timeout_at_once(spectron_mock: SpectronMock) -> None:
    """The client's timeout reaches the fake: 60 virtual seconds of latency time it out."""
    spectron_mock.fail("state", latency=60)

    with pytest.raises(httpx2.ReadTimeout):
        httpx2.get(spectron_mock.endpoint + STATE, headers=bearer(spectron_mock), timeout=5)


def test_stream_cut_raises_while_the_stream_is_read(spectron_mock: SpectronMock) -> None:
    """A stream cut after one frame delivers that frame, then drops the connection."""
    spectron_mock.fail("chat", "stream_cut:1")
    frames: list[str] = []

    with (
        pytest.raises(httpx2.RemoteProtocolError),
        httpx2.stream(
            "POST",
            spectron_mock.endpoint + "/api/v1/ctx/chat",
            headers={**bearer(spectron_mock), "Accept": "text/event-stream"},
            json={"message": "hello", "stream": True},
        ) as response,
    ):
        frames.extend(line for line in response.iter_lines() if line)

    assert len(frames) == 1
    assert json.loads(frames[0].removeprefix("data: "))


def test_unroutable_request_fails_the_test_not_the_client(spectron_mock: SpectronMock) -> None:
    """A path no operation answers raises the mock's assertion, which no retry loop swallows."""
    with pytest.raises(UnroutableRequest, match="nearest") as raised:
        httpx2.get(spectron_mock.endpoint + "/api/v1/ctx/stat", headers=bearer(spectron_mock))
    assert spectron_mock.acknowledge_errors() == [raised.value]


def test_other_hosts_reach_the_clients_own_transport(spectron_mock: SpectronMock) -> None:
    """Another host gets the client's transport; the endpoint is answered above it."""
    transport = httpx2.MockTransport(lambda request: httpx2.Response(200, json={"sky": "blue"}))

    with httpx2.Client(transport=transport, headers=bearer(spectron_mock)) as client:
        assert client.get("https://weather.test/today").json() == {"sky": "blue"}
        assert "knowledge" in client.get(spectron_mock.endpoint + STATE).json()

    assert [attempt.operation for attempt in spectron_mock.attempts()] == ["state"]


def test_loopback_server_is_reached_through_the_network(
    spectron_mock: SpectronMock, spectron_server: LoopbackServer
) -> None:
    """``spectron_server``'s address is not the mock's: httpx2 reaches it over the socket."""
    response = httpx2.get(spectron_server.url + STATE, headers=bearer(spectron_mock))

    assert response.status_code == 200
    spectron_mock.assert_attempts("state", 1)


def test_nested_mocks_each_answer_their_own_endpoint(spectron_mock: SpectronMock) -> None:
    """A second mock on another endpoint answers its own requests, the first keeps its own."""
    with SpectronMock(endpoint="http://other-spectron.test") as other:
        httpx2.get(other.endpoint + STATE, headers=bearer(other))
        httpx2.get(spectron_mock.endpoint + STATE, headers=bearer(spectron_mock))

    other.assert_attempts("state", 1)
    spectron_mock.assert_attempts("state", 1)


def test_clients_are_left_alone_once_the_mock_stops() -> None:
    """After the mock stops, requests to its endpoint go to the client's own transport again."""
    transport = httpx2.MockTransport(lambda request: httpx2.Response(418))
    with SpectronMock() as mock:
        pass

    with httpx2.Client(transport=transport) as client:
        assert client.get(mock.endpoint + STATE).status_code == 418
    assert mock.attempts() == []
