"""The serving side's layers: which modules may import which, read from the source.

The service knows its backend through protocols only; the admin endpoints know neither the
service nor the fake; one factory (``_wiring``) puts the fake, the faults, the clock, the journal
and the service together, for ``SpectronMock`` and ``serve`` alike. Read statically: importing
any of these modules runs ``pytest_spectron.testing``'s ``__init__``, which loads them all.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "pytest_spectron"
TESTING = "pytest_spectron.testing"


def source_of(module: str) -> Path:
    """The file of a ``pytest_spectron`` module (a package's ``__init__.py``)."""
    path = PACKAGE.parent.joinpath(*module.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def direct_imports(module: str) -> set[str]:
    """The ``pytest_spectron`` modules ``module`` imports, type-checking imports included."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source_of(module).read_text())):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            # ``from package import module`` imports the module; ``from module import name`` not.
            names = [node.module]
            names += [f"{node.module}.{alias.name}" for alias in node.names]
        found |= {
            name
            for name in names
            if name.partition(".")[0] == "pytest_spectron" and source_of(name).exists()
        }
    return found


def is_package(module: str) -> bool:
    """Whether ``module`` is a package (its source an ``__init__.py``)."""
    return source_of(module).name == "__init__.py"


def import_closure(module: str) -> set[str]:
    """The ``pytest_spectron`` modules ``module`` depends on, through its imports and theirs.

    A package imported is a dependency, but its ``__init__`` is not followed: it re-exports its
    modules for users, and Python runs it for any of its modules, whatever they import.
    """
    seen: set[str] = set()
    pending = [module]
    while pending:
        current = pending.pop()
        for imported in direct_imports(current) - seen:
            seen.add(imported)
            if not is_package(imported):
                pending.append(imported)
    return seen


def under(modules: set[str], package: str) -> set[str]:
    """Those of ``modules`` that are ``package`` or inside it."""
    return {name for name in modules if name == package or name.startswith(package + ".")}


@pytest.mark.parametrize("module", ["_service", "_admin"])
def test_the_service_and_admin_endpoints_import_nothing_of_the_fake(module: str) -> None:
    """``_service`` and ``_admin`` reach no fake, forwarder, mock, server or factory module."""
    closure = import_closure(f"{TESTING}.{module}")
    backends = ("_fake", "_upstream", "_mock", "_server", "_wiring", "_cli", "_serve")
    assert set().union(*(under(closure, f"{TESTING}.{name}") for name in backends)) == set()


def test_the_admin_endpoints_do_not_import_the_service() -> None:
    """Dependencies point one way: the service uses the admin endpoints, never the reverse."""
    assert f"{TESTING}._service" not in import_closure(f"{TESTING}._admin")


def test_the_import_reader_sees_an_import_of_the_fake() -> None:
    """The reader above finds what it looks for: the factory does import the fake."""
    assert f"{TESTING}._fake" in direct_imports(f"{TESTING}._wiring")


def constructed(module: str) -> set[str]:
    """The names ``module`` calls directly, such as ``FakeSpectron`` in ``FakeSpectron()``."""
    tree = ast.parse(source_of(module).read_text())
    return {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }


WIRED = {"FakeSpectron", "UpstreamBackend", "FaultEngine", "Journal", "SpectronService"}
"""What ``wire_service`` builds: no other serving module builds them for itself."""


@pytest.mark.parametrize("module", ["_mock", "_cli", "_serve", "_upstream", "_server"])
def test_only_the_factory_wires_a_service(module: str) -> None:
    """The mock, the command line and live mode build no fake, engine, journal or service."""
    assert constructed(f"{TESTING}.{module}") & WIRED == set()


@pytest.mark.parametrize("module", ["_mock", "_serve"])
def test_the_mock_and_serve_both_call_the_factory(module: str) -> None:
    """``SpectronMock`` and the ``serve`` command both get their service from ``wire_service``."""
    assert "wire_service" in constructed(f"{TESTING}.{module}")
    assert f"{TESTING}._wiring" in direct_imports(f"{TESTING}.{module}")
