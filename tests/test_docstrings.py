"""Every public function, method and fixture documents itself in the reference's style.

The reference renders sphinx fields (``mkdocs.yml``: ``docstring_style: sphinx``): each parameter
needs a ``:param name:``, a function that returns something a ``:return:``, and a method that
sends (a client's or a namespace's) or asserts (``assert_*``) a ``:raises …:``; a fixture says
what it gives with ``:return:``. The public API is what ``__all__`` exports from the client, the
testing package and its strategies, plus the plugin's fixtures. A new public function without
its fields fails here, not in review; a new export the reference does not render fails too.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import re
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pydantic
import pytest

import pytest_spectron
import pytest_spectron.client as client_api
import pytest_spectron.plugin as plugin
import pytest_spectron.testing as testing_api
import pytest_spectron.testing.strategies as strategies_api
from pytest_spectron.client import (
    CATALOGUE,
    AsyncChatStream,
    AsyncSpectron,
    ChatStream,
    Operation,
    Spectron,
)
from pytest_spectron.client._async._base_client import AsyncBaseClient
from pytest_spectron.client._async._namespace import AsyncNamespace
from pytest_spectron.client._sync._base_client import BaseClient
from pytest_spectron.client._sync._namespace import Namespace
from pytest_spectron.testing import Attempt, MatrixCase, ServiceRequest

PUBLIC_MODULES = (client_api, testing_api, strategies_api)
"""The modules whose ``__all__`` is the public API (``pytest_spectron`` re-exports from two)."""
REFERENCE = Path(__file__).parent.parent / "docs" / "reference"
RECORDS = (Attempt, MatrixCase, Operation, ServiceRequest)
"""Dataclasses the library fills in and users read: each field documents itself as an attribute."""
CONSTRUCTED_BY_LIBRARY = (BaseException, pydantic.BaseModel, AsyncChatStream, ChatStream, *RECORDS)
"""Errors, answers, streams and records: users get them, never build them, so their constructors
are not documented (their attributes are)."""
CLIENT_CONSTRUCTORS = (Spectron, AsyncSpectron)
"""The client classes a user builds; the namespaces come from a client."""
SENDERS = (AsyncBaseClient, AsyncNamespace, BaseClient, Namespace)
"""The clients and their namespaces: every method but closing sends or checks, and may raise."""
CLOSERS = frozenset({"close", "aclose"})


@dataclasses.dataclass(frozen=True)
class Documented:
    """One public callable and what its docstring must hold."""

    function: Callable[..., object]
    doc: str
    parameters: tuple[str, ...]
    returns: bool
    """Whether it must say what it returns: it returns something, and is no constructor."""
    raises: bool
    """Whether it must say what it raises."""


def documented(
    function: Callable[..., object], doc: str | None = None, *, raises: bool = False
) -> Documented:
    signature = inspect.signature(function)
    names = tuple(name for name in signature.parameters if name not in ("self", "cls"))
    constructor = function.__name__ == "__init__"
    returns = not constructor and signature.return_annotation not in ("None", None)
    if doc is None:
        doc = inspect.getdoc(function) or ""
    return Documented(function, doc, names, returns, raises)


def class_members(owner: type) -> Iterator[tuple[str, Documented]]:
    """A class's public constructor, methods and properties, as the reference renders them."""
    sends = issubclass(owner, SENDERS)
    if not issubclass(owner, CONSTRUCTED_BY_LIBRARY) and (
        owner in CLIENT_CONSTRUCTORS or not issubclass(owner, SENDERS)
    ):
        # mkdocs.yml merges __init__ into the class: its fields may sit in either docstring.
        init = owner.__init__
        doc = "\n".join(filter(None, (inspect.getdoc(owner), inspect.getdoc(init))))
        yield "()", documented(init, doc)
    for attribute in dir(owner):
        if attribute.startswith("_"):
            continue
        static = inspect.getattr_static(owner, attribute)
        if isinstance(static, property):
            if static.fget is not None and static.fget.__module__.startswith("pytest_spectron"):
                # A property is an attribute: it documents what it holds, with no fields.
                getter = static.fget
                yield (
                    f".{attribute}",
                    Documented(getter, inspect.getdoc(getter) or "", (), False, False),
                )
            continue
        member = getattr(owner, attribute)
        if not (inspect.isfunction(member) or inspect.ismethod(member)):
            continue
        if not member.__module__.startswith("pytest_spectron"):
            continue
        must_raise = (sends and attribute not in CLOSERS) or attribute.startswith("assert_")
        yield f".{attribute}", documented(member, raises=must_raise)


