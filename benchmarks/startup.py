"""Plugin start-up cost: `pytest --collect-only` on a one-test suite, plugin loaded vs disabled.

python benchmarks/startup.py [--rounds 10]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import alternate, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        Path(root, "test_one.py").write_text("def test_one():\n    pass\n")
        Path(root, "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")

        def collect(*extra: str) -> float:
            command = [sys.executable, "-m", "pytest", "--collect-only", "-q", *extra]
            started = time.perf_counter()
            subprocess.run(command, cwd=root, capture_output=True, check=True)
            return (time.perf_counter() - started) * 1000

        results = alternate(
            {
                "plugin loaded": lambda: collect(),
                "plugin disabled (-p no:spectron)": lambda: collect("-p", "no:spectron"),
            },
            arguments.rounds,
        )
    report(
        "pytest --collect-only, one test (ms)", results, "ms", "plugin disabled (-p no:spectron)"
    )
    loaded, disabled = (sorted(v)[len(v) // 2] for v in results.values())
    print(f"  plugin start-up cost: {loaded - disabled:.1f} ms")


if __name__ == "__main__":
    main()
