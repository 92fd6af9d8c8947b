"""The official SDK's method names work where a thin alias costs nothing: same request, answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import respx

from pytest_spectron.client import CATALOGUE, Spectron

# Each official spelling, and the operation of ours that it sends.
OFFICIAL_SPELLINGS: dict[str, tuple[Callable[[Any], Any], str]] = {
    "documents.keywords.list": (lambda c: c.documents.keywords.list(q="tea"), "documents.keywords"),
    "documents.keywords.get": (lambda c: c.documents.keywords.get("tea"), "documents.keyword"),
    "documents.keywords.search": (
        lambda c: c.documents.keywords.search("tea", k=2),
        "documents.search_keywords",
    ),
    "documents.keywords.for_document": (
        lambda c: c.documents.keywords.for_document("d1"),
        "documents.document_keywords",
    ),
    "lifecycle.fsck": (lambda c: c.lifecycle.fsck(max_results=5), "fsck"),
}
# The same calls, spelt as this client's own methods.
OUR_SPELLINGS: dict[str, Callable[[Any], Any]] = {
    "documents.keywords": lambda c: c.documents.keywords(q="tea"),
    "documents.keyword": lambda c: c.documents.keyword("tea"),
    "documents.search_keywords": lambda c: c.documents.search_keywords("tea", k=2),
    "documents.document_keywords": lambda c: c.documents.document_keywords("d1"),
    "fsck": lambda c: c.fsck(max_results=5),
}


@pytest.mark.parametrize("spelling", list(OFFICIAL_SPELLINGS))
def test_official_spelling_sends_the_same_request_as_ours(
    router: respx.MockRouter,
    call_client: Callable[..., Any],
    sample_answer: Callable[[Any], Any],
    spelling: str,
) -> None:
    """The official name sends our operation's request, and decodes its answer the same way."""
    official, name = OFFICIAL_SPELLINGS[spelling]
    operation = CATALOGUE[name]
    route = router.route(method=operation.method, path__regex=r"^/api/v1/ctx/").respond(
        json=sample_answer(operation.response)
    )

    answers = [call_client(official), call_client(OUR_SPELLINGS[name])]

    first, second = (call.request for call in route.calls)
    assert (first.method, first.url, first.content) == (second.method, second.url, second.content)
    assert answers[0] == answers[1]


def test_context_id_is_the_context() -> None:
    """``client.context_id``, the official SDK's name, is ``client.context``."""
    assert Spectron("my-app", "https://spectron.test", "key").context_id == "my-app"
