"""responses, requests-mock and aioresponses in the same test as the mock: each answers its own.

The user's mock answers the other hosts (and refuses what it does not know, as it always does);
Spectron's endpoint stays with the fake, whichever of them started first.
"""

from __future__ import annotations

import pytest


def test_responses_answers_other_hosts_and_spectron_stays_with_the_fake(
    pytester: pytest.Pytester,
) -> None:
    """Under responses (decorator and context manager), the SDK still reaches the fake."""
    pytester.makepyfile(
        """
        import pytest
        import requests
        import responses
        from surrealdb_memory import Memory

        @responses.activate
        @pytest.mark.spectron_fault("state", status=503, times=1)
        def test_decorated(spectron_mock, spectron_clock):
            responses.get("https://weather.test/today", json={"sky": "blue"})
            with Memory(spectron_mock.context, endpoint=spectron_mock.endpoint,
                        api_key=spectron_mock.api_key) as memory:
                memory.state()
            assert requests.get("https://weather.test/today").json() == {"sky": "blue"}
            spectron_mock.assert_attempts("state", 2)
            assert spectron_clock.sleeps == [0.25]
            with pytest.raises(requests.ConnectionError, match="Connection refused by Responses"):
                requests.get("https://unknown.test/")

        def test_started_after_the_mock(spectron_mock):
            with responses.RequestsMock() as mocked:
                mocked.get("https://weather.test/today", json={"sky": "grey"})
                url = spectron_mock.endpoint + "/api/v1/ctx/state"
                assert requests.get(url, headers={"Authorization": "Bearer k"}).status_code == 200
                assert requests.get("https://weather.test/today").json() == {"sky": "grey"}
            spectron_mock.assert_attempts("state", 1)
        """
    )
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=2)


def test_requests_mock_answers_other_hosts_and_spectron_stays_with_the_fake(
    pytester: pytest.Pytester,
) -> None:
    """Under requests-mock's fixture, a Session and the SDK still reach the fake."""
    pytester.makepyfile(
        """
        import pytest
        import requests
        import requests_mock as requests_mock_module
        from surrealdb_memory import Memory

        @pytest.mark.spectron_fault("remember", status=502, times=1)
        def test_both(spectron_mock, requests_mock):
            requests_mock.get("https://weather.test/today", json={"sky": "blue"})
            with Memory(spectron_mock.context, endpoint=spectron_mock.endpoint,
                        api_key=spectron_mock.api_key) as memory:
                memory.remember("Alice prefers tea")
            with requests.Session() as session:
                assert session.get("https://weather.test/today").json() == {"sky": "blue"}
            spectron_mock.assert_attempts("remember", 2)
            assert requests_mock.call_count == 1
            with pytest.raises(requests_mock_module.NoMockAddress):
                requests.get("https://unknown.test/")
        """
    )
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=1)


def test_aioresponses_answers_other_hosts_and_spectron_stays_with_the_fake(
    pytester: pytest.Pytester,
) -> None:
    """Under aioresponses, aiohttp sessions and the async SDK still reach the fake.

    aioresponses 0.7.9 cannot build a response under aiohttp 3.14 (the SDK's floor; upstream
    issue pnuckowski/aioresponses#289): its routes here answer with exceptions, which it can.
    """
    pytester.makepyfile(
        """
        import aiohttp
        import pytest
        from aioresponses import aioresponses
        from yarl import URL
        from surrealdb_memory import AsyncMemory

        @pytest.mark.asyncio
        @pytest.mark.spectron_fault("state", status=503, times=2)
        async def test_both(spectron_mock, spectron_clock):
            weather = "https://weather.test/today"
            with aioresponses() as mocked:
                mocked.get(weather, exception=aiohttp.ServerTimeoutError("weather is slow"))
                async with AsyncMemory(spectron_mock.context, endpoint=spectron_mock.endpoint,
                                       api_key=spectron_mock.api_key) as memory:
                    await memory.state()
                async with aiohttp.ClientSession() as session:
                    with pytest.raises(aiohttp.ServerTimeoutError, match="weather is slow"):
                        await session.get(weather)
                    with pytest.raises(aiohttp.ClientConnectionError, match="Connection refused"):
                        await session.get("https://unknown.test/")
                    url = spectron_mock.endpoint + "/api/v1/ctx/state"
                    async with session.get(url, headers={"Authorization": "Bearer k"}) as answer:
                        assert answer.status == 200
                assert list(mocked.requests) == [
                    ("GET", URL(weather)),
                    ("GET", URL("https://unknown.test/")),
                ]
            spectron_mock.assert_attempts("state", 4)
            assert spectron_clock.sleeps == [0.25, 0.5]
        """
    )
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=1)