def exported_callables(module: ModuleType) -> Iterator[tuple[str, Documented]]:
    for name in module.__all__:
        value = getattr(module, name)
        owner = value if inspect.isclass(value) else type(value)
        if inspect.isfunction(value):
            yield name, documented(value)
        elif owner.__module__.startswith("pytest_spectron") and not isinstance(value, ModuleType):
            # A class, or an instance of one of ours (PASS): its members are public too.
            for member, found in class_members(owner):
                if inspect.isclass(value) or member != "()":
                    yield name + member, found


def fixtures() -> dict[str, Callable[..., object]]:
    """The plugin's fixtures, found as pytest's decorator leaves them in its module."""
    fixture_type = type(plugin.spectron_mock)
    return {name: value for name, value in vars(plugin).items() if isinstance(value, fixture_type)}


def public_callables() -> dict[str, Documented]:
    found: dict[str, Documented] = {}
    for module in PUBLIC_MODULES:
        prefix = module.__name__.removeprefix("pytest_spectron.")
        found.update(
            (f"{prefix}.{name}", callable_) for name, callable_ in exported_callables(module)
        )
    for name, fixture in fixtures().items():
        doc = inspect.getdoc(fixture) or ""
        # A fixture's parameters are other fixtures: it documents what it gives instead.
        found[f"fixture {name}"] = Documented(fixture, doc, (), True, False)
    return found


PUBLIC = public_callables()


@pytest.mark.parametrize("client_class", [Spectron, AsyncSpectron])
def test_the_walk_finds_every_operation_method(client_class: type[BaseClient]) -> None:
    """Each catalogue operation's method, on the client or a namespace, is checked here."""
    client = client_class("ctx", "https://spectron.test", "key")
    checked = {found.function for found in PUBLIC.values()}
    for row in CATALOGUE.values():
        owner = getattr(client, row.namespace) if row.namespace else client
        method = getattr(owner, row.method_name)
        # documents.keywords is a namespace you can call: its method is its __call__.
        function = getattr(method, "__func__", None) or type(method).__call__
        assert function in checked, row.name


@pytest.mark.parametrize("module", PUBLIC_MODULES, ids=lambda module: module.__name__)
def test_the_walk_finds_every_export(module: ModuleType) -> None:
    """Each exported function and class (and each public method of one) is checked here."""
    prefix = module.__name__.removeprefix("pytest_spectron.")
    for name in module.__all__:
        value = getattr(module, name)
        if inspect.isfunction(value):
            assert f"{prefix}.{name}" in PUBLIC, name
        elif inspect.isclass(value) and not issubclass(value, CONSTRUCTED_BY_LIBRARY):
            methods = [
                attribute
                for attribute, member in inspect.getmembers(value, callable)
                if not attribute.startswith("_")
                and getattr(member, "__module__", "").startswith("pytest_spectron")
                and not inspect.isclass(member)
            ]
            assert all(f"{prefix}.{name}.{method}" in PUBLIC for method in methods), name


def test_the_top_level_names_come_from_the_walked_modules() -> None:
    """``pytest_spectron`` only re-exports names the client or the testing package export."""
    walked = {name for module in PUBLIC_MODULES for name in module.__all__}
    assert set(pytest_spectron.__all__) - {"__version__"} <= walked


def test_the_walk_finds_every_fixture(pytester: pytest.Pytester) -> None:
    """``pytest --fixtures`` lists exactly the fixtures checked here under the plugin's name."""
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    result = pytester.runpytest("--fixtures", "-p", "no:randomly")
    listed = result.stdout.str().partition(
        "fixtures defined from pytest_spectron.plugin._fixtures"
    )[2]
    listed = listed.partition("\n---")[0].partition("\n==")[0]
    names = set(re.findall(r"^(\w+)(?: \[.*?\])? -- ", listed, re.MULTILINE))
    assert "spectron_mock" in names, listed
    assert names == set(fixtures()), listed


