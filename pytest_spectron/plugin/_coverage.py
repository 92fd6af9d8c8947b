"""Fault coverage: which of the status matrix's failures the suite's passing tests injected.

For every operation the suite called, the outcomes the status matrix lists for its retry class
are each **covered** (a call of that operation in a passing test ended in it, as the attempt
journal shows: the application saw it) or **missing**; a missing outcome a passing test injected
only into attempts the client's retries got past is **absorbed** (``_coverage_report`` tells how
attempts are grouped into calls). ``--spectron-coverage`` prints the table,
``--spectron-coverage-json`` and ``--spectron-coverage-html`` write it, and
``--spectron-coverage-fail-under`` fails a run below a percentage. Under pytest-xdist each
worker sends its tally to the controller, which merges them. Imported only when one of those
options is on: otherwise the plugin does no work per test.
"""

from __future__ import annotations

import json
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import pytest

from pytest_spectron.plugin._coverage_report import CoverageReport, Tally
from pytest_spectron.plugin._settings import OPTIONS, Settings
from pytest_spectron.plugin._stash import EXPLORING, MOCK

if TYPE_CHECKING:
    from pytest_spectron.testing._mock import SpectronMock

__all__ = ["FaultCoverage"]

_WORKER_OUTPUT_KEY: Final = "spectron_coverage"
_OPTION = {option.name: option for option in OPTIONS}


@dataclass
class _Watch:
    """A test's mock, kept from setup until the teardown report, when its journal is complete."""

    mock: SpectronMock
    call_reported: bool = False
    call_failed: bool = False
    """Whether a call report failed: the test's own, or one of its subtests' (reported first)."""


_WATCH = pytest.StashKey[_Watch]()


class FaultCoverage:
    """The plugin object ``pytest_configure`` registers when a coverage option is on."""

    def __init__(self, config: pytest.Config, settings: Settings) -> None:
        self.settings = settings
        self.tally = Tally()
        self.is_worker = hasattr(config, "workerinput")
        self.directory = config.invocation_params.dir
        self.report: CoverageReport | None = None
        self.written: list[tuple[str, Path]] = []
        self.problems: list[str] = []
        """What fails the run: a file not written, coverage below the threshold."""
        self.reached: str | None = None

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        if EXPLORING in item.stash:
            return report  # an exploration's run: its findings credit coverage (_explore)
        watch = item.stash.get(_WATCH, None)
        if watch is None:
            mock = item.stash.get(MOCK, None)
            if mock is None:
                return report
            watch = item.stash[_WATCH] = _Watch(mock)
        if report.when == "call":
            watch.call_reported = True
            watch.call_failed = watch.call_failed or not report.passed
        elif report.when == "teardown":
            # Read now, not at the call: attempts made while fixtures tear down count too.
            del item.stash[_WATCH]
            passed = watch.call_reported and not watch.call_failed and report.passed
            self.tally.add_test(watch.mock.attempts(), passed=passed)
        return report

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        """pytest-xdist: merge a finished worker's tally (a crashed one sends none)."""
        workeroutput: Mapping[str, Any] = getattr(node, "workeroutput", {})
        self.tally.merge(workeroutput.get(_WORKER_OUTPUT_KEY, []))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Generator[None, object, object]:
        result = yield
        if self.is_worker:
            workeroutput: dict[str, Any] = session.config.workeroutput  # type: ignore[attr-defined]
            workeroutput[_WORKER_OUTPUT_KEY] = self.tally.to_json()
        elif not session.config.option.collectonly:
            self._finish(session)
        return result

    def _finish(self, session: pytest.Session) -> None:
        """Write the files and judge the threshold, before pytest picks the exit status."""
        self.report = report = self.tally.report()
        settings = self.settings
        if settings.coverage_json is not None:
            self._write("JSON", settings.coverage_json, json.dumps(report.to_json(), indent=2))
        if settings.coverage_html is not None:
            from pytest_spectron.plugin._coverage_html import render

            self._write("HTML", settings.coverage_html, render(report))
        if report.covered * 100 < settings.coverage_fail_under * report.total:
            option = _OPTION["coverage_fail_under"]
            self.problems.append(
                f"Spectron fault coverage is {report.percent:.1f}% ({report.covered} of "
                f"{report.total} outcomes), below the required {settings.coverage_fail_under:g}% "
                f"({option.flag} / {option.ini}): add tests that inject the missing outcomes, "
                "or lower the threshold."
            )
        elif settings.coverage_fail_under:
            self.reached = (
                f"Required Spectron fault coverage of {settings.coverage_fail_under:g}% "
                f"reached: {report.percent:.1f}%."
            )
        if self.problems:
            session.testsfailed += 1

    def _write(self, kind: str, path: str, content: str) -> None:
        target = self.directory / path
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content + "\n", encoding="utf-8")
        except OSError as error:
            self.problems.append(
                f"Could not write the Spectron fault coverage {kind} to {target}: "
                f"{error.strerror or error}. Pick a writable path."
            )
        else:
            self.written.append((kind, target))

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        report = self.report
        if report is None:
            return
        terminalreporter.write_sep("=", "Spectron fault coverage")
        if self.settings.coverage:
            _write_table(terminalreporter, report)
        for kind, target in self.written:
            terminalreporter.write_line(f"Spectron fault coverage {kind} written to {target}")
        if self.reached is not None:
            terminalreporter.write_line(self.reached, green=True)
        for problem in self.problems:
            terminalreporter.write_line(problem, red=True, bold=True)


