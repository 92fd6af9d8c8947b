"""Other HTTP mocks in the same test: nothing shadows the fake, or the test says so."""

from __future__ import annotations

import pytest


def test_pytest_httpx_without_should_mock_leaves_spectron_to_the_fake(
    pytester: pytest.Pytester,
) -> None:
    """pytest-httpx mocks transports; the fake answers above them, so Spectron is never lost."""
    pytester.makepyfile(
        """
        import httpx

        def test_both(spectron, httpx_mock):
            httpx_mock.add_response(url="https://weather.test/today", json={"sky": "blue"})
            spectron.remember("pytest-httpx needs no should_mock")
            assert httpx.get("https://weather.test/today").json() == {"sky": "blue"}
            assert spectron.recall("should_mock").hits
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_pytest_httpx_async_client_leaves_spectron_to_the_fake(pytester: pytest.Pytester) -> None:
    """The same with async clients."""
    pytester.makepyfile(
        """
        import httpx
        import pytest

        @pytest.mark.asyncio
        async def test_both(async_spectron, httpx_mock):
            httpx_mock.add_response(url="https://weather.test/today", json={"sky": "blue"})
            async with async_spectron, httpx.AsyncClient() as other:
                await async_spectron.remember("async too")
                assert (await other.get("https://weather.test/today")).json() == {"sky": "blue"}
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_respx_route_on_the_spectron_host_is_reported(pytester: pytest.Pytester) -> None:
    """A user's respx route matching the endpoint fails the call with RouteConflict, not silence."""
    pytester.makepyfile(
        """
        import httpx

        def test_conflict(spectron, spectron_mock, respx_mock):
            respx_mock.get(spectron_mock.endpoint + "/api/v1/test-context/state").respond(500)
            spectron.state()
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*RouteConflict: respx route(s) registered by the test also match requests to the "
            "Spectron mock's endpoint http://spectron.test:*",
            "*<Host eq 'spectron.test'>*",
            "*Shape Spectron's answers through spectron_mock instead*",
        ]
    )


def test_respx_router_that_answers_first_is_reported_when_the_test_ends(
    pytester: pytest.Pytester,
) -> None:
    """A client-level router started after the mock answers first: the test fails at its end."""
    pytester.makepyfile(
        """
        import httpx
        import pytest
        import respx

        @pytest.fixture
        def late_router(spectron_mock):
            with respx.mock(using="httpx", assert_all_called=False) as router:
                router.get("http://spectron.test/api/v1/test-context/state").respond(
                    json={"knowledge": {}}
                )
                yield router

        def test_shadowed(late_router):
            httpx.get("http://spectron.test/api/v1/test-context/state")
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*RouteConflict*", "*Host eq 'spectron.test'*"])


def test_respx_router_started_before_the_mock_is_reported_at_the_request(
    pytester: pytest.Pytester,
) -> None:
    """A client-level router started before the mock: the request itself fails."""
    pytester.makepyfile(
        """
        import httpx
        import pytest
        import respx

        @pytest.fixture
        def early_router():
            with respx.mock(using="httpx", assert_all_called=False) as router:
                router.get("http://spectron.test/api/v1/test-context/state").respond(500)
                yield router

        def test_shadowed(early_router, spectron_mock):
            httpx.get("http://spectron.test/api/v1/test-context/state")
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*RouteConflict*"])


def test_nested_mocks_each_answer_their_endpoint_and_the_newest_wins(
    pytester: pytest.Pytester,
) -> None:
    """A second SpectronMock inside the fixture's: its own host, or the same one, newest first."""
    pytester.makepyfile(
        """
        import httpx
        from pytest_spectron import SpectronMock

        def test_nested(spectron, spectron_mock):
            with SpectronMock(endpoint="http://other.test") as other:
                with other.client() as client:
                    client.state()
                spectron.state()
            with SpectronMock() as same:
                spectron.whoami()
            assert [a.operation for a in other.attempts()] == ["state"]
            assert [a.operation for a in spectron_mock.attempts()] == ["state"]
            assert [a.operation for a in same.attempts()] == ["whoami"]
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_routes_on_other_hosts_and_catch_alls_are_not_conflicts(
    pytester: pytest.Pytester,
) -> None:
    """Only routes whose pattern matches the endpoint count; a catch-all is a fallback."""
    pytester.makepyfile(
        """
        import httpx

        def test_fine(spectron, respx_mock):
            respx_mock.get("https://weather.test/today").respond(json={"sky": "blue"})
            respx_mock.route().respond(404)
            spectron.state()
            assert httpx.get("https://weather.test/today").json() == {"sky": "blue"}
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


REPORTED = """
import pytest

@pytest.mark.parametrize("n", range(4))
def test_many(spectron, n):
    spectron.remember(f"fact {n}")
"""


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["in-process", "xdist"])
def test_report_prints_every_ledger_with_and_without_xdist(
    pytester: pytest.Pytester, workers: list[str]
) -> None:
    """``--spectron-report=true`` prints the four ledgers, also when xdist workers ran them."""
    pytester.makepyfile(REPORTED)
    result = pytester.runpytest_subprocess("--spectron-report=true", "-p", "no:randomly", *workers)
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["*Spectron attempt ledgers*"])
    for n in range(4):
        result.stdout.fnmatch_lines([f"test_report_prints*::test_many[[]{n}[]]", "*remember*"])
