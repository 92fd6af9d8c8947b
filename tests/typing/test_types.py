"""The public API's types, checked as a user's type checker would: mypy on ``public_api.py``."""

from __future__ import annotations

from pathlib import Path

import pytest

# mypy comes with the lint tools, which an installed-wheel test run (nox) may leave out.
mypy_api = pytest.importorskip("mypy.api", reason="mypy is not installed (the lint extra)")

ROOT = Path(__file__).resolve().parents[2]


def test_public_api_types_hold() -> None:
    """mypy --strict accepts every stated type and catches every stated mistake."""
    # The project's cache, warm after `make typecheck`, keeps this to a second or two.
    stdout, stderr, status = mypy_api.run(
        [
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(ROOT / ".mypy_cache"),
            str(ROOT / "tests" / "typing" / "public_api.py"),
        ]
    )
    assert status == 0, stdout + stderr
