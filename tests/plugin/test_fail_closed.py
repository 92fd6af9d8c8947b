"""Fail closed: while the plugin runs, no request for Spectron escapes to the network.

Each suite points the endpoint at a real loopback listener standing in for production: a
request the plugin let through would reach it, with the key.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

PRODUCTION_KEY = "sk-PROD-7d1f0c2a"


@pytest.fixture
def production() -> Iterator[socket.socket]:
    """A listener standing in for the production Spectron; the test checks nothing connected."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.setblocking(False)
        yield listener


def reached(listener: socket.socket) -> bool:
    """Whether any client connected to the listener."""
    try:
        connection, _ = listener.accept()
    except BlockingIOError:
        return False
    connection.close()
    return True


def endpoint_of(listener: socket.socket) -> str:
    """The listener's URL, as an endpoint."""
    return f"http://127.0.0.1:{listener.getsockname()[1]}"


def test_a_module_fixture_teardown_request_is_refused_naming_the_stopped_mock(
    pytester: pytest.Pytester, production: socket.socket
) -> None:
    """A module fixture flushing at teardown, after the mock stopped, errors; nothing is sent."""
    pytester.makepyfile(
        """
        import httpx
        import pytest

        @pytest.fixture(scope="module")
        def buffer(pytestconfig):
            pending = []
            yield pending
            endpoint = pytestconfig.getoption("spectron_endpoint")
            httpx.post(
                endpoint + "/api/v1/prod-context/facts",
                headers={"Authorization": "Bearer " + pytestconfig.getoption("spectron_api_key")},
                json={"text": pending[0]},
            )

        def test_remembers(buffer, spectron):
            buffer.append("tea at five")
            spectron.state()
        """
    )
    result = pytester.runpytest(
        f"--spectron-endpoint={endpoint_of(production)}", f"--spectron-api-key={PRODUCTION_KEY}"
    )
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*RefusedRequest: pytest-spectron refused POST http://127.0.0.1:*/api/v1/prod-context"
            "/facts: the spectron_mock answering http://127.0.0.1:* has already stopped (it "
            "stopped when test_a_module_fixture_teardown_request_is_refused_naming_the_stopped"
            "_mock.py::test_remembers ended)*",
        ]
    )
    assert not reached(production)


def test_a_fixture_set_up_before_the_mock_is_refused_naming_no_mock(
    pytester: pytest.Pytester, production: socket.socket
) -> None:
    """A fixture that checks ``health`` before ``spectron_mock`` starts errors at setup."""
    pytester.makepyfile(
        """
        import pytest
        from pytest_spectron import Spectron

        @pytest.fixture
        def healthy(pytestconfig):
            endpoint = pytestconfig.getoption("spectron_endpoint")
            with Spectron("ctx", endpoint, "sk-any", max_retries=3) as client:
                client.health()

        def test_app(healthy, spectron_mock):
            pass
        """
    )
    result = pytester.runpytest(f"--spectron-endpoint={endpoint_of(production)}")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*RefusedRequest: pytest-spectron refused GET http://127.0.0.1:*/api/v1/health: no "
            "spectron_mock is running to answer http://127.0.0.1:*, so the request would have "
            "gone to the real host, with its API key.*",
        ]
    )
    assert not reached(production)


def test_a_refusal_is_not_retried_away(
    pytester: pytest.Pytester, production: socket.socket
) -> None:
    """The app's retry logic, catching httpx's errors, does not swallow the refusal."""
    pytester.makepyfile(
        """
        import httpx
        import pytest

        @pytest.fixture
        def warm(pytestconfig):
            endpoint = pytestconfig.getoption("spectron_endpoint")
            for _ in range(3):
                try:
                    return httpx.get(endpoint + "/api/v1/ctx/state")
                except httpx.HTTPError:
                    continue

        def test_app(warm, spectron):
            spectron.state()
        """
    )
    result = pytester.runpytest(f"--spectron-endpoint={endpoint_of(production)}")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*RefusedRequest*no spectron_mock is running*"])
    assert not reached(production)
