"""Marks the heavy tests by what makes them heavy, so `make quick` can leave them out.

Whole folders are marked by what all their tests do (real sockets); elsewhere a test is marked
by the fixtures it uses (``pytester``, ``spectron_server``) or, for a test module that starts
processes, by the ``subprocess`` word in its source. The markers are registered in pyproject.toml.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import settings

# `make quick`'s property tests: a tenth of the examples, for the inner loop (`make test` runs all).
settings.register_profile("quick", max_examples=10)

SOCKET_FOLDERS = frozenset({"server", "live", "load", "differential"})
"""Folders of tests that all open real sockets."""
SUBPROCESS_FOLDERS = frozenset({"packaging"})
"""Folders of tests that all start Python processes."""

_starts_processes: dict[Path, bool] = {}


def _module_starts_processes(path: Path) -> bool:
    if path not in _starts_processes:
        text = path.read_text(encoding="utf-8")
        _starts_processes[path] = "subprocess" in text or "runpytest_subprocess" in text
    return _starts_processes[path]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Add ``socket``, ``subprocess`` and ``pytester`` marks where they apply."""
    for item in items:
        folder = item.path.parent.name
        fixtures = getattr(item, "fixturenames", ())
        if folder in SOCKET_FOLDERS or "spectron_server" in fixtures:
            item.add_marker(pytest.mark.socket)
        if folder in SUBPROCESS_FOLDERS or _module_starts_processes(item.path):
            item.add_marker(pytest.mark.subprocess)
        if "pytester" in fixtures:
            item.add_marker(pytest.mark.pytester)
