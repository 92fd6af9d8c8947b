"""Shared fixtures of the project's own test suite."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

OPENAPI_DOCUMENT = Path(__file__).resolve().parent.parent / "shared" / "spectron" / "openapi.json"


@pytest.fixture(scope="session")
def openapi_document() -> dict[str, Any]:
    """Spectron's official OpenAPI document, read from ../shared (skips where it is absent)."""
    if not OPENAPI_DOCUMENT.is_file():
        pytest.skip(f"Spectron's OpenAPI document is not at {OPENAPI_DOCUMENT}")
    document: dict[str, Any] = json.loads(OPENAPI_DOCUMENT.read_text())
    return document
