"""Ids and the context become one path segment each, or are refused before anything is sent."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest
import respx

from pytest_spectron.client import CATALOGUE, AsyncSpectron, Spectron
from pytest_spectron.client._wire import argument_name

ENDPOINT = "https://spectron.test"

# Calls whose first id argument gets the value under test, with that argument's name.
ID_CALLS: dict[str, tuple[str, Callable[[Any, Any], Any]]] = {
    "documents.get": ("document_id", lambda client, value: client.documents.get(value)),
    "documents.delete": ("document_id", lambda client, value: client.documents.delete(value)),
    "entities.delete": (
        "entity_type",
        lambda client, value: client.entities.delete(value, "scopes"),
    ),
    "entities.history": (
        "key",
        lambda client, value: client.entities.history("person", "alice", value),
    ),
    "sessions.turns": ("session_id", lambda client, value: client.sessions.turns(value)),
    "keys.rotate": ("key_name", lambda client, value: client.keys.rotate(value)),
}


@pytest.mark.parametrize("value", ["", ".", ".."])
@pytest.mark.parametrize("name", list(ID_CALLS))
def test_empty_and_dot_segment_ids_are_refused(
    router: respx.MockRouter, call_client: Callable[..., Any], name: str, value: str
) -> None:
    """An empty id, ``.`` or ``..`` would reach another operation: a ValueError names it."""
    argument, action = ID_CALLS[name]
    with pytest.raises(ValueError, match=f"^{argument} "):
        call_client(lambda client: action(client, value))
    assert not router.calls


@pytest.mark.parametrize("value", [None, 7, b"doc-1"])
def test_id_of_the_wrong_type_is_a_type_error(
    router: respx.MockRouter, call_client: Callable[..., Any], value: object
) -> None:
    """``documents.get(None)`` raises a TypeError naming ``document_id`` and the type it got."""
    with pytest.raises(TypeError, match=f"document_id must be a str, got {type(value).__name__}"):
        call_client(lambda client: client.documents.get(value))
    assert not router.calls


@pytest.mark.parametrize("context", [".", ".."])
@pytest.mark.parametrize("client_class", [Spectron, AsyncSpectron])
def test_dot_segment_context_is_refused(client_class: type[Any], context: str) -> None:
    """``Spectron(context="..")`` would call ``/api/state``: a ValueError names ``context``."""
    with pytest.raises(ValueError, match=r"^context must not be"):
        client_class(context, ENDPOINT, "key")


@pytest.mark.parametrize(
    ("document_id", "raw_path"),
    [
        ("a/b", b"/api/v1/ctx/documents/a%2Fb"),
        ("a?b=1", b"/api/v1/ctx/documents/a%3Fb%3D1"),
        ("a#b", b"/api/v1/ctx/documents/a%23b"),
        ("100%", b"/api/v1/ctx/documents/100%25"),
        ("../scopes", b"/api/v1/ctx/documents/..%2Fscopes"),
        ("é", b"/api/v1/ctx/documents/%C3%A9"),
    ],
)
def test_reserved_characters_in_ids_are_percent_encoded(
    router: respx.MockRouter, call_client: Callable[..., Any], document_id: str, raw_path: bytes
) -> None:
    """``/``, ``?``, ``#`` and ``%`` stay inside the id's one segment: the request is its own."""
    route = router.route().respond(204)
    call_client(lambda client: client.documents.delete(document_id))
    request = route.calls.last.request
    assert (request.method, request.url.raw_path) == ("DELETE", raw_path)


def test_reserved_characters_in_the_context_are_percent_encoded(
    router: respx.MockRouter, call_client: Callable[..., Any]
) -> None:
    """A context with ``/`` and ``?`` is one segment: ``/api/v1/a%2Fb%3F/documents/d``."""
    route = router.route().respond(204)
    call_client(lambda client: client.documents.delete("d"), context="a/b?")
    assert route.calls.last.request.url.raw_path == b"/api/v1/a%2Fb%3F/documents/d"


@pytest.mark.parametrize("client_class", [Spectron, AsyncSpectron])
def test_overlong_context_is_refused(client_class: type[Any]) -> None:
    """A 100,000-character context is a ValueError naming the limit, not a bare httpx.InvalidURL."""
    with pytest.raises(ValueError, match=r"context is 100,000 characters long; at most 1,024"):
        client_class("c" * 100_000, ENDPOINT, "key")


def test_overlong_id_is_refused(router: respx.MockRouter, call_client: Callable[..., Any]) -> None:
    """An id over the limit is a ValueError naming the argument; nothing is sent."""
    with pytest.raises(ValueError, match=r"document_id is 70,000 characters long"):
        call_client(lambda client: client.documents.get("d" * 70_000))
    assert not router.calls


def test_overlong_query_is_a_value_error(
    router: respx.MockRouter, call_client: Callable[..., Any]
) -> None:
    """A query argument too long for any URL is a ValueError saying so, not httpx.InvalidURL."""
    with pytest.raises(ValueError, match="inspect: the request URL would be too long"):
        call_client(lambda client: client.inspect("r" * 70_000))
    assert not router.calls


def test_id_errors_name_the_methods_own_arguments() -> None:
    """Each path parameter maps to an argument of its method, so errors name what the user typed."""
    client = Spectron("ctx", ENDPOINT, "key")
    for row in CATALOGUE.values():
        owner = getattr(client, row.namespace) if row.namespace else client
        parameters = inspect.signature(getattr(owner, row.method_name)).parameters
        for parameter in row.path_parameters:
            if parameter != "context_id":
                assert argument_name(parameter) in parameters, row.name