def field_docstrings(record: type) -> set[str]:
    """The fields of a dataclass followed by a string: their attribute docstrings."""
    body = ast.parse(textwrap.dedent(inspect.getsource(record))).body[0]
    assert isinstance(body, ast.ClassDef)
    return {
        statement.target.id
        for statement, following in zip(body.body, body.body[1:], strict=False)
        if isinstance(statement, ast.AnnAssign)
        and isinstance(statement.target, ast.Name)
        and isinstance(following, ast.Expr)
        and isinstance(following.value, ast.Constant)
        and isinstance(following.value.value, str)
    }


@pytest.mark.parametrize("record", RECORDS, ids=lambda record: record.__name__)
def test_every_field_of_a_record_is_documented(record: type) -> None:
    """Each field of a record the library fills in has an attribute docstring."""
    fields = {field.name for field in dataclasses.fields(record)}
    assert fields - field_docstrings(record) == set()


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_every_public_callable_has_a_docstring(name: str) -> None:
    """Functions, methods, properties and fixtures all say what they are."""
    assert PUBLIC[name].doc.strip(), f"{name} has no docstring"


@pytest.mark.parametrize("name", sorted(name for name, found in PUBLIC.items() if found.parameters))
def test_every_parameter_is_documented(name: str) -> None:
    """The docstring has a ``:param name:`` for each parameter."""
    found = PUBLIC[name]
    missing = [
        parameter
        for parameter in found.parameters
        if not re.search(rf":param (\S+ )?{parameter}:", found.doc)
    ]
    assert not missing, f"{name} does not document {missing}"


@pytest.mark.parametrize("name", sorted(name for name, found in PUBLIC.items() if found.returns))
def test_what_is_returned_is_documented(name: str) -> None:
    """A callable that returns something (a fixture: gives) says what, with ``:return:``."""
    assert re.search(r":returns?:", PUBLIC[name].doc), f"{name} does not document what it returns"


@pytest.mark.parametrize("name", sorted(name for name, found in PUBLIC.items() if found.raises))
def test_what_a_sender_or_an_assertion_raises_is_documented(name: str) -> None:
    """A method that sends or asserts says what it raises, with ``:raises …:``."""
    assert re.search(r":raises \S+:", PUBLIC[name].doc), f"{name} does not document what it raises"


def rendered() -> set[str]:
    """The dotted names the reference's ``:::`` directives render, members included."""
    names: set[str] = set()
    for page in REFERENCE.glob("*.md"):
        text = page.read_text(encoding="utf-8")
        for block in re.split(r"^(?=::: )", text, flags=re.MULTILINE)[1:]:
            target = block.split()[1]
            members = re.search(r"^\s+members:\n((?:\s+- \S+\n)+)", block, re.MULTILINE)
            names.add(target)
            if members:
                names.update(f"{target}.{member}" for member in re.findall(r"- (\S+)", members[1]))
            else:
                names.add(f"{target}.*")
    return names


def is_rendered(module: ModuleType, name: str, names: set[str]) -> bool:
    value = getattr(module, name)
    home = importlib.import_module(getattr(value, "__module__", module.__name__))
    return any(
        f"{where}.{name}" in names or f"{where}.*" in names
        for where in (module.__name__, home.__name__)
    )


@pytest.mark.parametrize("module", PUBLIC_MODULES, ids=lambda module: module.__name__)
def test_the_reference_renders_every_exported_class_and_function(module: ModuleType) -> None:
    """Each exported class and function has a ``:::`` directive in docs/reference."""
    names = rendered()
    missing = [
        name
        for name in module.__all__
        if (inspect.isclass(getattr(module, name)) or inspect.isfunction(getattr(module, name)))
        and not is_rendered(module, name, names)
    ]
    assert not missing, f"docs/reference renders none of {missing} from {module.__name__}"


def test_the_reference_renders_every_fixture() -> None:
    """The plugin's fixtures have a ``:::`` directive in docs/reference."""
    names = rendered()
    missing = [name for name in fixtures() if not is_rendered(plugin, name, names)]
    assert not missing, f"docs/reference renders none of the fixtures {missing}"
