"""How the fake's answers become bytes: checked once, whatever their size."""

from __future__ import annotations

import json
import typing

import pydantic
import pytest

from pytest_spectron.client import models as m
from pytest_spectron.client._catalogue import CATALOGUE
from pytest_spectron.testing.fake._call import ok
from pytest_spectron.testing.fake._render import render_answer


def response_models() -> set[type[pydantic.BaseModel]]:
    """Every model an operation's answer can hold, nested ones included."""
    found: set[type[pydantic.BaseModel]] = set()
    pending: list[object] = [operation.response for operation in CATALOGUE.values()]
    while pending:
        annotation = pending.pop()
        if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
            if annotation in found:
                continue
            found.add(annotation)
            pending.extend(field.annotation for field in annotation.model_fields.values())
        pending.extend(typing.get_args(annotation))
    return found


def test_no_required_field_of_a_response_model_is_nullable() -> None:
    """An answer dumped without its Nones keeps every required field, so what a handler built
    (validated then) is what its operation accepts, and rendering need not validate it again."""
    models = response_models()
    nullable_required = [
        f"{model.__name__}.{name}"
        for model in models
        for name, field in model.model_fields.items()
        if field.is_required()
        and (type(None) in typing.get_args(field.annotation) or field.annotation is typing.Any)
    ]
    assert len(models) > 50  # the walk reached the nested models
    assert nullable_required == []


def test_an_answer_of_its_operations_class_is_rendered_by_alias_without_nones() -> None:
    """The state answer's bytes: wire names, no null fields."""
    empty = m.CategoryState(entities=[], attributes=[], relations=[])
    answer = m.StateResponse(
        identity=empty, knowledge=empty, context=empty, instructions=[], unknowns=[]
    )
    response = render_answer(CATALOGUE["state"], ok(answer), "trace-1")
    assert json.loads(response.body) == answer.model_dump(
        mode="json", by_alias=True, exclude_none=True
    )
    assert (response.status, ("x-trace-id", "trace-1") in response.headers) == (200, True)


def test_an_answer_of_another_class_is_refused_as_a_bug_of_the_fake() -> None:
    """A handler that built the wrong model fails loudly instead of sending a broken answer."""
    wrong = m.ProfileResponse(static=[], dynamic=[], preferences=[], instructions=[])
    with pytest.raises(AssertionError, match="the fake built a state answer its own models"):
        render_answer(CATALOGUE["state"], ok(wrong), "trace-1")
