"""A newer Spectron's answers decode: new enum values, inspect kinds, ranges and fields are kept."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import respx

from pytest_spectron.client import models


def test_an_unknown_enum_value_is_kept_as_a_string(
    router: respx.MockRouter, call_client: Callable[..., Any], sample_answer: Callable[[Any], Any]
) -> None:
    """A document ``status`` the document does not list comes back as that string."""
    answer = sample_answer(models.Document) | {"status": "archived"}
    router.get("/api/v1/ctx/documents/d1").respond(json=answer)

    document = call_client(lambda client: client.documents.get("d1"))

    assert document.status == "archived"


def test_an_unknown_inspect_kind_is_kept_with_its_fields(
    router: respx.MockRouter, call_client: Callable[..., Any]
) -> None:
    """``inspect`` of a kind the client does not know is an ``InspectUnknown`` with every field."""
    passage = {"kind": "passage", "documentId": "d1", "index": 3, "text": "tea at four"}
    router.get("/api/v1/ctx/inspect").respond(json=passage)

    answer = call_client(lambda client: client.inspect("passage:d1/3"))

    assert isinstance(answer, models.InspectUnknown)
    assert answer.model_dump() == passage


def test_a_number_beyond_the_documented_range_is_kept(
    router: respx.MockRouter, call_client: Callable[..., Any]
) -> None:
    """Counts below the document's ``minimum: 0`` decode as sent, never a decode error."""
    answer = {"documents": [], "page": -1, "pageSize": 0, "total": -3}
    router.get("/api/v1/ctx/documents").respond(json=answer)

    page = call_client(lambda client: client.documents.list())

    assert (page.page, page.total) == (-1, -3)


def test_an_unknown_field_is_kept(
    router: respx.MockRouter, call_client: Callable[..., Any], sample_answer: Callable[[Any], Any]
) -> None:
    """A field the document does not define is kept in ``model_extra``, in nested models too."""
    document = sample_answer(models.Document) | {"language": "en"}
    answer = {"documents": [document], "page": 1, "pageSize": 1, "total": 1, "cursor": "c2"}
    router.get("/api/v1/ctx/documents").respond(json=answer)

    page = call_client(lambda client: client.documents.list())

    assert (page.model_extra, page.documents[0].model_extra) == (
        {"cursor": "c2"},
        {"language": "en"},
    )
