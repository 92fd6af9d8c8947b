"""Plugin tests run pytest inside pytest, through ``pytester``, as a user would."""

from __future__ import annotations

import pytest


@pytest.fixture
def pytester(pytester: pytest.Pytester) -> pytest.Pytester:
    """A pytester whose inner runs see only the plugin's behaviour, not this project's config."""
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    return pytester
