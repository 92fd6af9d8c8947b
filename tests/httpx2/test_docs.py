"""The httpx2 section's examples run, where httpx2 and FastAPI are installed.

They are fenced ``py``, not ``python``: tests/test_docs_examples.py runs every ``python`` example
on every Python and wants each to pass, but these need httpx2 and FastAPI (Python 3.11+).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("httpx2", reason="httpx2 is not installed (Python 3.11+, test extra)")
pytest.importorskip("fastapi", reason="FastAPI is not installed (Python 3.11+, test extra)")

PAGE = Path(__file__).resolve().parents[2] / "docs" / "testing.md"
SECTION = "## httpx, httpx2 and Starlette's TestClient"
BLOCK = re.compile(r"^```py\n(.*?)^```", re.MULTILINE | re.DOTALL)


def section_examples() -> list[str]:
    """The ``py`` examples of the section, up to the next section."""
    text = PAGE.read_text().partition(SECTION)[2].partition("\n## ")[0]
    return [match[1] for match in BLOCK.finditer(text)]


def test_the_section_has_examples() -> None:
    """The collector finds the section's examples (a renamed heading would test nothing)."""
    assert section_examples()


@pytest.mark.parametrize("code", section_examples())
def test_example_passes_as_a_users_test_file(code: str, pytester: pytest.Pytester) -> None:
    """The example's tests pass, run as a user's test file, with no warning."""
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(code)

    result = pytester.runpytest("-p", "no:randomly", "-W", "error")

    result.assert_outcomes(passed=1)
