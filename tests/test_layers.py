"""The package's layers: which modules may import which, read from the source.

Imports flow one way, from the top of this list to the bottom (a module may import its own
folder's modules and any folder below its own, never one above or beside it)::

    pytest_spectron            the re-exports and ``python -m pytest_spectron``
    plugin                     the pytest side: hooks, options, markers, fixtures, reports
    testing                    the stand-ins put together: SpectronMock, ``serve``, strategies
    testing.transports         in-process interception, the loopback server, live mode
    testing.service            routing to a backend, the journal, the clock, admin, controls
    testing.faults | fake      the fault vocabulary and engine | the stateful fake (not each other)
    testing.http               exchanges, routes, problem answers, multipart bodies
    client                     the typed client: httpx and pydantic only
    _shared                    the endpoint rule, the version, the defaults: nothing of ours

Read statically: importing a module runs its packages' ``__init__``, which would load the rest.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "pytest_spectron"
ROOT = "pytest_spectron"

LAYERS: tuple[tuple[str, ...], ...] = (
    (f"{ROOT}._shared",),
    (f"{ROOT}.client",),
    (f"{ROOT}.testing.http",),
    (f"{ROOT}.testing.faults", f"{ROOT}.testing.fake"),
    (f"{ROOT}.testing.service",),
    (f"{ROOT}.testing.transports",),
    (f"{ROOT}.testing",),
    (f"{ROOT}.plugin",),
    (ROOT,),
)
"""Lowest first; folders on one line are peers that may not import each other."""

MAX_MODULES_PER_FOLDER = 12
"""So a newcomer reads a folder at a glance (``__init__`` not counted)."""


def source_of(module: str) -> Path:
    """The file of a ``pytest_spectron`` module (a package's ``__init__.py``)."""
    path = PACKAGE.parent.joinpath(*module.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def all_modules() -> list[str]:
    """Every module of the package, packages included, by dotted name."""
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def _type_checking_only(tree: ast.Module) -> set[int]:
    """The line numbers of imports made only for the type checker (``if TYPE_CHECKING:``)."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def direct_imports(module: str, *, typing: bool = True) -> frozenset[str]:
    """The ``pytest_spectron`` modules ``module`` imports (with ``typing``, type-only ones too).

    ``from package import submodule`` imports the submodule; ``from package import name``, the
    package.
    """
    return _imports_in(source_of(module), typing)


@functools.cache  # each file is parsed once for all the tests (models.py is large)
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


@functools.cache
def _imports_in(path: Path, typing: bool) -> frozenset[str]:
    tree = _tree(path)
    skipped = set() if typing else _type_checking_only(tree)
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)) and node.lineno in skipped:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if source_of(submodule).exists() else node.module)
    return frozenset(name for name in found if name.partition(".")[0] == ROOT)


def layer_of(module: str) -> tuple[int, str]:
    """The module's layer (its index in ``LAYERS``) and the folder that places it there."""
    best = (-1, "")
    for index, folders in enumerate(LAYERS):
        for folder in folders:
            if (module == folder or module.startswith(folder + ".")) and len(folder) > len(best[1]):
                best = (index, folder)
    return best


def upward_imports() -> Iterator[str]:
    """Each import that goes up the layers or sideways to a peer folder, in words."""
    for module in all_modules():
        layer, folder = layer_of(module)
        for imported in sorted(direct_imports(module)):
            other_layer, other_folder = layer_of(imported)
            if other_layer > layer or (other_layer == layer and other_folder != folder):
                yield f"{module} imports {imported} ({other_folder} is not below {folder})"


def cycles() -> list[list[str]]:
    """The import circles among modules, counting imports made at run time only."""
    graph = {module: direct_imports(module, typing=False) for module in all_modules()}
    found: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for imported in sorted(graph.get(module, ())):
            if state.get(imported) == 1:
                found.append([*path[path.index(imported) :], imported])
            elif imported not in state:
                visit(imported, [*path, imported])
        state[module] = 2

    for module in graph:
        if module not in state:
            visit(module, [module])
    return found


def test_every_module_has_a_layer() -> None:
    """A new folder is placed in ``LAYERS`` (and so in the docstring's map) when it is made."""
    assert [module for module in all_modules() if layer_of(module)[0] < 0] == []


def test_imports_only_go_down_the_layers() -> None:
    """No module imports a folder above its own, or a peer folder on its own layer."""
    assert list(upward_imports()) == []


def test_there_are_no_import_circles() -> None:
    """No module needs, at run time, a module that needs it back."""
    assert cycles() == []


def test_no_folder_holds_more_than_a_dozen_modules() -> None:
    """Each folder can be read at a glance."""
    crowded = {
        str(folder.relative_to(PACKAGE.parent)): count
        for folder in [PACKAGE, *(p for p in PACKAGE.rglob("*") if p.is_dir())]
        if (count := len([f for f in folder.glob("*.py") if f.name != "__init__.py"]))
        > MAX_MODULES_PER_FOLDER
    }
    assert crowded == {}


def test_module_names_read_well_in_a_traceback() -> None:
    """No two modules share a file name, except the generated sync and async client pair."""
    seen: dict[str, list[str]] = {}
    for path in PACKAGE.rglob("_*.py"):
        if path.name != "__init__.py" and path.parent.name not in ("_sync", "_async"):
            seen.setdefault(path.name, []).append(str(path.relative_to(PACKAGE)))
    assert {name: paths for name, paths in seen.items() if len(paths) > 1} == {}


def test_the_architecture_page_lists_every_folder() -> None:
    """docs/architecture.md has a row for each folder of the package, and none for another."""
    page = (PACKAGE.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `([\w/]+)/` \|", page, re.MULTILINE))
    folders = {
        str(path.relative_to(PACKAGE)) if path != PACKAGE else PACKAGE.name
        for path in [PACKAGE, *PACKAGE.rglob("*")]
        if path.is_dir()
        and (path / "__init__.py").exists()
        and path.name not in ("_sync", "_async")
    }
    assert listed == folders


def test_the_import_reader_sees_upward_and_circular_imports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The readers above find what they look for, in a package made to break both rules."""
    package = tmp_path / ROOT
    (package / "client").mkdir(parents=True)
    (package / "_shared").mkdir()
    (package / "__init__.py").write_text("")
    (package / "client" / "__init__.py").write_text("")
    (package / "_shared" / "__init__.py").write_text("")
    (package / "client" / "_a.py").write_text(f"from {ROOT}.client._b import B\nA = 1\n")
    (package / "client" / "_b.py").write_text(f"from {ROOT}.client._a import A\nB = 1\n")
    (package / "_shared" / "_c.py").write_text(f"from {ROOT}.client._a import A\n")
    monkeypatch.setitem(globals(), "PACKAGE", package)
    assert cycles() == [[f"{ROOT}.client._a", f"{ROOT}.client._b", f"{ROOT}.client._a"]]
    assert list(upward_imports()) == [
        f"{ROOT}._shared._c imports {ROOT}.client._a ({ROOT}.client is not below {ROOT}._shared)"
    ]


TESTING = f"{ROOT}.testing"


def import_closure(module: str) -> set[str]:
    """The modules ``module`` depends on, through its imports and theirs.

    A package imported is a dependency, but its ``__init__`` is not followed: it re-exports its
    modules for users, and Python runs it for any of its modules, whatever they import.
    """
    seen: set[str] = set()
    pending = [module]
    while pending:
        current = pending.pop()
        for imported in direct_imports(current) - seen:
            seen.add(imported)
            if source_of(imported).name != "__init__.py":
                pending.append(imported)
    return seen


@pytest.mark.parametrize("module", ["service._service", "service._admin"])
def test_the_service_and_admin_endpoints_import_nothing_of_the_fake(module: str) -> None:
    """The service and the admin endpoints know their backend through protocols only."""
    closure = import_closure(f"{TESTING}.{module}")
    backends = ("fake", "transports", "_mock", "_wiring", "_cli", "_serve")
    assert {
        name
        for name in closure
        for backend in backends
        if name == f"{TESTING}.{backend}" or name.startswith(f"{TESTING}.{backend}.")
    } == set()


def test_the_admin_endpoints_do_not_import_the_service() -> None:
    """Dependencies point one way: the service uses the admin endpoints, never the reverse."""
    assert f"{TESTING}.service._service" not in import_closure(f"{TESTING}.service._admin")


def test_the_import_reader_sees_an_import_of_the_fake() -> None:
    """The reader above finds what it looks for: the factory does import the fake."""
    assert f"{TESTING}.fake" in direct_imports(f"{TESTING}._wiring")


def constructed(module: str) -> set[str]:
    """The names ``module`` calls directly, such as ``FakeSpectron`` in ``FakeSpectron()``."""
    tree = ast.parse(source_of(module).read_text(encoding="utf-8"))
    return {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }


WIRED = {"FakeSpectron", "UpstreamBackend", "FaultEngine", "Journal", "SpectronService"}
"""What ``wire_service`` builds: no other serving module builds them for itself."""


@pytest.mark.parametrize(
    "module", ["_mock", "_cli", "_serve", "transports._upstream", "transports.loopback"]
)
def test_only_the_factory_wires_a_service(module: str) -> None:
    """The mock, the command line and live mode build no fake, engine, journal or service."""
    assert constructed(f"{TESTING}.{module}") & WIRED == set()


@pytest.mark.parametrize("module", ["_mock", "_serve"])
def test_the_mock_and_serve_both_call_the_factory(module: str) -> None:
    """``SpectronMock`` and the ``serve`` command both get their service from ``wire_service``."""
    assert "wire_service" in constructed(f"{TESTING}.{module}")
    assert f"{TESTING}._wiring" in direct_imports(f"{TESTING}.{module}")
