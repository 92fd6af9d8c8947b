"""``make conformance``'s exclusions: each allowed by the document and listed in docs/fake.md."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def conformance() -> ModuleType:
    """scripts/conformance.py, imported."""
    spec = importlib.util.spec_from_file_location(
        "conformance", ROOT / "scripts" / "conformance.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up while it runs
    spec.loader.exec_module(module)
    return module


def test_every_exclusion_is_listed_in_the_docs(conformance: ModuleType) -> None:
    """docs/fake.md gives each allowed answer's check, status and reason, word for word."""
    page = (ROOT / "docs" / "fake.md").read_text()

    missing = [
        entry
        for entry in conformance.ALLOWED
        if f"| `{entry.check}` | {entry.status} |" not in page or entry.sentence not in page
    ]

    assert missing == []


def test_every_exclusion_names_operations_of_the_document(
    conformance: ModuleType, openapi_document: dict[str, Any]
) -> None:
    """Each excluded operation is an ``operationId`` of Spectron's document."""
    known = {
        operation["operationId"]
        for methods in openapi_document["paths"].values()
        for operation in methods.values()
    }
    named = {o for e in conformance.ALLOWED for o in e.operations}

    assert named - known == set()


def test_config_excludes_exactly_the_listed_answers(conformance: ModuleType) -> None:
    """The schemathesis settings turn checks off, or accept statuses, only where listed."""
    allowed = (
        conformance.Allowed("positive_data_acceptance", 400, ("forget",), "s"),
        conformance.Allowed("not_a_server_error", 501, ("inspect",), "s"),
    )

    assert conformance.config(allowed).split("\n\n") == [
        "[checks]\nenabled = true",
        '[[operations]]\ninclude-operation-id = "forget"\n'
        "checks.positive_data_acceptance.expected-statuses = "
        '["2xx", "3xx", "401", "403", "404", "409", "429", "5xx", "400"]',
        '[[operations]]\ninclude-operation-id = "inspect"\n'
        "checks.not_a_server_error.enabled = false\n",
    ]


def test_a_missing_document_skips_the_run_but_fails_under_ci(
    conformance: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Without ../shared/spectron/openapi.json the run is skipped, except under ``CI=true``."""
    monkeypatch.setattr(conformance, "DOCUMENT", tmp_path / "absent.json")
    monkeypatch.delenv("CI", raising=False)
    assert conformance.main([]) == 0

    monkeypatch.setenv("CI", "true")
    with pytest.raises(SystemExit, match=r"not at .*absent\.json.*CI=true: required"):
        conformance.main([])
