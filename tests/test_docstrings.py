"""Every public function and method of the client documents itself in the reference's style.

The reference renders sphinx fields (``mkdocs.yml``: ``docstring_style: sphinx``): each parameter
needs a ``:param name:``, a function that returns something a ``:return:``, and a method of a
client or a namespace a ``:raises …:``. A new public method without them fails here, not in review.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable

import pydantic
import pytest

import pytest_spectron.client as client_api
from pytest_spectron.client import CATALOGUE, AsyncSpectron, Spectron
from pytest_spectron.client._async._base_client import AsyncBaseClient
from pytest_spectron.client._async._namespace import AsyncNamespace
from pytest_spectron.client._sync._base_client import BaseClient
from pytest_spectron.client._sync._namespace import Namespace

CONSTRUCTED_BY_USERS = (Spectron, AsyncSpectron)
"""The classes a user builds with arguments, so their constructor is public."""
SENDERS = (AsyncBaseClient, AsyncNamespace, BaseClient, Namespace)
"""The clients and their namespaces: every method but closing sends or checks, and may raise."""
CLOSERS = frozenset({"close", "aclose"})


def public_callables() -> dict[str, tuple[Callable[..., object], str, bool]]:
    """``{name: (function, its docstring, whether it must say what it raises)}``."""
    found: dict[str, tuple[Callable[..., object], str, bool]] = {}
    for name in client_api.__all__:
        value = getattr(client_api, name)
        if inspect.isfunction(value):
            found[name] = (value, inspect.getdoc(value) or "", False)
        elif inspect.isclass(value) and not issubclass(value, BaseException | pydantic.BaseModel):
            sends = issubclass(value, SENDERS)
            for attribute, member in inspect.getmembers(value, inspect.isfunction):
                if attribute.startswith("_") or not member.__module__.startswith("pytest_spectron"):
                    continue
                doc = inspect.getdoc(member) or ""
                found[f"{name}.{attribute}"] = (member, doc, sends and attribute not in CLOSERS)
    for built in CONSTRUCTED_BY_USERS:
        found[f"{built.__name__}()"] = (built.__init__, inspect.getdoc(built.__init__) or "", False)
    return found


PUBLIC = public_callables()


def parameters(function: Callable[..., object]) -> list[str]:
    return [name for name in inspect.signature(function).parameters if name != "self"]


@pytest.mark.parametrize("client_class", [Spectron, AsyncSpectron])
def test_the_walk_finds_every_operation_method(client_class: type[BaseClient]) -> None:
    """Each catalogue operation's method, on the client or a namespace, is checked here."""
    client = client_class("ctx", "https://spectron.test", "key")
    checked = {function for function, _, _ in PUBLIC.values()}
    for row in CATALOGUE.values():
        owner = getattr(client, row.namespace) if row.namespace else client
        method = getattr(owner, row.method_name)
        # documents.keywords is a namespace you can call: its method is its __call__.
        function = getattr(method, "__func__", None) or type(method).__call__
        assert function in checked, row.name


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_every_parameter_is_documented(name: str) -> None:
    """The docstring has a ``:param name:`` for each parameter."""
    function, doc, _ = PUBLIC[name]
    missing = [
        parameter
        for parameter in parameters(function)
        if not re.search(rf":param (\S+ )?{parameter}:", doc)
    ]
    assert not missing, f"{name} does not document {missing}"


def returns_something(name: str) -> bool:
    function, _, _ = PUBLIC[name]
    return not name.endswith("()") and inspect.signature(function).return_annotation != "None"


@pytest.mark.parametrize("name", sorted(filter(returns_something, PUBLIC)))
def test_what_is_returned_is_documented(name: str) -> None:
    """A callable that returns something says what, with ``:return:``."""
    _, doc, _ = PUBLIC[name]
    assert re.search(r":returns?:", doc), f"{name} does not document what it returns"


@pytest.mark.parametrize("name", sorted(name for name, (_, _, raises) in PUBLIC.items() if raises))
def test_what_a_client_method_raises_is_documented(name: str) -> None:
    """A method of a client or a namespace says what it raises, with ``:raises …:``."""
    _, doc, _ = PUBLIC[name]
    assert re.search(r":raises \S+:", doc), f"{name} does not document what it raises"
