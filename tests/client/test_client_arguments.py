"""Constructor arguments past the common mistakes: endpoints that do not parse, blank contexts,
no timeout at all, and the "not given" sentinel."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx

from pytest_spectron.client import NOT_GIVEN, AsyncSpectron, Spectron
from pytest_spectron.client.models import StateResponse
from pytest_spectron.testing import SpectronMock

ClientClass = type[Spectron] | type[AsyncSpectron]


@pytest.fixture(params=[Spectron, AsyncSpectron])
def client_class(request: pytest.FixtureRequest) -> ClientClass:
    """The sync client, then the async one: both check their arguments alike."""
    flavour: ClientClass = request.param
    return flavour


@pytest.mark.parametrize(
    "endpoint",
    ["https://spectron.test:https", "http://[::1", "https://spectron.test:99999"],
    ids=["port-not-a-number", "unclosed-ipv6", "port-out-of-range"],
)
def test_an_endpoint_that_does_not_parse_is_not_a_valid_url(
    client_class: ClientClass, endpoint: str
) -> None:
    """A URL the parser refuses is a ValueError that shows the endpoint and an example."""
    with pytest.raises(ValueError, match="is not a valid URL: expected one such as 'https://"):
        client_class("ctx", endpoint, "key")


def test_an_endpoint_httpx_refuses_is_a_value_error(client_class: ClientClass) -> None:
    """A control character httpx will not send becomes a ValueError naming the endpoint."""
    with pytest.raises(ValueError, match=r"endpoint 'http://spectron\\x00.test' is not a valid"):
        client_class("ctx", "http://spectron\x00.test", "key")


@pytest.mark.parametrize(
    "endpoint",
    ["https://user:hunter2@spectron.test:https", "http://user:hunter2@spectron\x00.test"],
    ids=["unparsed", "refused-by-httpx"],
)
def test_a_password_in_a_bad_endpoint_is_not_shown(
    client_class: ClientClass, endpoint: str
) -> None:
    """The error quotes the endpoint with its password as ``***``."""
    with pytest.raises(ValueError, match="not a valid URL") as raised:
        client_class("ctx", endpoint, "key")
    assert "hunter2" not in str(raised.value)
    assert "user:***@" in str(raised.value)


def test_the_mock_wants_its_endpoint_as_a_str() -> None:
    """``SpectronMock(endpoint=42)`` is a TypeError naming the type it got."""
    with pytest.raises(TypeError, match="endpoint must be a str, got int"):
        SpectronMock(endpoint=42)  # type: ignore[arg-type]


def test_a_blank_context_is_refused(client_class: ClientClass) -> None:
    """A context of spaces is no context id: refused like an empty one, showing what came."""
    with pytest.raises(ValueError, match="context must be a non-empty context id, got '  '"):
        client_class("  ", "https://spectron.test", "key")


def test_a_timeout_of_none_waits_without_limit(
    call_client: Callable[..., Any],
    router: respx.MockRouter,
    sample_answer: Callable[[Any], Any],
) -> None:
    """``timeout=None`` sends each request with no limit on any phase, as in httpx."""
    route = router.get("/api/v1/ctx/state").respond(json=sample_answer(StateResponse))
    call_client(lambda client: client.state(), timeout=None)
    assert route.calls.last.request.extensions["timeout"] == httpx.Timeout(None).as_dict()
    assert set(httpx.Timeout(None).as_dict().values()) == {None}


def test_not_given_stays_one_object() -> None:
    """``NOT_GIVEN`` is falsy, shows as its name, and copying or pickling gives it back."""
    assert not NOT_GIVEN
    assert repr(NOT_GIVEN) == "NOT_GIVEN"
    assert copy.deepcopy(NOT_GIVEN) is NOT_GIVEN
    assert pickle.loads(pickle.dumps(NOT_GIVEN)) is NOT_GIVEN
