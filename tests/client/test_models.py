"""The generated models: in step with Spectron's document, strict requests, lenient responses."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

import pydantic
import pytest

from pytest_spectron.client import models
from pytest_spectron.client._scopes import normalize_scope_selector

ROOT = Path(__file__).resolve().parents[2]
GENERATOR = ROOT / "scripts" / "generate_models.py"
SPEC = ROOT.parent / "shared" / "spectron" / "openapi.json"
EXTRACTION = {
    "attributes": [],
    "corrections": [],
    "entities": [],
    "instructions": [],
    "relations": [],
    "turnId": "t",
    "uncertainties": [],
}


@pytest.fixture
def spec_path() -> Path:
    """The path of Spectron's OpenAPI document; the test skips where it is absent."""
    if not SPEC.is_file():
        pytest.skip("../shared/spectron/openapi.json is not present")
    return SPEC


def run_generator(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(GENERATOR), *arguments],
        capture_output=True,
        text=True,
        check=False,
    )


def inspect_variants() -> dict[str, type[pydantic.BaseModel]]:
    """The classes of ``InspectResponse``, by the value of their ``kind``."""
    union = get_args(models.InspectResponse)[0]
    return {get_args(cls.model_fields["kind"].annotation)[0]: cls for cls in get_args(union)}


def object_schemas(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], Any]]:
    """Every object schema of the document with the class generated for it."""
    for name, schema in document["components"]["schemas"].items():
        if schema.get("type") == "object" and "properties" in schema:
            yield name, schema, getattr(models, name.removesuffix("Json"))
        for variant in schema.get("oneOf", []):
            if variant.get("type") == "object" and "properties" in variant:
                kind = variant["properties"]["kind"]["enum"][0]
                yield f"{name}[kind={kind}]", variant, inspect_variants()[kind]


def test_generator_check_passes_against_the_committed_module(spec_path: Path) -> None:
    """``generate_models.py --check`` finds models.py up to date with the document."""
    result = run_generator("--check", "--spec", str(spec_path))
    assert result.returncode == 0, result.stderr


def test_generator_check_fails_on_a_stale_module(spec_path: Path, tmp_path: Path) -> None:
    """``--check`` writes nothing, exits 1 and says how to regenerate when the module differs."""
    stale = tmp_path / "models.py"
    stale.write_text("# stale\n")
    result = run_generator("--check", "--spec", str(spec_path), "--output", str(stale))
    assert result.returncode == 1
    assert "python scripts/generate_models.py" in result.stderr
    assert stale.read_text() == "# stale\n"


def test_every_schema_has_a_public_generated_name(openapi_document: dict[str, Any]) -> None:
    """Each schema of the document is a public name of models.py, without its ``Json`` suffix."""
    names = {name.removesuffix("Json") for name in openapi_document["components"]["schemas"]}
    assert names <= set(models.__all__)
    assert all(hasattr(models, name) for name in models.__all__)


def test_required_properties_are_required_fields_under_their_wire_names(
    openapi_document: dict[str, Any],
) -> None:
    """Every property is a field under its wire name, required exactly when the document says."""
    for where, schema, model in object_schemas(openapi_document):
        fields = {field.alias or name: field for name, field in model.model_fields.items()}
        assert set(fields) == set(schema["properties"]), where
        required = set(schema.get("required", []))
        for wire_name, field in fields.items():
            assert field.is_required() == (wire_name in required), f"{where}.{wire_name}"


def test_a_response_keeps_fields_it_does_not_know() -> None:
    """A field a newer server adds is kept in ``model_extra`` and serialised back."""
    error = models.ApiErrorResponse.model_validate({"message": "no", "hint": "retry later"})
    assert error.model_extra == {"hint": "retry later"}
    assert error.model_dump() == {"message": "no", "hint": "retry later"}


