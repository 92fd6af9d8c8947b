"""Redirects are followed as both official SDKs follow them, the credentials kept at home.

The official Python SDK sends every request with ``allow_redirects=True`` (requests,
surrealdb_memory/_transport.py) and ``allow_redirects=True`` (aiohttp); the JavaScript SDK calls
``fetch`` with its default ``redirect: "follow"``. All three drop ``Authorization`` when a
redirect leaves the origin, and so does httpx, which builds each hop here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import respx

from pytest_spectron.client import SpectronAPIError
from pytest_spectron.client._wire import MAX_REDIRECTS

ENDPOINT = "https://spectron.test"
HEALTH = f"{ENDPOINT}/api/v1/health"
API_KEY = "sk-test-0123456789"


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    """A respx router for any origin; every request must match a route."""
    with respx.mock(assert_all_called=False) as mock:
        yield mock


def moved(location: str, status: int = 302) -> httpx.Response:
    """A redirect to ``location``."""
    return httpx.Response(status, headers={"location": location})


def test_a_redirect_is_followed_to_its_answer(
    router: respx.MockRouter, call_client: Callable[..., Any]
) -> None:
    """A 302 is followed and its target's answer is the call's, credentials kept on the origin."""
    router.get(HEALTH).mock(return_value=moved("/api/v2/health"))
    target = router.get(f"{ENDPOINT}/api/v2/health").mock(return_value=httpx.Response(200))

    call_client(lambda client: client.health())

    assert target.calls.last.request.headers["authorization"] == f"Bearer {API_KEY}"


def test_a_redirect_to_another_origin_drops_the_api_key(
    router: respx.MockRouter, call_client: Callable[..., Any]
) -> None:
    """A hop to another host goes without ``Authorization``, as requests, aiohttp and fetch do."""
    router.get(HEALTH).mock(return_value=moved("https://elsewhere.test/health", 307))
    target = router.get("https://elsewhere.test/health").mock(return_value=httpx.Response(200))

    call_client(lambda client: client.health())

    assert "authorization" not in target.calls.last.request.headers


def test_a_post_moved_with_303_is_fetched_with_get(
    router: respx.MockRouter, call_client: Callable[..., Any]
) -> None:
    """303 turns the POST into a GET (307 and 308 keep it), as every HTTP client does."""
    router.post(f"{ENDPOINT}/api/v1/ctx/lifecycle/expire").mock(
        return_value=moved("/api/v1/ctx/expired", 303)
    )
    target = router.get(f"{ENDPOINT}/api/v1/ctx/expired").mock(
        return_value=httpx.Response(200, json={"affected": 0})
    )

    call_client(lambda client: client.lifecycle.expire())

    assert target.calls.last.request.method == "GET"


def test_a_redirect_loop_is_an_api_error_naming_it(
    router: respx.MockRouter, call_client: Callable[..., Any], sleeps: list[float]
) -> None:
    """A 302 pointing back at itself is followed 20 times, then a 302 error; never retried."""
    route = router.get(HEALTH).mock(return_value=moved(HEALTH))

    with pytest.raises(SpectronAPIError) as caught:
        call_client(lambda client: client.health())

    assert caught.value.status_code == 302
    assert f"redirected {MAX_REDIRECTS} times without an answer" in caught.value.message
    assert (route.call_count, sleeps) == (MAX_REDIRECTS + 1, [])
