"""The plugin's options and markers are documented as they are, in docs/testing.md and --markers."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from pytest_spectron.plugin._markers import _matrix
from pytest_spectron.plugin._settings import (
    FAKE_ONLY_MARKER,
    FAKE_ONLY_MARKER_DOC,
    FAULT_MARKER,
    FAULT_MARKER_DOC,
    MATRIX_MARKER,
    MATRIX_MARKER_DOC,
    OPTIONS,
    Option,
)
from pytest_spectron.testing.faults._declare import FaultOptions

GUIDE = (Path(__file__).parent.parent / "docs" / "testing.md").read_text(encoding="utf-8")
MARKER_DOCS = {
    FAULT_MARKER: FAULT_MARKER_DOC,
    MATRIX_MARKER: MATRIX_MARKER_DOC,
    FAKE_ONLY_MARKER: FAKE_ONLY_MARKER_DOC,
}


def section(title: str) -> str:
    """The text of the guide's ``## title`` section."""
    return GUIDE.partition(f"\n## {title}\n")[2].partition("\n## ")[0]


@pytest.mark.parametrize("option", OPTIONS, ids=lambda option: option.name)
def test_every_option_has_a_row_with_its_default(option: Option) -> None:
    """The guide's options table names the ini value, the flag and the default of each option."""
    row = f"| `{option.ini}` / `{option.flag}` | `{option.default}` |"
    assert row in section("Options"), f"docs/testing.md lacks the row {row}"


@pytest.mark.parametrize("name", sorted(MARKER_DOCS))
def test_every_marker_has_a_row(name: str) -> None:
    """The guide's markers table has a row for each marker, opening with its signature."""
    assert re.search(rf"^\| `{name}\(", section("Markers"), re.MULTILINE), name


def signature(doc: str) -> str:
    """The signature a marker's ``--markers`` line opens with."""
    return doc.partition(":")[0]


def test_the_fault_marker_shows_every_option() -> None:
    """``pytest --markers`` names the fault marker's keywords: exactly ``FaultOptions``."""
    keywords = re.findall(r"(\w+)=None|(\w+)=False", signature(FAULT_MARKER_DOC))
    shown = [name or flag for name, flag in keywords]
    assert signature(FAULT_MARKER_DOC).startswith(f"{FAULT_MARKER}(target, *outcomes, ")
    assert shown == list(FaultOptions.__annotations__)


def test_the_matrix_marker_shows_its_signature() -> None:
    """``pytest --markers`` and the guide show the parameters the matrix marker takes."""
    taken = inspect.signature(_matrix)
    bare = taken.replace(
        parameters=[
            parameter.replace(annotation=parameter.empty) for parameter in taken.parameters.values()
        ],
        return_annotation=taken.empty,
    )
    expected = f"{MATRIX_MARKER}{bare}"
    assert signature(MATRIX_MARKER_DOC) == expected
    assert f"| `{expected}` |" in section("Markers")
