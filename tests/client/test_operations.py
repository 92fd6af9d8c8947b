"""Every catalogue operation, called once through the sync and the async client against respx."""

from __future__ import annotations

import asyncio
import json
import typing
from collections.abc import Callable
from typing import Any, get_origin

import httpx
import pydantic
import pytest
import respx

from pytest_spectron.client import CATALOGUE, AsyncSpectron, Spectron

ENDPOINT = "https://spectron.test"

# The smallest valid call of each operation; path parameters are all "p1".
INVOCATIONS: dict[str, Callable[[Any], Any]] = {
    "remember": lambda c: c.remember("the sky is blue"),
    "remember_many": lambda c: c.remember_many([{"role": "user", "content": "hi"}]),
    "recall": lambda c: c.recall("sky"),
    "forget": lambda c: c.forget("sky"),
    "chat": lambda c: c.chat("hello"),
    "consolidate": lambda c: c.consolidate(),
    "reflect": lambda c: c.reflect("what do I like?"),
    "elaborate": lambda c: c.elaborate(),
    "query_context": lambda c: c.query_context("sky"),
    "fsck": lambda c: c.fsck(),
    "inspect": lambda c: c.inspect("person/alice"),
    "state": lambda c: c.state(),
    "whoami": lambda c: c.whoami(),
    "profile": lambda c: c.profile(),
    "audit": lambda c: c.audit(),
    "health": lambda c: c.health(),
    "documents.upload": lambda c: c.documents.upload(b"hello", filename="a.txt"),
    "documents.list": lambda c: c.documents.list(),
    "documents.get": lambda c: c.documents.get("p1"),
    "documents.reprocess": lambda c: c.documents.reprocess("p1", b"hello again"),
    "documents.delete": lambda c: c.documents.delete("p1"),
    "documents.fetch_raw": lambda c: c.documents.fetch_raw("p1"),
    "documents.chunks": lambda c: c.documents.chunks("p1"),
    "documents.document_keywords": lambda c: c.documents.document_keywords("p1"),
    "documents.query": lambda c: c.documents.query("sky"),
    "documents.recompute_links": lambda c: c.documents.recompute_links(),
    "documents.keywords": lambda c: c.documents.keywords(),
    "documents.keyword": lambda c: c.documents.keyword("p1"),
    "documents.search_keywords": lambda c: c.documents.search_keywords("sky"),
    "sessions.create": lambda c: c.sessions.create(),
    "sessions.delete": lambda c: c.sessions.delete("p1"),
    "sessions.turns": lambda c: c.sessions.turns("p1"),
    "sessions.context": lambda c: c.sessions.context("p1", "sky"),
    "entities.list": lambda c: c.entities.list(),
    "entities.get": lambda c: c.entities.get("p1", "p1"),
    "entities.delete": lambda c: c.entities.delete("p1", "p1"),
    "entities.history": lambda c: c.entities.history("p1", "p1", "p1"),
    "scopes.list": lambda c: c.scopes.list(),
    "scopes.register": lambda c: c.scopes.register("team/a/"),
    "scopes.delete": lambda c: c.scopes.delete("team/a/"),
    "scopes.forget": lambda c: c.scopes.forget("team/a/"),
    "scopes.grant": lambda c: c.scopes.grant(subject="alice"),
    "principals.list": lambda c: c.principals.list(),
    "principals.get": lambda c: c.principals.get("p1"),
    "principals.effective": lambda c: c.principals.effective("p1", "team/a/"),
    "principals.grant": lambda c: c.principals.grant("p1", "team/*", ["memory:read"]),
    "principals.revoke": lambda c: c.principals.revoke("p1", "team/*", ["memory:read"]),
    "keys.list": lambda c: c.keys.list(),
    "keys.create": lambda c: c.keys.create(name="ci"),
    "keys.delete": lambda c: c.keys.delete("p1"),
    "keys.rotate": lambda c: c.keys.rotate("p1"),
    "traces.list": lambda c: c.traces.list(),
    "traces.get": lambda c: c.traces.get("p1"),
    "traces.stats": lambda c: c.traces.stats(),
    "lifecycle.decay": lambda c: c.lifecycle.decay(),
    "lifecycle.expire": lambda c: c.lifecycle.expire(),
}


def test_every_operation_has_an_invocation() -> None:
    """The table below covers the whole catalogue."""
    assert set(INVOCATIONS) == set(CATALOGUE)


def answer_for(name: str, sample: Callable[[Any], Any]) -> httpx.Response:
    operation = CATALOGUE[name]
    if operation.response is None:
        return httpx.Response(204)
    if operation.response is bytes:
        return httpx.Response(200, content=b"\x00raw bytes\xff")
    return httpx.Response(200, json=sample(operation.response))


def check_result(name: str, result: Any) -> None:
    operation = CATALOGUE[name]
    if operation.response is None:
        assert result is None
    elif operation.response is bytes:
        assert result == b"\x00raw bytes\xff"
    elif get_origin(operation.response) in (list, typing.Annotated):
        pydantic.TypeAdapter(operation.response).validate_python(result)
    else:
        assert isinstance(result, operation.response)


@pytest.mark.parametrize("flavour", ["sync", "async"])
@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_operation_round_trip(
    router: respx.MockRouter,
    sample_answer: Callable[[Any], Any],
    flavour: str,
    name: str,
) -> None:
    """The call reaches the documented method and path with the key, and decodes the answer."""
    operation = CATALOGUE[name]
    parameters = dict.fromkeys(operation.path_parameters, "p1") | {"context_id": "ctx"}
    route = router.route(method=operation.method, path=operation.expand(**parameters))
    route.mock(return_value=answer_for(name, sample_answer))

    if flavour == "sync":
        with Spectron("ctx", ENDPOINT, "sk-secret") as client:
            result = INVOCATIONS[name](client)
    else:

        async def main() -> Any:
            async with AsyncSpectron("ctx", ENDPOINT, "sk-secret") as client:
                return await INVOCATIONS[name](client)

        result = asyncio.run(main())

    check_result(name, result)
    request = route.calls.last.request
    assert request.headers["authorization"] == "Bearer sk-secret"
    if operation.body == "json":
        assert request.headers["content-type"] == "application/json"
        json.loads(request.content)
    elif operation.body == "multipart":
        assert request.headers["content-type"].startswith("multipart/form-data")
