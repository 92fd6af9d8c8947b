"""Fixtures for the client's tests: a respx router on a fake endpoint, and recorded waits."""

from __future__ import annotations

import asyncio
import types
import typing
from collections.abc import Callable, Iterator
from typing import Any, Literal, Union, get_args, get_origin

import pydantic
import pytest
import respx

from pytest_spectron.client import AsyncSpectron, Spectron, use_sleep

ENDPOINT = "https://spectron.test"
CONTEXT = "ctx"
API_KEY = "sk-test-0123456789"


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    """A respx router for the test endpoint; every request must match a route."""
    with respx.mock(base_url=ENDPOINT, assert_all_called=False) as mock:
        yield mock


@pytest.fixture
def sleeps() -> Iterator[list[float]]:
    """The retry waits the clients request, recorded instead of slept."""
    recorded: list[float] = []

    async def sleep_async(seconds: float) -> None:
        recorded.append(seconds)

    with use_sleep(recorded.append, sleep_async):
        yield recorded


@pytest.fixture(params=["sync", "async"])
def call_client(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """``call_client(action, **options)``: ``action(client)`` on a fresh sync, then async, client.

    The test runs once per flavour; an async action's coroutine is awaited.
    """

    def call(action: Callable[[Any], Any], **options: Any) -> Any:
        arguments = {"context": CONTEXT, "endpoint": ENDPOINT, "api_key": API_KEY} | options
        if request.param == "sync":
            with Spectron(**arguments) as client:
                return action(client)

        async def main() -> Any:
            async with AsyncSpectron(**arguments) as client:
                return await action(client)

        return asyncio.run(main())

    return call


@pytest.fixture
def sample_answer() -> Callable[[Any], Any]:
    """Builds a minimal valid answer body for a response type."""
    return sample


def sample(annotation: Any) -> Any:
    """A minimal wire value of ``annotation``: required fields only, first enum value."""
    origin = get_origin(annotation)
    if annotation is None or annotation is type(None):
        return None
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return {
            field.alias or name: sample(field.annotation)
            for name, field in annotation.model_fields.items()
            if field.is_required()
        }
    if origin is typing.Annotated:
        return sample(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        members = [arg for arg in get_args(annotation) if arg is not type(None)]
        return sample(members[0])
    if origin is Literal:
        return get_args(annotation)[0]
    if origin is list:
        return []
    if origin is dict:
        return {}
    simple = {str: "x", int: 1, float: 1.5, bool: True, bytes: "raw"}
    if annotation in simple:
        return simple[annotation]
    if annotation is Any or annotation is object:
        return {}
    raise TypeError(f"no sample for {annotation!r}")
