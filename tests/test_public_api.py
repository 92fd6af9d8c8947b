"""The public surface: sorted ``__all__`` lists that name only what exists."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

PUBLIC_MODULES = [
    "pytest_spectron",
    "pytest_spectron.client",
    "pytest_spectron.client.models",
    "pytest_spectron.testing",
]


def isort_order(name: str) -> tuple[int, str]:
    """Constants, then classes, then the rest, each alphabetical (ruff's RUF022 order)."""
    kind = 0 if name.isupper() else 1 if name[:1].isupper() else 2
    return kind, name


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_is_sorted_and_complete(name: str) -> None:
    """Each public module's ``__all__`` is sorted, unique, and names only what exists."""
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert exported == sorted(exported, key=isort_order)
    assert len(set(exported)) == len(exported)
    assert all(hasattr(module, attribute) for attribute in exported)


def test_client_imports_neither_pytest_nor_respx() -> None:
    """Production code can import the client without loading the test tooling."""
    code = (
        "import sys, pytest_spectron.client; "
        "print(sorted(m for m in ('pytest', 'respx', '_pytest') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_the_testing_package_imports_no_pytest() -> None:
    """The fake, faults and server work outside pytest: pytest code lives on the plugin side."""
    code = (
        "import sys, pytest_spectron.testing; "
        "print(sorted(m for m in ('pytest', '_pytest') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
