"""The clients a mock binds (``mock.client()``, the ``spectron`` fixtures): what they skip."""

from __future__ import annotations

import asyncio
import http.server
import threading
from collections.abc import Iterator

import pytest

from pytest_spectron.client import SpectronError
from pytest_spectron.testing import SpectronMock


def test_bound_clients_ignore_the_environments_proxy_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A proxy setting httpx cannot use (it refuses to build a client) leaves them unaffected."""
    monkeypatch.setenv("ALL_PROXY", "ftp://proxy.invalid")
    with SpectronMock() as mock:
        with mock.client() as client:
            client.state()

        async def main() -> None:
            async with mock.async_client() as client:
                await client.state()

        asyncio.run(main())
    mock.assert_attempts("state", 2)


def test_a_closed_bound_client_sends_nothing() -> None:
    """Closing a bound client closes its connection pool, as for a client built without one."""
    with SpectronMock() as mock:
        with mock.client() as client:
            pass
        with pytest.raises(RuntimeError, match="closed"):
            client.state()
    assert mock.attempts() == []


@pytest.fixture
def listener() -> Iterator[tuple[str, list[str]]]:
    """A plain HTTP server on loopback answering 418; its URL and the paths it was asked."""
    paths: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            paths.append(self.path)
            self.send_response(418)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", paths
    finally:
        server.shutdown()
        server.server_close()


def test_a_bound_client_reaches_the_network_once_its_mock_stops(
    listener: tuple[str, list[str]],
) -> None:
    """After the mock stops, its bound client's requests go to the endpoint over the network."""
    url, paths = listener
    mock = SpectronMock(endpoint=url)
    with mock, mock.client(max_retries=0) as client:
        client.state()
        mock.stop()
        with pytest.raises(SpectronError):
            client.state()
    assert paths == [f"/api/v1/{mock.context}/state"]
    mock.assert_attempts("state", 1)
