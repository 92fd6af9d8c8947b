"""The test matrix, run by ``make matrix`` (``nox -l`` lists the sessions).

- ``tests-3.10`` … ``tests-3.13``: the suite on every CPython that pyproject.toml's classifiers
  name, at the versions pinned in requirements/dev.txt, less the folders in
  ``SLOW_AND_VERSION_BLIND`` (see there);
- ``lowest``: the whole suite with every direct dependency at the lowest version its bound allows
  (uv's ``lowest-direct`` resolution), on the oldest of those Pythons; a bound whose floor cannot
  be installed fails the session, since nothing tested that floor;
- ``newest``: the whole suite with every dependency at its newest release, on the newest Python.

Each session installs the project as a user does (a wheel built from this tree, not editable)
into a fresh environment made by uv. A CPython missing from the machine is reported as skipped,
never as passed (nox makes that an error when ``CI`` is set). Arguments after ``--`` replace a
session's selection: ``nox -s tests-3.12 -- tests/server``; ``make matrix NOX_ARGS="-- tests"``
runs the whole suite in every session.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import nox
from packaging.requirements import Requirement
from packaging.version import Version

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "uv"
nox.options.download_python = "never"  # a missing CPython is skipped, never fetched
nox.options.reuse_venv = "no"

PYPROJECT = nox.project.load_toml("pyproject.toml")
PYTHONS: list[str] = nox.project.python_versions(PYPROJECT)
LOCK = "requirements/dev.txt"
PROJECT = "pytest-spectron"
# Deterministic order across sessions; two workers, the machine's cores.
PYTEST = ("pytest", "-n", "2", "-p", "no:randomly")
# What the version sessions leave out, to keep `make matrix` within CI's time: the slowest
# folders, which exercise pytest itself (pytester runs) or interpreter-independent logic
# (property and differential tests) rather than what changes between Python versions (the
# client, the fake, sockets, threads, signals, the command line: all still run). Every one of
# them runs on the oldest and the newest Python in lowest and newest, and `make test` runs them
# on the development Python (3.11 on CI).
SLOW_AND_VERSION_BLIND = ("tests/plugin", "tests/properties", "tests/differential")
# Sessions a run has covered already, reported as skipped instead of run (comma-separated names):
# .ci/run names the version session of the Python on which `make test` has just run the whole
# suite at the same pins.
COVERED = {name for name in os.environ.get("SPECTRON_MATRIX_COVERED", "").split(",") if name}


def _pyenv_interpreters() -> list[str]:
    """The bin folders of pyenv's CPythons for ``PYTHONS``, the newest patch release of each.

    pyenv's ``python3.X`` shims run only the versions ``pyenv global`` selects and fail for the
    others, so each interpreter is put on PATH ahead of them.
    """
    root = os.environ.get("PYENV_ROOT")
    if not root and shutil.which("pyenv"):
        root = subprocess.run(
            ["pyenv", "root"], capture_output=True, text=True, check=False
        ).stdout.strip()
    if not root or not Path(root, "versions").is_dir():
        return []
    folders = []
    for python in PYTHONS:
        releases = [
            folder
            for folder in Path(root, "versions").iterdir()
            if re.fullmatch(rf"{re.escape(python)}\.\d+", folder.name)
            and (folder / "bin" / f"python{python}").is_file()
        ]
        if releases:
            newest = max(releases, key=lambda folder: Version(folder.name))
            folders.append(str(newest / "bin"))
    return folders


os.environ["PATH"] = os.pathsep.join([*_pyenv_interpreters(), os.environ.get("PATH", "")])


def _install(session: nox.Session, *options: str) -> None:
    """The project and its ``test`` extra, built afresh from this tree (never a cached build)."""
    session.install("--reinstall-package", PROJECT, *options, ".[test]")


def _direct_dependencies(session: nox.Session) -> list[Requirement]:
    """What pyproject.toml's ``dependencies`` and ``test`` extra ask for on the session's Python.

    A requirement marked for other Pythons is left out: ``httpx2; python_version >= '3.11'`` is
    not installed on 3.10.
    """
    project = PYPROJECT["project"]
    names = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    python = {"python_version": str(session.python)}
    requirements = [Requirement(text) for text in names]
    return [req for req in requirements if req.marker is None or req.marker.evaluate(python)]


def _installed_versions(session: nox.Session, names: list[str]) -> dict[str, Version]:
    code = (
        "import json, sys; from importlib.metadata import version; "
        "print(json.dumps({name: version(name) for name in sys.argv[1:]}))"
    )
    output = session.run("python", "-c", code, *names, silent=True)
    assert isinstance(output, str)
    return {name: Version(text) for name, text in json.loads(output).items()}


def _show_versions(session: nox.Session) -> dict[str, Version]:
    """Log the version of every direct dependency, so each run says what it tested."""
    requirements = _direct_dependencies(session)
    installed = _installed_versions(session, [requirement.name for requirement in requirements])
    listing = ", ".join(f"{name} {version}" for name, version in installed.items())
    session.log(f"{session.python}: {listing}")
    return installed


def _floor(requirement: Requirement) -> Version | None:
    """The lowest version a requirement's ``>=`` bound admits, if it has one."""
    floors = [Version(spec.version) for spec in requirement.specifier if spec.operator == ">="]
    return max(floors, default=None)


def _run_suite(session: nox.Session, *selection: str) -> None:
    session.run(*PYTEST, *(session.posargs or selection))


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The suite, less its slow version-blind folders, at the versions in requirements/dev.txt."""
    if session.name in COVERED:
        session.skip("covered: `make test` ran the whole suite on this Python at these pins")
    _install(session, "--constraint", LOCK)
    _show_versions(session)
    _run_suite(session, *(f"--ignore={folder}" for folder in SLOW_AND_VERSION_BLIND))


@nox.session(python=PYTHONS[0])
def lowest(session: nox.Session) -> None:
    """The suite with every direct dependency at the floor of its bound, on the oldest Python."""
    _install(session, "--resolution", "lowest-direct")
    installed = _show_versions(session)
    above = [
        f"{requirement} installed {installed[requirement.name]}"
        for requirement in _direct_dependencies(session)
        if (floor := _floor(requirement)) is not None and installed[requirement.name] != floor
    ]
    if above:
        session.error(
            "these bounds admit versions that cannot be installed together, so no test ran "
            "them; raise each to the version installed (pyproject.toml): " + "; ".join(above)
        )
    _run_suite(session)


@nox.session(python=PYTHONS[-1])
def newest(session: nox.Session) -> None:
    """The suite with every dependency at its newest release, on the newest Python."""
    _install(session, "--resolution", "highest")
    _show_versions(session)
    _run_suite(session)


@nox.session(python=PYTHONS[-1], name="httpx-alone")
def httpx_alone(session: nox.Session) -> None:
    """The suite as ``tests`` runs it, with httpx alone: the test extra installed without httpx2.

    Every other session (from Python 3.11) has httpx2 beside httpx, as ``make test`` does; here
    its tests skip, Starlette's TestClient sends with httpx, and the mock patches httpx only.
    """
    excludes = Path(session.create_tmp(), "excludes.txt")
    excludes.write_text("httpx2\n")
    _install(session, "--constraint", LOCK, "--excludes", str(excludes))
    session.run("python", "-c", "import importlib.util as u; assert not u.find_spec('httpx2')")
    _run_suite(session, *(f"--ignore={folder}" for folder in SLOW_AND_VERSION_BLIND))
