"""The operation catalogue matches Spectron's official OpenAPI document, row for row."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_spectron.client import CATALOGUE, AsyncSpectron, Spectron, models, operation
from pytest_spectron.client import _catalogue as ops

HTTP_METHODS = ("get", "post", "put", "delete", "patch")


def documented_operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): spec
        for path, item in document["paths"].items()
        for method, spec in item.items()
        if method in HTTP_METHODS
    }


def test_every_documented_operation_is_in_the_catalogue(openapi_document: dict[str, Any]) -> None:
    """Each method and path of the document has exactly one catalogue row."""
    rows = {(row.method, row.path) for row in CATALOGUE.values()}
    assert set(documented_operations(openapi_document)) == rows
    assert len(rows) == len(CATALOGUE) == 56


def test_catalogue_operation_ids_match_the_document(openapi_document: dict[str, Any]) -> None:
    """Each row carries the operationId the document gives its method and path."""
    documented = documented_operations(openapi_document)
    for row in CATALOGUE.values():
        assert documented[row.method, row.path]["operationId"] == row.operation_id, row.name


def test_catalogue_query_parameters_match_the_document(openapi_document: dict[str, Any]) -> None:
    """Each row lists exactly the query parameters the document declares."""
    documented = documented_operations(openapi_document)
    for row in CATALOGUE.values():
        parameters = documented[row.method, row.path].get("parameters", [])
        declared = {p["name"] for p in parameters if p["in"] == "query"}
        assert set(row.query) == declared, row.name


def test_catalogue_path_parameters_match_the_document(openapi_document: dict[str, Any]) -> None:
    """Each row's path parameters are the ones the document declares."""
    documented = documented_operations(openapi_document)
    for row in CATALOGUE.values():
        parameters = documented[row.method, row.path].get("parameters", [])
        declared = {p["name"] for p in parameters if p["in"] == "path"}
        assert set(row.path_parameters) == declared, row.name


def test_catalogue_body_kinds_match_the_document(openapi_document: dict[str, Any]) -> None:
    """JSON bodies, multipart bodies and bodiless operations are classed as documented."""
    documented = documented_operations(openapi_document)
    kinds = {"application/json": "json", "multipart/form-data": "multipart"}
    for row in CATALOGUE.values():
        content = documented[row.method, row.path].get("requestBody", {}).get("content", {})
        assert [kinds[media] for media in content] == ([] if row.body == "none" else [row.body])


def test_catalogue_response_models_match_the_document(openapi_document: dict[str, Any]) -> None:
    """Each row's response type is the model generated for the documented success schema."""
    documented = documented_operations(openapi_document)
    for row in CATALOGUE.values():
        responses = documented[row.method, row.path]["responses"]
        success = [spec for status, spec in responses.items() if status.startswith("2")]
        content = success[0].get("content", {}) if success else {}
        media: dict[str, Any] = next(iter(content.values()), {})
        schema = media.get("schema")
        if schema is None:
            assert row.response in (None, bytes), row.name
            continue
        reference = schema.get("$ref") or schema["items"]["$ref"]
        model = getattr(models, reference.rsplit("/", 1)[1].removesuffix("Json"))
        expected = model if "$ref" in schema else list[model]  # type: ignore[valid-type]
        assert row.response == expected, row.name


def test_retry_classes_follow_the_policy() -> None:
    """GETs are reads, remember and remember_many idempotent writes, the rest writes."""
    for row in CATALOGUE.values():
        if row.method == "GET":
            assert row.retry_class == "read", row.name
        elif row.name in ("remember", "remember_many"):
            assert row.retry_class == "idempotent_write", row.name
        else:
            assert row.retry_class == "write", row.name


@pytest.mark.parametrize("client_class", [Spectron, AsyncSpectron])
def test_every_operation_has_a_client_method(client_class: type[Any]) -> None:
    """Each row names a method that exists on the client or on its namespace."""
    client = client_class("ctx", "https://spectron.test", "key")
    for row in CATALOGUE.values():
        owner = getattr(client, row.namespace) if row.namespace else client
        assert callable(getattr(owner, row.method_name, None)), row.name


def test_every_operation_is_a_constant_named_after_it() -> None:
    """``documents.upload`` is ``DOCUMENTS_UPLOAD``, the constant the clients send it by."""
    for name, row in CATALOGUE.items():
        assert getattr(ops, name.upper().replace(".", "_")) is row, name


def test_operation_lookup_suggests_the_nearest_names() -> None:
    """A typo in an operation name is answered with the closest real ones."""
    with pytest.raises(KeyError, match="did you mean 'remember'"):
        operation("remembr")
