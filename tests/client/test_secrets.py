"""The API key, and a password in the endpoint, never show in a repr, an error or a traceback.

pytest's ``--showlocals`` (and ``--tb=long -l``) prints ``repr()`` of every local of every frame in
a failure's traceback, chained exceptions included; the walk below does the same.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from pytest_spectron.client import (
    AsyncSpectron,
    Spectron,
    SpectronConnectionError,
    SpectronError,
    SpectronServerError,
)
from pytest_spectron.client._catalogue import CATALOGUE
from pytest_spectron.client._options import ClientOptions
from pytest_spectron.client._wire import CallBuilder

ENDPOINT = "https://spectron.test"
API_KEY = "sk-test-0123456789"
PASSWORD = "hunter2-password"
TESTS = str(Path(__file__).resolve().parents[1])


def shown_locals(error: BaseException) -> Iterator[str]:
    """``function.name = repr`` for every local of every frame outside tests/, causes included."""
    pending, seen = [error], set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        entry = current.__traceback__
        while entry is not None:
            code = entry.tb_frame.f_code
            if not code.co_filename.startswith(TESTS):
                for name, value in entry.tb_frame.f_locals.items():
                    yield f"{code.co_name}.{name} = {shown_repr(value)}"
            entry = entry.tb_next
        pending += [link for link in (current.__cause__, current.__context__) if link]


def shown_repr(value: object) -> str:
    """``repr(value)``, or what pytest shows when that raises (a half-built object's repr may)."""
    try:
        return repr(value)
    except Exception as exc:
        return f"<{exc!r} raised in repr()>"


def refused_endpoint() -> str:
    """A loopback URL where nothing listens: every connection is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_exhausted_retries_keep_the_key_out_of_frame_locals(
    router: respx.MockRouter, sleeps: list[float], call_client: Callable[..., Any]
) -> None:
    """Four 503s: no frame of the traceback holds the raw key in a local's repr."""
    router.get("/api/v1/ctx/state").respond(503)
    with pytest.raises(SpectronServerError) as caught:
        call_client(lambda client: client.state())
    assert [line for line in shown_locals(caught.value) if API_KEY in line] == []


def test_connection_error_keeps_the_key_out_of_frame_locals(
    sleeps: list[float], call_client: Callable[..., Any]
) -> None:
    """A refused connection, retried to the end: no frame, httpx's included, shows the key."""
    with pytest.raises(SpectronConnectionError) as caught:
        call_client(lambda client: client.state(), endpoint=refused_endpoint())
    assert [line for line in shown_locals(caught.value) if API_KEY in line] == []


def test_call_refused_while_building_keeps_the_key_out_of_frame_locals(
    router: respx.MockRouter, call_client: Callable[..., Any]
) -> None:
    """A bad argument found while the request is built (headers made) shows no key either."""
    with pytest.raises(ValueError, match="on_behalf_of") as caught:
        call_client(lambda client: client.state(on_behalf_of="bad\n"))
    assert [line for line in shown_locals(caught.value) if API_KEY in line] == []


@pytest.mark.parametrize("client_class", [Spectron, AsyncSpectron])
def test_bad_constructor_argument_keeps_the_key_out_of_frame_locals(
    client_class: type[Any],
) -> None:
    """A bad timeout next to a good key: the constructor's frames hold only the redacted key."""
    with pytest.raises(ValueError, match="timeout") as caught:
        client_class("ctx", ENDPOINT, API_KEY, timeout=-1)
    assert [line for line in shown_locals(caught.value) if API_KEY in line] == []


@pytest.mark.parametrize("client_class", [Spectron, AsyncSpectron])
def test_refused_api_key_is_not_in_frame_locals(client_class: type[Any]) -> None:
    """A key refused for a stray character is neither echoed nor left in a frame's locals."""
    key = API_KEY + "é"
    with pytest.raises(ValueError, match="api_key") as caught:
        client_class("ctx", ENDPOINT, key)
    assert [line for line in shown_locals(caught.value) if API_KEY in line] == []


def test_client_objects_never_show_the_key() -> None:
    """Clients, their namespaces, options and built calls: every repr redacts the key."""
    options = ClientOptions.create("ctx", ENDPOINT, API_KEY, timeout=1.0, max_retries=0)
    client = Spectron("ctx", ENDPOINT, API_KEY)
    builder = CallBuilder(client._http, client._options)
    call = builder.build(CATALOGUE["state"])
    shown = [
        repr(vars(builder)),
        repr(options),
        repr(client),
        repr(AsyncSpectron("ctx", ENDPOINT, API_KEY)),
        repr(client.documents),
        repr(call),
        repr(call.request.headers),
    ]
    assert [text for text in shown if API_KEY in text] == []


def test_errors_and_their_httpx_causes_never_show_the_key(sleeps: list[float]) -> None:
    """The error, its str and repr, and the httpx request it is chained to show no key."""
    with (
        Spectron("ctx", refused_endpoint(), API_KEY) as client,
        pytest.raises(SpectronError) as caught,
    ):
        client.state()
    cause = caught.value.__cause__
    assert isinstance(cause, httpx.ConnectError)
    shown = [str(caught.value), repr(caught.value), repr(cause), repr(cause.request.headers)]
    assert [text for text in shown if API_KEY in text] == []


@pytest.mark.parametrize("client_class", [Spectron, AsyncSpectron])
def test_endpoint_password_is_redacted_in_the_repr(client_class: type[Any]) -> None:
    """``http://user:secret@host`` is shown as ``http://user:***@host``."""
    client = client_class("ctx", f"https://alice:{PASSWORD}@spectron.test", API_KEY)
    assert "'https://alice:***@spectron.test'" in repr(client)
    assert PASSWORD not in repr(client) + repr(client._options)


def test_endpoint_password_is_kept_out_of_connection_errors(
    sleeps: list[float], call_client: Callable[..., Any]
) -> None:
    """A connection error names the URL it tried, without the endpoint's password."""
    endpoint = refused_endpoint().replace("//", f"//alice:{PASSWORD}@")
    with pytest.raises(SpectronConnectionError, match=r"GET http://127\.0\.0\.1") as caught:
        call_client(lambda client: client.state(), endpoint=endpoint)
    assert PASSWORD not in str(caught.value) + repr(caught.value)


def test_endpoint_credentials_never_replace_the_api_key(
    router: respx.MockRouter, call_client: Callable[..., Any]
) -> None:
    """httpx would turn URL credentials into Basic auth; the API key is sent as Bearer instead."""
    route = router.get("/api/v1/health").respond(204)
    call_client(lambda client: client.health(), endpoint=f"https://alice:{PASSWORD}@spectron.test")
    assert route.calls.last.request.headers["authorization"] == f"Bearer {API_KEY}"
