"""The generated models: in step with Spectron's document, strict requests, lenient responses."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
import pydantic
import pytest
from pydantic.fields import FieldInfo

from pytest_spectron.client import models
from pytest_spectron.client._scopes import normalize_scope_selector

ROOT = Path(__file__).resolve().parents[2]
GENERATOR = ROOT / "scripts" / "generate_models.py"
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
def spec_path(openapi_path: Path) -> Path:
    """The path of Spectron's OpenAPI document (skips where absent, fails under CI=true)."""
    return openapi_path


def run_generator(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(GENERATOR), *arguments],
        capture_output=True,
        text=True,
        check=False,
    )


def inspect_variants() -> dict[str, type[pydantic.BaseModel]]:
    """The documented classes of ``InspectResponse``, by the value of their ``kind``."""
    union = get_args(models.InspectResponse)[0]
    classes = [get_args(tagged)[0] for tagged in get_args(union)]
    return {
        get_args(cls.model_fields["kind"].annotation)[0]: cls
        for cls in classes
        if cls is not models.InspectUnknown
    }


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


def test_request_enums_are_checked_before_sending() -> None:
    """A value outside a request field's enum fails validation."""
    with pytest.raises(pydantic.ValidationError, match="'identity', 'knowledge' or 'context'"):
        models.FactsRequest(text="sky", memory_category="hobby")


def response_fields() -> Iterator[tuple[str, FieldInfo]]:
    """Every field of every generated response model, but the inspect shapes' ``kind`` tag."""
    tagged = set(inspect_variants().values())
    for name in models.__all__:
        model = getattr(models, name)
        if isinstance(model, type) and issubclass(model, models.ResponseModel):
            for attribute, field in model.model_fields.items():
                if not (model in tagged and attribute == "kind"):
                    yield f"{name}.{attribute}", field


def limits(metadata: list[Any], annotation: Any) -> list[Any]:
    """The value limits (``ge``, ``max_length``, ``pattern``…) of a field, nested ones too."""
    found = [item for item in metadata if isinstance(item, annotated_types.BaseMetadata)]
    arguments = get_args(annotation)
    if get_origin(annotation) is Annotated:
        for extra in arguments[1:]:
            found += limits(extra.metadata if isinstance(extra, FieldInfo) else [extra], None)
    return found + [limit for argument in arguments for limit in limits([], argument)]


def closed_enums(annotation: Any) -> list[Any]:
    """The ``Literal`` types in ``annotation`` that admit no other string."""
    origin = get_origin(annotation)
    if origin is Literal:
        return [annotation]
    arguments = get_args(annotation)
    if origin in (Union, types.UnionType) and str in arguments:
        arguments = tuple(a for a in arguments if get_origin(a) is not Literal)
    return [closed for argument in arguments for closed in closed_enums(argument)]


def test_response_models_enforce_no_limits() -> None:
    """No response field carries the document's limits: a newer server may widen them."""
    found = {where: limits(field.metadata, field.annotation) for where, field in response_fields()}
    assert {where: limited for where, limited in found.items() if limited} == {}


def test_response_enums_admit_any_string() -> None:
    """Every enum in a response field also takes any string: a newer server may add values."""
    found = {where: closed_enums(field.annotation) for where, field in response_fields()}
    assert {where: closed for where, closed in found.items() if closed} == {}


def import_file(monkeypatch: pytest.MonkeyPatch, name: str, path: Path) -> Any:
    """The module at ``path``, imported as ``name`` for the rest of the test."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def generate(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """``generate(document)``: the module the generator writes for ``document``, imported."""
    generator = import_file(monkeypatch, "generate_models", GENERATOR)

    def run(document: dict[str, Any]) -> Any:
        path = tmp_path / "generated_models.py"
        path.write_text(generator.generate(document))
        return import_file(monkeypatch, "generated_models", path)

    return run


def schema_ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def test_generator_opens_responses_by_rule(generate: Any) -> None:
    """Limits and enums, inline or through an alias, bind the request and never the response."""
    properties = {
        "count": schema_ref("Count"),
        "colour": schema_ref("Colour"),
        "size": {"type": "integer", "maximum": 10},
        "shades": {"type": "array", "items": {"type": "string", "enum": ["light", "dark"]}},
    }
    body = {"type": "object", "required": list(properties), "properties": properties}
    operation = {
        "requestBody": {"content": {"application/json": {"schema": schema_ref("Ask")}}},
        "responses": {"200": {"content": {"application/json": {"schema": schema_ref("Answer")}}}},
    }
    schemas = {
        "Count": {"type": "integer", "minimum": 0},
        "Colour": {"type": "string", "enum": ["red", "blue"]},
        "Ask": body,
        "Answer": body,
    }
    generated = generate(
        {"paths": {"/paint": {"post": operation}}, "components": {"schemas": schemas}}
    )
    newer = {"count": -1, "colour": "green", "size": 11, "shades": ["pale"]}

    assert generated.Answer.model_validate(newer).model_dump() == newer
    with pytest.raises(pydantic.ValidationError) as raised:
        generated.Ask.model_validate(newer)
    assert {error["loc"][0] for error in raised.value.errors()} == set(properties)


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


def test_inspect_response_keeps_an_unknown_kind_whole() -> None:
    """A ``kind`` outside the documented ones is an ``InspectUnknown`` keeping every field."""
    adapter: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(models.InspectResponse)
    answer = adapter.validate_python({"kind": "passage", "documentId": "d1", "index": 3})
    assert type(answer) is models.InspectUnknown
    assert (answer.kind, answer.model_extra) == ("passage", {"documentId": "d1", "index": 3})


def test_inspect_response_without_a_kind_fails() -> None:
    """An answer with no ``kind`` at all is no inspect shape, and fails naming the discriminator."""
    adapter: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(models.InspectResponse)
    with pytest.raises(pydantic.ValidationError, match="union_tag_not_found"):
        adapter.validate_python({"matches": []})


def test_a_documented_inspect_kind_is_still_validated() -> None:
    """A known ``kind`` with a malformed body fails; it is never passed off as unknown."""
    adapter: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(models.InspectResponse)
    with pytest.raises(pydantic.ValidationError, match="matches"):
        adapter.validate_python({"kind": "relation"})


def test_models_build_their_validators_on_first_use() -> None:
    """Importing the client builds no validator; validating one model builds it, not the rest."""
    script = """
import pydantic
from pytest_spectron.client import models

classes = [
    value for value in vars(models).values()
    if isinstance(value, type) and issubclass(value, pydantic.BaseModel)
]
assert classes and not [cls for cls in classes if cls.__pydantic_complete__]
models.ForgetRequest(query="the old address")
built = sorted(cls.__name__ for cls in classes if cls.__pydantic_complete__)
print(built)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['ForgetRequest']"
