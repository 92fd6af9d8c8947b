"""requirements/dev.txt, the pinned development set, keeps up with pyproject.toml's ranges."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements" / "dev.txt"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)", re.MULTILINE)


def _pins() -> dict[str, list[Version]]:
    """Each locked package with its pinned versions (one per Python where the lock forks)."""
    pins: dict[str, list[Version]] = {}
    for name, version in PIN.findall(LOCK.read_text()):
        pins.setdefault(canonicalize_name(name), []).append(Version(version))
    return pins


def _requirements() -> list[Requirement]:
    """What pyproject.toml (dependencies and every extra) and requirements/tools.in ask for."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    texts = [*project["dependencies"]]
    for extra in project["optional-dependencies"].values():
        texts.extend(extra)
    for line in (ROOT / "requirements" / "tools.in").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            texts.append(line.strip())
    return [Requirement(text) for text in texts]


def test_every_requirement_is_pinned_inside_its_range() -> None:
    """A dependency added or re-bounded in pyproject.toml without `make lock` fails here."""
    pins = _pins()
    stale = [
        f"{requirement} (locked: {', '.join(map(str, pins.get(name, []))) or 'nothing'})"
        for requirement in _requirements()
        if not (versions := pins.get(name := canonicalize_name(requirement.name)))
        or not all(
            requirement.specifier.contains(version, prereleases=True) for version in versions
        )
    ]
    assert not stale, f"{LOCK.relative_to(ROOT)} is out of date; run `make lock`: " + "; ".join(
        stale
    )
