"""Start-up costs: loading the plugin, a test module that imports ``Spectron``, a first fixture use.

Every run is a fresh ``python -m pytest`` with plugin autoloading off and only the named plugins
loaded (``-p``), so nothing else installed in the environment blurs the difference:

- plugin start-up: ``pytest --collect-only`` of a one-test module, with the plugin loaded minus
  without it (pytest-httpx and respx loaded alone are shown for reference);
- a module that imports ``Spectron``: the same with ``from pytest_spectron import Spectron`` at
  the top of the module, minus without it;
- first use of a fixture in a session: the first retry test of a run (see ``_suites.py``) minus
  the tests after it, where everything it loaded is warm; the peers' for reference.

    python benchmarks/startup.py [--rounds 10] [--quick]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _common import alternate, command_line, print_environment, print_table, print_target
from _suites import (
    CONTENDERS,
    ISOLATED_CONFIG,
    SPECTRON,
    SPECTRON_PLUGIN,
    run_suite,
    write_suite,
)

COLLECTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "pytest alone": ((), "plain"),
    "pytest + pytest-spectron": (("-p", SPECTRON_PLUGIN), "plain"),
    "pytest + pytest-spectron, module imports Spectron": (("-p", SPECTRON_PLUGIN), "imports"),
    "(reference) pytest + pytest-httpx": (("-p", "pytest_httpx"), "plain"),
    "(reference) pytest + respx": (("-p", "respx.plugin"), "plain"),
}
"""Row → (the plugins loaded, the module collected)."""
MODULES = {
    "plain": "def test_one():\n    pass\n",
    "imports": "from pytest_spectron import Spectron\n\n\ndef test_one():\n    assert Spectron\n",
}
FIRST_USE_TARGET_MS = 80


def collector(root: Path, plugins: tuple[str, ...], module: str) -> Callable[[], float]:
    """A contender: milliseconds of one ``pytest --collect-only`` of ``module`` in ``root``."""
    directory = root / f"collect-{len(list(root.iterdir()))}"
    directory.mkdir()
    (directory / "test_one.py").write_text(MODULES[module])
    command = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
    environment = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}

    def collect() -> float:
        started = time.perf_counter()
        subprocess.run(
            [*command, *plugins], cwd=directory, env=environment, capture_output=True, check=True
        )
        return (time.perf_counter() - started) * 1000

    return collect


def first_user(root: Path, contender_index: int) -> Callable[[], float]:
    """A contender: milliseconds the first test of a 3-test run takes beyond a warm test."""
    contender = CONTENDERS[contender_index]
    directory = write_suite(root / f"first-{contender_index}", contender, 3, tuned=True)

    def first_use() -> float:
        run = run_suite(directory, contender, 3)
        return (run.first_test - run.later_test) * 1000

    return first_use


def main() -> None:
    parser = command_line(__doc__, "1 round, no reference rows")
    parser.set_defaults(rounds=10)
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.rounds = 1
    print_environment(f"Start-up, {arguments.rounds} rounds", quick=arguments.quick)
    with tempfile.TemporaryDirectory() as name:
        root = Path(name)
        (root / "pytest.ini").write_text(ISOLATED_CONFIG)
        rows = {
            row: setting
            for row, setting in COLLECTIONS.items()
            if not (arguments.quick and row.startswith("(reference)"))
        }
        collecting = {row: collector(root, *setting) for row, setting in rows.items()}
        collected = alternate(collecting, arguments.rounds)
        first_uses = {
            contender.name: first_user(root, index)
            for index, contender in enumerate(CONTENDERS)
            if not (arguments.quick and contender is not SPECTRON)
        }
        first = alternate(first_uses, arguments.rounds)
    print_table("pytest --collect-only, one test", collected, "ms", "pytest alone", digits=0)
    print_table("First use in a session: first test minus a warm test", first, "ms", digits=1)
    median = {row: statistics.median(values) for row, values in collected.items()}
    plugin = median["pytest + pytest-spectron"] - median["pytest alone"]
    imports = (
        median["pytest + pytest-spectron, module imports Spectron"]
        - median["pytest + pytest-spectron"]
    )
    first_use = statistics.median(first[SPECTRON.name])
    print("\nTargets")
    print_target("plugin start-up (median loaded minus not loaded)", f"{plugin:.0f} ms")
    print_target("a test module that imports Spectron (median minus not)", f"{imports:.0f} ms")
    print_target(
        "first use of a fixture in a session (models build)",
        f"{first_use:.0f} ms",
        f"<= {FIRST_USE_TARGET_MS} ms",
        first_use <= FIRST_USE_TARGET_MS,
    )


if __name__ == "__main__":
    main()
