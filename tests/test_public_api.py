"""The public surface: ``__all__`` lists that name only what exists (ruff's RUF022 sorts them)."""

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


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_is_unique_and_complete(name: str) -> None:
    """Each public module's ``__all__`` names each export once, and only what exists.

    ruff sees the package's exports in its ``TYPE_CHECKING`` imports; at run time its
    ``__getattr__`` must find each of them. ruff's RUF022 keeps every ``__all__`` sorted.
    """
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert len(set(exported)) == len(exported)
    assert [attribute for attribute in exported if not hasattr(module, attribute)] == []


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


def test_the_when_predicates_request_is_exported() -> None:
    """``when=`` predicates receive a ``ServiceRequest``: users can import it to annotate them."""
    from pytest_spectron import ServiceRequest as top
    from pytest_spectron.testing import ServiceRequest
    from pytest_spectron.testing.http._exchange import ServiceRequest as where

    assert ServiceRequest is top is where


def test_the_testing_package_loads_each_public_name_from_one_place() -> None:
    """``pytest_spectron.testing`` names a defining module for each public name, and only those."""
    import pytest_spectron.testing as testing

    assert set(testing._WHERE) == set(testing.__all__)
