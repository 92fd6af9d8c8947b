"""What every call of one client shares is worked out once, not per call (issue 12, item 5)."""

from __future__ import annotations

import httpx

from pytest_spectron import Spectron
from pytest_spectron.client import _catalogue as ops


def _client() -> Spectron:
    answer = httpx.Response(200, json={})
    return Spectron(
        "ctx", "https://spectron.test", "key", transport=httpx.MockTransport(lambda _: answer)
    )


def test_an_operation_without_ids_has_its_url_made_once_per_client() -> None:
    """``state`` has no id in its path: its URL is parsed on the first call and reused."""
    with _client() as client:
        builder = client._calls
        first = builder._url(ops.STATE, "/api/v1/ctx/state")
        assert builder._url(ops.STATE, "/api/v1/ctx/state") is first
        assert str(first) == "https://spectron.test/api/v1/ctx/state"


def test_an_operation_with_ids_gets_the_url_of_each_call() -> None:
    """``documents.get`` names a document: each call's URL is its own, never a cached one."""
    with _client() as client:
        builder = client._calls
        a = builder._url(ops.DOCUMENTS_GET, "/api/v1/ctx/documents/a")
        b = builder._url(ops.DOCUMENTS_GET, "/api/v1/ctx/documents/b")
        assert (a.path, b.path) == ("/api/v1/ctx/documents/a", "/api/v1/ctx/documents/b")