def test_a_response_missing_a_required_field_names_its_wire_name() -> None:
    """A response without a required field fails validation, located at the field's wire name."""
    with pytest.raises(pydantic.ValidationError) as raised:
        models.ChatResponse.model_validate(
            {"memoryUpdates": EXTRACTION, "reply": "hi", "traceId": "t"}
        )
    assert [error["loc"] for error in raised.value.errors()] == [("sessionId",)]


def test_a_model_accepts_attribute_and_wire_names_alike() -> None:
    """``session_id=`` and ``sessionId`` both fill the same field."""
    by_name = models.ChatRequest.model_validate({"message": "hi", "session_id": "s"})
    by_alias = models.ChatRequest.model_validate({"message": "hi", "sessionId": "s"})
    assert by_name == by_alias


def test_a_request_rejects_an_unknown_field() -> None:
    """A misspelt request field fails at once, before anything is sent."""
    with pytest.raises(pydantic.ValidationError, match="sesion_id"):
        models.ChatRequest.model_validate({"message": "hi", "sesion_id": "s"})


def test_to_wire_uses_wire_names_and_drops_none() -> None:
    """``to_wire()`` is the JSON body: the document's field names, and no ``None`` values."""
    request = models.ChatRequest(message="hi", session_id="s", bypass_cache=None)
    assert request.to_wire() == {"message": "hi", "sessionId": "s"}


def test_request_constraints_are_checked_before_sending() -> None:
    """A value below the document's ``minimum`` fails validation."""
    with pytest.raises(pydantic.ValidationError, match="greater than or equal to 0"):
        models.QueryRequest(query="q", k=-1)


@pytest.mark.parametrize(
    ("selector", "clauses"),
    [
        ("team/a", [["team/a"]]),
        (["team/a", "team/b"], [["team/a"], ["team/b"]]),
        (
            [["team/a"], ["team/b", "clearance/secret"]],
            [["team/a"], ["team/b", "clearance/secret"]],
        ),
        (["team/a", ["team/b", "clearance/secret"]], [["team/a"], ["team/b", "clearance/secret"]]),
        (("team/a", ("team/b",)), [["team/a"], ["team/b"]]),
        ([], []),
    ],
)
def test_scope_selectors_in_the_official_forms_normalise(selector: Any, clauses: Any) -> None:
    """A path, a flat list of paths (OR) and a list of clauses (OR of ANDs) become clauses."""
    assert normalize_scope_selector(selector) == clauses
    assert models.FactsRequest(scopes=selector).scopes == clauses


@pytest.mark.parametrize(
    "selector",
    [
        None,
        42,
        b"team/a",
        {"team/a"},
        {"team/a": "x"},
        "",
        " ",
        [""],
        [1],
        ["team/a", None],
        [["team/a", 2]],
        [["team/a", ""]],
        [[["team/a"]]],
    ],
)
def test_scope_selectors_in_other_forms_are_rejected(selector: Any) -> None:
    """Non-strings, empty paths and deeper nesting fail with the accepted forms in the message."""
    with pytest.raises(ValueError, match=r"a scope selector is a path \('team/a'\)"):
        normalize_scope_selector(selector)


def test_a_bad_scope_selector_fails_model_validation() -> None:
    """A model field of type ``ScopeSets`` reports a bad selector as a ValidationError."""
    with pytest.raises(pydantic.ValidationError, match="a scope selector is a path"):
        models.FactsRequest(scopes=[[["team/a"]]])


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"kind": "relation", "matches": []}, models.InspectRelation),
        ({"kind": "attribute", "history": []}, models.InspectAttribute),
    ],
)
def test_inspect_response_is_told_apart_by_kind(body: dict[str, Any], expected: type) -> None:
    """``InspectResponse`` validates into the variant its ``kind`` names."""
    adapter: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(models.InspectResponse)
    assert type(adapter.validate_python(body)) is expected


def test_inspect_response_rejects_an_unknown_kind() -> None:
    """A ``kind`` outside the four documented ones fails, naming the tag."""
    adapter: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(models.InspectResponse)
    with pytest.raises(pydantic.ValidationError, match="union_tag_invalid"):
        adapter.validate_python({"kind": "passage"})
