"""What the plugin keeps on pytest's config and items, shared by its hooks, fixtures and report."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from pytest_spectron.plugin._settings import Settings

if TYPE_CHECKING:
    from pytest_spectron.plugin._matrix_case import CaseInTest
    from pytest_spectron.testing._mock import SpectronMock
    from pytest_spectron.testing.faults._fault import Fault

__all__ = ["CASE", "EXPLORING", "MOCK", "PASSED", "SETTINGS"]

SETTINGS = pytest.StashKey[Settings]()
MOCK: pytest.StashKey[SpectronMock] = pytest.StashKey()
CASE: pytest.StashKey[CaseInTest] = pytest.StashKey()
"""The matrix case a ``spectron_case`` test runs, judged once its call phase is over."""
PASSED: pytest.StashKey[bool] = pytest.StashKey()
"""Whether the test's call phase passed: the unused-fault check only judges tests that did."""
EXPLORING: pytest.StashKey[tuple[Fault, ...]] = pytest.StashKey()
"""While fault exploration re-runs a test: the faults to inject. Reports of such a run count
nowhere (coverage, ledgers): only the exploration's findings do."""
