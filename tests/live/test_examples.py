"""The example application's suite in live mode, in front of a fake started with ``serve``."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from tests.live.conftest import Served

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_the_example_suite_passes_in_live_mode(upstream: Served) -> None:
    """Every example test passes through the proxy but the one that seeds the fake, skipped."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", f"--spectron-upstream={upstream.url}"],
        cwd=EXAMPLES,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"\b\d+ passed, 1 skipped\b", done.stdout), done.stdout
    assert "SKIPPED [1] notes_assistant/tests/test_notes.py" in done.stdout
    attempts = httpx.get(f"{upstream.url}/__spectron/journal").json()["attempts"]
    assert {"remember", "recall", "chat", "state"} <= {attempt["operation"] for attempt in attempts}
