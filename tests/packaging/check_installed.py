"""pytest-spectron as a user gets it: the release files, and the wheel installed from them.

`make dist` runs these checks in a fresh venv that holds the built wheel (not an editable
install), from a copy of this folder, so nothing of the source tree is importable. They need
``SPECTRON_DIST`` (the folder with the sdist and its wheel) and ``SPECTRON_TREE_WHEELS`` (the folder
with the wheel built straight from the tree).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import sysconfig
import tarfile
import threading
import zipfile
from importlib import metadata
from pathlib import Path

import httpx
import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from trove_classifiers import classifiers as known_classifiers

import pytest_spectron

DISTRIBUTION = "pytest-spectron"
VERSION = pytest_spectron.__version__
WAIT = 30.0


def _folder(variable: str) -> Path:
    value = os.environ.get(variable)
    if not value or not Path(value).is_dir():
        pytest.fail(f"{variable} must name a folder of release files (make dist sets it)")
    return Path(value)


def _one(folder: Path, pattern: str) -> Path:
    found = sorted(folder.glob(pattern))
    assert len(found) == 1, f"expected one {pattern} in {folder}, found {found}"
    return found[0]


def _wheel_contents(wheel: Path) -> dict[str, str]:
    """Each file of a wheel, with the sha256 of its bytes."""
    with zipfile.ZipFile(wheel) as archive:
        return {name: hashlib.sha256(archive.read(name)).hexdigest() for name in archive.namelist()}


@pytest.fixture(scope="module")
def wheel() -> Path:
    return _one(_folder("SPECTRON_DIST"), "*.whl")


@pytest.fixture(scope="module")
def sdist() -> Path:
    return _one(_folder("SPECTRON_DIST"), "*.tar.gz")


@pytest.fixture(scope="module")
def installed() -> metadata.Distribution:
    return metadata.distribution(DISTRIBUTION)


@pytest.fixture
def pytester(pytester: pytest.Pytester) -> pytest.Pytester:
    """A user's project: no configuration but the event loop scope pytest-asyncio asks for."""
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    return pytester


def test_the_package_is_the_installed_wheel_not_the_source_tree(
    installed: metadata.Distribution,
) -> None:
    """pytest_spectron is imported from site-packages, installed from a wheel, not editable."""
    site_packages = Path(sysconfig.get_paths()["purelib"]).resolve()
    assert Path(pytest_spectron.__file__).resolve().is_relative_to(site_packages)
    origin = json.loads(installed.read_text("direct_url.json") or "{}")
    assert "dir_info" not in origin, origin
    assert origin.get("url", "").endswith(".whl"), origin


def test_the_installed_version_is_the_packages_version(installed: metadata.Distribution) -> None:
    """The metadata's version is __version__, the single source."""
    assert installed.version == VERSION


def test_the_command_line_shows_the_version() -> None:
    """`python -m pytest_spectron --version` prints the name and __version__."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest_spectron", "--version"],
        capture_output=True,
        text=True,
        timeout=WAIT,
        check=True,
    )
    assert done.stdout.strip() == f"pytest-spectron {VERSION}"


def test_pytest_version_lists_the_plugin_with_its_version() -> None:
    """`pytest -VV` names the plugin's distribution and version among the registered plugins."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-VV"],
        capture_output=True,
        text=True,
        timeout=WAIT,
        check=True,
    )
    output = done.stdout + done.stderr
    assert f"{DISTRIBUTION}-{VERSION} at " in output, output


def test_the_pytest11_entry_point_loads_the_plugin(installed: metadata.Distribution) -> None:
    """The wheel registers the plugin with pytest under the pytest11 entry point."""
    [entry_point] = [point for point in installed.entry_points if point.group == "pytest11"]
    assert (entry_point.name, entry_point.value) == ("spectron", "pytest_spectron.plugin")
    plugin = entry_point.load()
    assert callable(plugin.pytest_addoption)


def test_pytest_loads_the_plugin_by_itself(pytester: pytest.Pytester) -> None:
    """A bare pytest run shows the plugin, its fixtures and its markers: installing is enough."""
    pytester.makepyfile("def test_nothing():\n    pass\n")
    run = pytester.runpytest_subprocess("-p", "no:randomly")
    run.stdout.fnmatch_lines([f"plugins:*spectron-{VERSION}*"])
    run.assert_outcomes(passed=1)
    fixtures = pytester.runpytest_subprocess("--fixtures")
    for fixture in ("spectron_mock", "spectron", "async_spectron", "spectron_clock"):
        fixtures.stdout.fnmatch_lines([f"{fixture} -- *pytest_spectron*"])
    markers = pytester.runpytest_subprocess("--markers")
    markers.stdout.fnmatch_lines(["@pytest.mark.spectron_fault*"])


def test_py_typed_is_installed(installed: metadata.Distribution) -> None:
    """Type checkers see the package as typed (PEP 561)."""
    names = {str(path) for path in installed.files or []}
    assert "pytest_spectron/py.typed" in names
    assert (Path(pytest_spectron.__file__).parent / "py.typed").is_file()


