"""The sync client is generated from the async one by rule, and the generator refuses misfits."""

from __future__ import annotations

import importlib.util
import inspect
import sys
from pathlib import Path
from types import ModuleType

import pytest

import pytest_spectron.client as client_api
from pytest_spectron.client import Spectron

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def unasync() -> ModuleType:
    """``scripts/unasync.py``, imported as a module."""
    spec = importlib.util.spec_from_file_location("unasync", ROOT / "scripts" / "unasync.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sync_namespaces_are_named_without_async() -> None:
    """``Spectron(...).documents`` is a ``Documents``, and says so in its repr."""
    client = Spectron("ctx", "https://spectron.test", "key")

    assert type(client.documents) is client_api.Documents
    assert repr(client.documents).startswith("<Documents of <Spectron ")


def test_no_sync_name_or_docstring_says_async() -> None:
    """No class of the sync client is named ``Async…``, and no docstring calls it asynchronous."""
    sync_classes = [
        value
        for name in client_api.__all__
        if inspect.isclass(value := getattr(client_api, name))
        and value.__module__.startswith("pytest_spectron.client._sync")
    ]

    assert len(sync_classes) == 11  # Spectron, ChatStream and the nine namespaces
    for cls in sync_classes:
        assert not cls.__name__.startswith("Async")
        assert "asynchronous" not in (cls.__doc__ or "").lower()
        assert "asynchronous" not in (sys.modules[cls.__module__].__doc__ or "").lower()


def test_a_rule_that_matches_nothing_fails_the_generator(
    unasync: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stale rule is an error naming it, not a silent no-op."""
    monkeypatch.setattr(unasync, "RULES", [*unasync.RULES, (r"\bAsyncNothing\b", "Nothing")])

    with pytest.raises(unasync.UnasyncError, match=r"AsyncNothing.*matched nothing"):
        unasync.expected_files()


def test_async_text_left_after_the_rules_fails_the_generator(
    unasync: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the rule for ``await``, the generator names each line still awaiting."""
    rules = [rule for rule in unasync.RULES if rule[0] != r"\bawait "]
    monkeypatch.setattr(unasync, "RULES", rules)

    with pytest.raises(unasync.UnasyncError, match=r"_client\.py:\d+: return await self\._call"):
        unasync.expected_files()
