"""The fixtures, as a user's test suite sees them."""

from __future__ import annotations

import pytest


def test_mock_answers_the_bound_client_with_fresh_state(pytester: pytest.Pytester) -> None:
    """``spectron`` talks to ``spectron_mock``; each test starts from an empty fake."""
    pytester.makepyfile(
        """
        def test_first(spectron, spectron_mock):
            spectron.remember("Alice likes tea")
            assert spectron.recall("tea").hits
            spectron_mock.assert_attempts("remember", 1)

        def test_second_starts_empty(spectron, spectron_mock):
            assert not spectron.recall("tea").hits
            assert spectron_mock.attempts("remember") == []
        """
    )
    pytester.runpytest().assert_outcomes(passed=2)


def test_application_clients_are_answered_too(pytester: pytest.Pytester) -> None:
    """A client the application builds itself, from the mock's endpoint, reaches the fake."""
    pytester.makepyfile(
        """
        from pytest_spectron import Spectron

        def test_app_client(spectron_mock):
            client = Spectron(
                context="app", endpoint=spectron_mock.endpoint, api_key=spectron_mock.api_key
            )
            client.remember("the sky is blue")
            assert client.recall("sky").hits
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_fault_and_virtual_clock(pytester: pytest.Pytester) -> None:
    """The issue's example: two 503s, three attempts, waits of 0.25 s and 0.5 s, no sleeping."""
    pytester.makepyfile(
        """
        import time
        import pytest

        @pytest.mark.spectron_fault("state", status=503, times=2)
        def test_dashboard(spectron, spectron_mock, spectron_clock):
            started = time.monotonic()
            spectron.state()
            spectron_mock.assert_attempts("state", 3)
            assert spectron_clock.sleeps == [0.25, 0.5]
            assert time.monotonic() - started < 0.2
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_fail_scripts_outcomes_then_the_fake_answers(pytester: pytest.Pytester) -> None:
    """``fail(op, *outcomes)`` runs its script in order; then the fake answers."""
    pytester.makepyfile(
        """
        def test_script(spectron, spectron_mock):
            spectron_mock.fail("remember", "connect", 502)
            spectron.remember("kept once")
            spectron_mock.assert_idempotent_retries("remember")
            assert len(spectron_mock.fake.facts(spectron_mock.context)) == 1
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_writes_are_not_retried(pytester: pytest.Pytester) -> None:
    """A failing write is sent once and raises the documented error."""
    pytester.makepyfile(
        """
        import pytest
        from pytest_spectron import SpectronServerError

        @pytest.mark.spectron_fault("forget", status=503)
        def test_forget(spectron, spectron_mock):
            with pytest.raises(SpectronServerError):
                spectron.forget("anything")
            spectron_mock.assert_not_retried("forget")
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_async_client_under_pytest_asyncio(pytester: pytest.Pytester) -> None:
    """``async_spectron`` works in a pytest-asyncio test."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.asyncio
        @pytest.mark.spectron_fault("read", error="connect", times=1)
        async def test_async(async_spectron, spectron_mock, spectron_clock):
            await async_spectron.remember("async fact")
            result = await async_spectron.state()
            assert result is not None
            assert spectron_clock.sleeps == [0.25]
        """
    )
    pytester.runpytest("-p", "asyncio").assert_outcomes(passed=1)


def test_async_client_under_anyio(pytester: pytest.Pytester) -> None:
    """``async_spectron`` works in an anyio test."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.anyio
        async def test_async(async_spectron):
            await async_spectron.remember("anyio fact")
            assert (await async_spectron.recall("anyio")).hits

        @pytest.fixture
        def anyio_backend():
            return "asyncio"
        """
    )
    pytester.runpytest("-p", "anyio").assert_outcomes(passed=1)


def test_loopback_server_serves_urllib(pytester: pytest.Pytester) -> None:
    """``spectron_server`` answers a client that is not httpx, with the same faults."""
    pytester.makepyfile(
        """
        import json
        import urllib.error
        import urllib.request
        import pytest

        @pytest.mark.spectron_fault("state", status=503, times=1)
        def test_urllib(spectron_server, spectron_mock):
            url = f"{spectron_server.url}/api/v1/ctx/state"
            request = urllib.request.Request(url, headers={"Authorization": "Bearer k"})
            with pytest.raises(urllib.error.HTTPError) as caught:
                urllib.request.urlopen(request, timeout=5)
            assert caught.value.code == 503
            caught.value.close()
            with urllib.request.urlopen(request, timeout=5) as answer:
                assert "identity" in json.loads(answer.read())
            spectron_mock.assert_attempts("state", 2)
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_loopback_server_answers_unknown_paths_with_404(pytester: pytest.Pytester) -> None:
    """Over the socket a typo gets the fake's 404 problem naming the nearest operations."""
    pytester.makepyfile(
        """
        import json
        import urllib.error
        import urllib.request
        import pytest

        def test_typo(spectron_server):
            with pytest.raises(urllib.error.HTTPError) as caught:
                urllib.request.urlopen(f"{spectron_server.url}/api/v1/ctx/stat", timeout=5)
            assert caught.value.code == 404
            assert "state" in json.loads(caught.value.read())["nearest"]
            caught.value.close()
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_coexists_with_respx_mock(pytester: pytest.Pytester) -> None:
    """respx_mock keeps answering other hosts while spectron_mock answers Spectron."""
    pytester.makepyfile(
        """
        import httpx

        def test_both(spectron, respx_mock):
            respx_mock.get("https://weather.test/today").respond(json={"sky": "blue"})
            spectron.remember("other hosts still work")
            assert httpx.get("https://weather.test/today").json() == {"sky": "blue"}
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_coexists_with_pytest_httpx(pytester: pytest.Pytester) -> None:
    """pytest-httpx mocks its hosts; requests it lets through to Spectron reach the fake."""
    pytester.makepyfile(
        """
        import httpx
        import pytest

        @pytest.mark.httpx_mock(should_mock=lambda request: request.url.host != "spectron.test")
        def test_both(spectron, httpx_mock):
            httpx_mock.add_response(url="https://weather.test/today", json={"sky": "blue"})
            spectron.remember("pytest-httpx and spectron together")
            assert httpx.get("https://weather.test/today").json() == {"sky": "blue"}
            assert spectron.recall("together").hits
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_unroutable_request_fails_the_test_loudly(pytester: pytest.Pytester) -> None:
    """A request matching no operation is an AssertionError naming the nearest ones."""
    pytester.makepyfile(
        """
        import httpx

        def test_typo(spectron_mock):
            httpx.get(spectron_mock.endpoint + "/api/v1/ctx/stat")
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*UnroutableRequest*", "*state*"])


def test_an_unroutable_request_the_app_caught_still_fails_the_test(
    pytester: pytest.Pytester,
) -> None:
    """An ``UnroutableRequest`` under the app's broad ``except`` fails the test after its call."""
    pytester.makepyfile(
        """
        import httpx

        def fetch_state(endpoint):
            try:
                return httpx.get(endpoint + "/api/v1/ctx/stat").json()
            except Exception:
                return None  # the app's fallback hides the typo

        def test_typo_swallowed(spectron_mock):
            assert fetch_state(spectron_mock.endpoint) is None
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*CaughtMockError: the code under test caught 1 error(s) the Spectron mock raised "
            "where it sent a request, so the test passed though they must fail it:",
            "*- UnroutableRequest: GET /api/v1/ctx/stat matches no Spectron operation*",
        ]
    )


def test_an_acknowledged_unroutable_request_passes(pytester: pytest.Pytester) -> None:
    """A test that provokes ``UnroutableRequest`` on purpose takes it with acknowledge_errors."""
    pytester.makepyfile(
        """
        import httpx
        import pytest
        from pytest_spectron import UnroutableRequest

        def test_typo_on_purpose(spectron_mock):
            with pytest.raises(UnroutableRequest):
                httpx.get(spectron_mock.endpoint + "/api/v1/ctx/stat")
            [error] = spectron_mock.acknowledge_errors()
            assert isinstance(error, UnroutableRequest)
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_failure_output_shows_the_ledger_without_the_key(pytester: pytest.Pytester) -> None:
    """A failing assertion prints the attempt ledger, and the API key appears nowhere."""
    pytester.makepyfile(
        """
        import pytest

        import urllib.request

        @pytest.mark.spectron_fault("state", status=500)
        def test_wrong_expectation(spectron, spectron_mock, spectron_server):
            with pytest.raises(Exception):
                spectron.state()
            request = urllib.request.Request(
                f"{spectron_server.url}/api/v1/ctx/me",
                headers={"Authorization": f"Bearer {spectron_mock.api_key}"},
            )
            urllib.request.urlopen(request, timeout=5).close()
            print(repr(spectron), repr(spectron_mock), spectron_mock.attempts())
            spectron_mock.assert_attempts("state", 2)
        """
    )
    result = pytester.runpytest(
        "-v", "-s", "--spectron-report=true", "--spectron-api-key=sk-top-secret-123"
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*expected 2 attempt(s) of 'state', got 4*", "*ledger*"])
    assert "sk-top-secret-123" not in result.stdout.str() + result.stderr.str()


def test_report_option_prints_every_ledger(pytester: pytest.Pytester) -> None:
    """``--spectron-report`` prints each test's ledger in the terminal summary."""
    pytester.makepyfile(
        """
        def test_one(spectron):
            spectron.state()
        """
    )
    result = pytester.runpytest("--spectron-report=true")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*Spectron attempt ledgers*", "*test_one*", "*state*"])


def test_no_bleed_between_tests_after_a_failure(pytester: pytest.Pytester) -> None:
    """A failing test leaks no faults, clock or state into the next."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.spectron_fault("*", status=500)
        def test_fails(spectron, spectron_clock):
            spectron.remember("x")

        def test_clean(spectron, spectron_mock, spectron_clock):
            spectron.state()
            assert spectron_clock.sleeps == []
            assert spectron_mock.fake.facts(spectron_mock.context) == []
        """
    )
    pytester.runpytest().assert_outcomes(passed=1, failed=1)


def test_runs_under_xdist(pytester: pytest.Pytester) -> None:
    """The fixtures work in pytest-xdist workers."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.parametrize("n", range(6))
        @pytest.mark.spectron_fault("state", status=503, times=1)
        def test_many(spectron, spectron_mock, n):
            spectron.state()
            spectron_mock.assert_attempts("state", 2)
        """
    )
    pytester.runpytest_subprocess("-n", "2").assert_outcomes(passed=6)


def test_a_read_timeout_on_a_client_without_timeout_fails_the_test(
    pytester: pytest.Pytester,
) -> None:
    """``read_timeout`` meets a ``timeout=None`` client: it would hang, so the test fails."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.spectron_fault("state", error="read_timeout")
        def test_no_timeout(spectron_mock):
            with spectron_mock.client(timeout=None, max_retries=0) as client:
                try:
                    client.state()
                except Exception:
                    pass  # the app's fallback must not hide it
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*- ClientWouldHang: state: the fault state=read_timeout makes Spectron fall silent, "
            "but this client has no read timeout (it was built with timeout=None): in "
            "production it would hang forever, never raise a timeout.*",
        ]
    )


def test_a_read_timeout_advances_the_clock_by_the_clients_timeout(
    pytester: pytest.Pytester,
) -> None:
    """A ``read_timeout`` takes as long as the client waits: the clock moves by its timeout."""
    pytester.makepyfile(
        """
        import pytest
        from pytest_spectron import SpectronTimeoutError

        @pytest.mark.spectron_fault("state", error="read_timeout", times=2)
        def test_timeout(spectron_mock, spectron_clock):
            with spectron_mock.client(timeout=7.5, max_retries=1) as client:
                with pytest.raises(SpectronTimeoutError):
                    client.state()
            assert spectron_clock.sleeps == [0.25]
            assert spectron_clock.now == 7.5 + 0.25 + 7.5
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_async_spectron_in_a_sync_test_is_a_setup_error(pytester: pytest.Pytester) -> None:
    """A plain test asking for ``async_spectron`` errors at setup, saying to make it async."""
    pytester.makepyfile(
        """
        def test_sync(async_spectron):
            async_spectron.state()
        """
    )
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_sync*",
            "test_sync is a plain (sync) test, but async_spectron is an async client: its calls "
            "return coroutines that the test would have to await. Make the test async (async "
            "def, under pytest-asyncio or anyio), or use the sync client, spectron.",
        ]
    )
    result.stdout.no_fnmatch_line("*'coroutine' object*")
