"""Where httpx2 is not installed, nothing changes and nothing of it is looked for."""

from __future__ import annotations

import subprocess
import sys

# Run where importing httpx2 fails, as where it is not installed (here it may well be).
WITHOUT_HTTPX2 = """
import sys
sys.modules["httpx2"] = None
from pytest_spectron.testing import SpectronMock
with SpectronMock() as mock, mock.client() as client:
    client.state()
mock.assert_attempts("state", 1)
print(sorted(name for name, module in sys.modules.items() if "httpx2" in name and module))
"""


def test_mock_answers_httpx_clients_and_imports_no_httpx2() -> None:
    """Without httpx2 the mock answers httpx clients, and loads no module of httpx2's or ours."""
    completed = subprocess.run(
        [sys.executable, "-c", WITHOUT_HTTPX2], capture_output=True, text=True, check=False
    )

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines() == ["[]"]
