"""The one "did you mean": its defaults for a mistyped name, and the looser ones routes use."""

from __future__ import annotations

import pytest

from pytest_spectron.client._suggest import did_you_mean, nearest
from pytest_spectron.testing.http._routing import NoRoute, route


def test_a_typo_suggests_only_the_values_nearly_as_close_as_the_best() -> None:
    """By default a far second choice is left out beside a close first one."""
    assert nearest("stat", ["stateless", "state", "health"]) == ["state"]
    assert did_you_mean("stat", ["state"]) == "; did you mean 'state'?"


def test_cutoff_and_spread_loosen_the_suggestions() -> None:
    """A lower ``cutoff`` admits a half-similar value; a wide ``spread`` keeps the far ones."""
    assert nearest("abcd", ["abxy"]) == []
    assert nearest("abcd", ["abxy"], cutoff=0.4) == ["abxy"]
    assert nearest("stat", ["stateless", "state"], spread=1.0) == ["state", "stateless"]


def test_an_unknown_path_names_the_nearest_routes_closest_first() -> None:
    """Routing suggests through the shared helper: the closest route first."""
    with pytest.raises(NoRoute) as caught:
        route("GET", "/api/v1/ctx/stat")

    assert caught.value.nearest[0].name == "state"
    assert "nearest: state (GET /api/v1/{context_id}/state)" in str(caught.value)
