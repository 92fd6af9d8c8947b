"""Every Python example in the README and the docs runs, so the docs cannot drift from the code.

Examples that define tests run through ``pytester`` as a user's test file; the others run as
scripts against a ``SpectronMock`` answering the docs' endpoint, with ``SPECTRON_API_KEY`` set and
a ``client`` bound to it for snippets that continue an earlier one.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pytest_spectron import SpectronMock

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
DOCS_ENDPOINT = "https://spectron.example.com"


def examples() -> list[tuple[str, str]]:
    found = []
    for page in PAGES:
        text = page.read_text()
        for match in BLOCK.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append((f"{page.relative_to(ROOT)}:{line}", match[1]))
    return found


EXAMPLES = examples()


def test_the_docs_have_examples() -> None:
    """The collector finds the examples (a broken pattern would silently test nothing)."""
    assert len(EXAMPLES) >= 8


@pytest.mark.parametrize(("where", "code"), EXAMPLES, ids=[where for where, _ in EXAMPLES])
def test_example_runs(
    where: str, code: str, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The example runs as written: its tests pass, or its script completes."""
    if "def test_" in code:
        pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
        pytester.makepyfile(code)
        result = pytester.runpytest("-p", "no:randomly")
        outcomes = result.parseoutcomes()
        assert outcomes.get("passed", 0) >= 1, result.stdout.str()
        assert set(outcomes) <= {"passed", "warnings"}, result.stdout.str()
        return
    monkeypatch.setenv("SPECTRON_API_KEY", "sk-docs-example")
    with SpectronMock(endpoint=DOCS_ENDPOINT) as mock, mock.client() as client:
        client.remember("Alice prefers tea")
        exec(compile(code, where, "exec"), {"client": client, "__name__": "__docs__"})
