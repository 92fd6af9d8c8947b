"""Every request names its sender: ``pytest-spectron/<version> python-httpx/<version>``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx

import pytest_spectron
from pytest_spectron.client import AsyncSpectron, Spectron
from pytest_spectron.client.models import FactsResponse, StateResponse, Whoami

ENDPOINT = "https://spectron.test"
USER_AGENT = f"pytest-spectron/{pytest_spectron.__version__} python-httpx/{httpx.__version__}"


def read_write_and_stream(client: Any) -> Any:
    """A read, an idempotent write and a streamed chat, on a client of either flavour."""
    if isinstance(client, AsyncSpectron):

        async def calls() -> None:
            await client.state()
            await client.remember("sky")
            async with await client.chat("hi", stream=True) as stream:
                [chunk async for chunk in stream]

        return calls()
    client.state()
    client.remember("sky")
    with client.chat("hi", stream=True) as stream:
        list(stream)
    return None


def test_every_request_carries_the_user_agent(
    router: respx.MockRouter, call_client: Callable[..., Any], sample_answer: Callable[[Any], Any]
) -> None:
    """A read, an idempotent write and a stream each send ``pytest-spectron/… python-httpx/…``."""
    router.get("/api/v1/ctx/state").respond(json=sample_answer(StateResponse))
    router.post("/api/v1/ctx/facts").respond(json=sample_answer(FactsResponse))
    router.post("/api/v1/ctx/chat").respond(
        headers={"content-type": "text/event-stream"}, content=b"data: [DONE]\n\n"
    )

    call_client(read_write_and_stream)

    assert [call.request.headers["user-agent"] for call in router.calls] == [USER_AGENT] * 3


def test_injected_client_with_httpx_default_sends_ours_alone(
    router: respx.MockRouter, sample_answer: Callable[[Any], Any]
) -> None:
    """An ``http_client`` left with httpx's own User-Agent sends ours in its place."""
    route = router.get("/api/v1/ctx/me").respond(json=sample_answer(Whoami))
    with httpx.Client() as http, Spectron("ctx", ENDPOINT, "key", http_client=http) as client:
        client.whoami()

    assert route.calls.last.request.headers["user-agent"] == USER_AGENT


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_injected_client_user_agent_goes_first(
    router: respx.MockRouter, sample_answer: Callable[[Any], Any], flavour: str
) -> None:
    """An ``http_client`` with a User-Agent of its own keeps it, followed by ours."""
    route = router.get("/api/v1/ctx/me").respond(json=sample_answer(Whoami))
    headers = {"User-Agent": "my-app/2.0"}
    if flavour == "sync":
        with httpx.Client(headers=headers) as http:
            Spectron("ctx", ENDPOINT, "key", http_client=http).whoami()
    else:

        async def main() -> None:
            async with httpx.AsyncClient(headers=headers) as http:
                await AsyncSpectron("ctx", ENDPOINT, "key", http_client=http).whoami()

        asyncio.run(main())

    assert route.calls.last.request.headers["user-agent"] == f"my-app/2.0 {USER_AGENT}"