def test_serve_prints_its_url_first_and_answers_there(tmp_path: Path) -> None:
    """`python -m pytest_spectron serve` prints its URL on the first line and serves the fake."""
    with subprocess.Popen(
        [sys.executable, "-m", "pytest_spectron", "serve", "--port", "0"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        timer = threading.Timer(WAIT, process.kill)  # a server that never prints must not hang us
        timer.start()
        try:
            assert process.stdout is not None
            url = process.stdout.readline().strip()
            assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url), url
            answer = httpx.get(
                f"{url}/api/v1/notes/state",
                headers={"Authorization": "Bearer sk-packaging-check"},
                timeout=WAIT,
                trust_env=False,  # loopback only, never a proxy
            )
            assert answer.status_code == 200, answer.text
        finally:
            process.send_signal(signal.SIGTERM)
            status = process.wait(timeout=WAIT)
            timer.cancel()
    assert status == 0


def test_the_readme_example_passes(
    installed: metadata.Distribution, pytester: pytest.Pytester
) -> None:
    """The first example of the README, as PyPI shows it (the long description), passes."""
    description = installed.metadata.json["description"]
    assert isinstance(description, str)
    blocks = re.findall(r"^```python\n(.*?)^```", description, re.MULTILINE | re.DOTALL)
    example = next(block for block in blocks if "def test_" in block)
    pytester.makepyfile(example)
    result = pytester.runpytest_subprocess("-p", "no:randomly")
    result.assert_outcomes(passed=example.count("def test_"))


def test_the_sdist_builds_the_same_wheel(wheel: Path) -> None:
    """The wheel built from the sdist holds the same files, byte for byte, as one from the tree."""
    from_tree = _one(_folder("SPECTRON_TREE_WHEELS"), "*.whl")
    assert wheel.name == from_tree.name
    assert _wheel_contents(wheel) == _wheel_contents(from_tree)


def test_the_wheel_holds_the_package_and_its_metadata_only(wheel: Path) -> None:
    """No tests, caches or stray top-level modules; py.typed and the entry point are there."""
    names = set(_wheel_contents(wheel))
    info = f"pytest_spectron-{VERSION}.dist-info/"
    strays = {name for name in names if not name.startswith(("pytest_spectron/", info))}
    assert not strays
    assert not {name for name in names if "__pycache__" in name or name.endswith(".pyc")}
    assert {"pytest_spectron/py.typed", "pytest_spectron/__main__.py"} <= names
    with zipfile.ZipFile(wheel) as archive:
        entry_points = archive.read(f"{info}entry_points.txt").decode()
    assert "[pytest11]\nspectron = pytest_spectron.plugin" in entry_points


def test_the_sdist_holds_the_sources_and_nothing_local(sdist: Path) -> None:
    """The sdist can rebuild and retest the package, and carries no local environment."""
    root = f"pytest_spectron-{VERSION}/"
    with tarfile.open(sdist) as archive:
        names = {name.removeprefix(root) for name in archive.getnames()}
    needed = {"PKG-INFO", "pyproject.toml", "README.md", "pytest_spectron/py.typed"}
    assert needed <= names
    assert any(name.startswith("tests/") for name in names)
    local = (".venv/", ".nox/", "build/", "dist/", "site/", ".git/", ".mypy_cache/")
    assert not {name for name in names if name.startswith(local) or "__pycache__" in name}


def test_the_dependencies_are_ranges_never_pins(installed: metadata.Distribution) -> None:
    """A published requirement never pins one version: users resolve it with their own."""
    requirements = [Requirement(text) for text in installed.requires or []]
    assert requirements
    pinned = [
        str(requirement)
        for requirement in requirements
        if any(spec.operator in {"==", "==="} for spec in requirement.specifier)
    ]
    assert not pinned


def test_the_classifiers_are_known_and_name_consecutive_pythons_from_the_floor(
    installed: metadata.Distribution,
) -> None:
    """Every classifier exists on PyPI; the Python versions start at Requires-Python's floor."""
    classifiers = installed.metadata.get_all("Classifier") or []
    assert set(classifiers) <= known_classifiers, set(classifiers) - known_classifiers
    minors = sorted(
        int(match[1])
        for text in classifiers
        if (match := re.fullmatch(r"Programming Language :: Python :: 3\.(\d+)", text))
    )
    assert minors == list(range(minors[0], minors[-1] + 1))
    floor = SpecifierSet(installed.metadata["Requires-Python"])
    assert f"3.{minors[0]}" in floor
    assert f"3.{minors[0] - 1}" not in floor


def test_the_long_description_is_the_readme_in_markdown(installed: metadata.Distribution) -> None:
    """PyPI renders the README as Markdown (twine check --strict renders it in `make dist`)."""
    assert installed.metadata["Description-Content-Type"] == "text/markdown"
    description = installed.metadata.json["description"]
    assert isinstance(description, str)
    assert description.startswith("# pytest-spectron")
    assert installed.metadata["License-Expression"] == "MIT"


def test_the_license_text_ships_with_the_package(installed: metadata.Distribution) -> None:
    """The MIT licence asks that its text travel with every copy: the wheel carries LICENSE."""
    assert installed.metadata.get_all("License-File") == ["LICENSE"]
    text = installed.read_text("licenses/LICENSE")
    assert text is not None
    assert text.startswith("MIT License")
