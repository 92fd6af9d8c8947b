"""Header values (API key, on_behalf_of, idempotency key) are refused before anything is sent.

HTTP header values are printable ASCII; anything else used to fail later with a bare
``UnicodeEncodeError``, or (a NUL over a socket) was retried as a connection error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import respx

from pytest_spectron.client import AsyncSpectron, Spectron

ENDPOINT = "https://spectron.test"
BAD_VALUES = {
    "non-ASCII": ("sk-clé-0123", "a non-ASCII character"),
    "NUL": ("sk-\x00-0123", "a control character"),
    "line break": ("sk-0123\r\nX-Evil: 1", "a line break"),
    "tab": ("sk-\t-0123", "a control character"),
    "trailing newline": ("sk-0123\n", "a line break"),
    "leading space": (" sk-0123", "starts or ends with whitespace"),
}


@pytest.mark.parametrize("bad", list(BAD_VALUES))
@pytest.mark.parametrize("client_class", [Spectron, AsyncSpectron])
def test_api_key_that_cannot_be_a_header_is_refused(client_class: type[Any], bad: str) -> None:
    """A ValueError names ``api_key`` and the problem, at construction."""
    key, problem = BAD_VALUES[bad]
    with pytest.raises(ValueError, match=f"^api_key .*{problem}") as caught:
        client_class("ctx", ENDPOINT, key)
    assert key.strip() not in str(caught.value)


@pytest.mark.parametrize("bad", list(BAD_VALUES))
def test_on_behalf_of_that_cannot_be_a_header_is_refused(
    router: respx.MockRouter, call_client: Callable[..., Any], bad: str
) -> None:
    """A ValueError names ``on_behalf_of`` and shows the value; nothing is sent."""
    value, problem = BAD_VALUES[bad]
    with pytest.raises(ValueError, match=f"^on_behalf_of .*{problem}"):
        call_client(lambda client: client.state(on_behalf_of=value))
    assert not router.calls


@pytest.mark.parametrize("bad", list(BAD_VALUES))
def test_idempotency_key_that_cannot_be_a_header_is_refused(
    router: respx.MockRouter, call_client: Callable[..., Any], bad: str
) -> None:
    """A ValueError names ``idempotency_key``; nothing is sent."""
    value, problem = BAD_VALUES[bad]
    with pytest.raises(ValueError, match=f"^idempotency_key .*{problem}"):
        call_client(lambda client: client.remember("sky", idempotency_key=value))
    assert not router.calls


@pytest.mark.parametrize("argument", ["on_behalf_of", "idempotency_key"])
def test_header_argument_of_the_wrong_type_is_a_type_error(
    router: respx.MockRouter, call_client: Callable[..., Any], argument: str
) -> None:
    """A non-string header argument is a TypeError naming it and its type."""
    with pytest.raises(TypeError, match=f"^{argument} must be a str, got int"):
        call_client(lambda client: client.remember("sky", **{argument: 42}))
    assert not router.calls


@pytest.mark.parametrize("argument", ["on_behalf_of", "idempotency_key"])
def test_empty_header_argument_is_refused(
    router: respx.MockRouter, call_client: Callable[..., Any], argument: str
) -> None:
    """An empty string is refused rather than silently dropped or replaced."""
    with pytest.raises(ValueError, match=f"^{argument} must be a non-empty string"):
        call_client(lambda client: client.remember("sky", **{argument: ""}))
    assert not router.calls


def test_printable_ascii_with_inner_spaces_is_sent_as_is(
    router: respx.MockRouter, call_client: Callable[..., Any]
) -> None:
    """Every printable ASCII character is accepted, inner spaces included."""
    route = router.get("/api/v1/health").respond(204)
    value = "".join(map(chr, range(0x20, 0x7F))).strip()
    call_client(lambda client: client.health(on_behalf_of=value))
    assert route.calls.last.request.headers["x-spectron-on-behalf-of"] == value