_HEADER = ("operation", "retry class", "calls", "covered", "percent", "absorbed", "missing")
_RIGHT_ALIGNED = frozenset({2, 3, 4})
_COLOURED_FROM = _HEADER.index("percent")


def _write_table(terminal: pytest.TerminalReporter, report: CoverageReport) -> None:
    """One row per operation and a total line; percent and missing coloured when it can."""
    if not report.rows:
        terminal.write_line("No test called a Spectron operation.")
        terminal.write_line(report.never_called_line())
        return
    lines = [
        (
            (
                row.name,
                row.retry_class,
                str(row.calls),
                f"{len(row.covered)}/{row.total}",
                f"{row.percent:.1f}%",
                " ".join(row.absorbed) or "-",
                " ".join(row.missing) or "-",
            ),
            _markup(len(row.covered), row.total),
        )
        for row in report.rows
    ]
    total = (
        "TOTAL",
        "",
        str(report.calls),
        f"{report.covered}/{report.total}",
        f"{report.percent:.1f}%",
        "",
        "",
    )
    widths = [
        max(len(cells[column]) for cells in (_HEADER, total, *(cells for cells, _ in lines)))
        for column in range(len(_HEADER))
    ]

    def write(cells: tuple[str, ...], markup: dict[str, bool], **line_markup: bool) -> None:
        for column, (cell, width) in enumerate(zip(cells, widths, strict=True)):
            if not any(cells[column:]):
                break
            if column in _RIGHT_ALIGNED:
                cell = cell.rjust(width)
            elif column < len(cells) - 1:
                cell = cell.ljust(width)
            coloured = markup if column >= _COLOURED_FROM else line_markup
            terminal.write(("  " if column else "") + cell, **coloured)
        terminal.write_line("")

    write(_HEADER, {"bold": True}, bold=True)
    terminal.write_sep("-")
    for cells, markup in lines:
        write(cells, markup)
    terminal.write_sep("-")
    write(total, {"bold": True, **_markup(report.covered, report.total)}, bold=True)
    terminal.write_line(report.never_called_line())


def _markup(covered: int, total: int) -> dict[str, bool]:
    if covered == total:
        return {"green": True}
    return {"yellow": True} if covered else {"red": True}
