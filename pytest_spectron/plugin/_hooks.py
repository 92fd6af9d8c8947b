"""The plugin's hooks: options, markers, matrix parametrization, and what reports show."""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING

import pytest

from pytest_spectron.plugin._settings import (
    FAKE_ONLY_MARKER,
    FAKE_ONLY_MARKER_DOC,
    FAULT_MARKER,
    FAULT_MARKER_DOC,
    MATRIX_MARKER,
    MATRIX_MARKER_DOC,
    OPTIONS,
    Option,
    Settings,
    SettingsError,
)
from pytest_spectron.plugin._stash import CASE, MOCK, PASSED, SETTINGS
from pytest_spectron.plugin._virtual_time import (
    on_virtual_time_during,
    start_trio_runner,
    stop_trio_runner,
)

# The client and the fake load when a test first uses a fixture or a marker, so a run
# that never touches Spectron pays almost nothing for the plugin.
if TYPE_CHECKING:
    pass

LEDGER_SECTION = "Spectron attempt ledger"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("spectron", "Spectron fake, faults and virtual clock")
    for option in OPTIONS:
        group.addoption(
            option.flag,
            dest=option.ini,
            default=None,
            metavar=option.name.upper(),
            help=f"{option.help} (default: {option.default}; ini: {option.ini})",
            **({"nargs": "?", "const": option.alone} if option.alone is not None else {}),
        )
        parser.addini(option.ini, f"{option.help} (default: {option.default})", default="")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", FAULT_MARKER_DOC)
    config.addinivalue_line("markers", MATRIX_MARKER_DOC)
    config.addinivalue_line("markers", FAKE_ONLY_MARKER_DOC)
    try:
        settings = Settings.resolve(lambda option: _setting(config, option))
    except SettingsError as error:
        raise pytest.UsageError(str(error)) from None
    if settings.upstream is not None:
        # Loaded now, before any test's respx patches httpcore's classes (see _upstream).
        from pytest_spectron.testing.transports._upstream import check_upstream

        try:
            check_upstream(settings.upstream, endpoint=settings.endpoint)
        except ValueError as error:
            raise pytest.UsageError(f"--spectron-upstream: {error}") from None
    config.stash[SETTINGS] = settings
    if settings.report:
        config.pluginmanager.register(LedgerReport(), "spectron-ledger-report")
    if settings.collects_coverage:
        from pytest_spectron.plugin._coverage import FaultCoverage

        config.pluginmanager.register(FaultCoverage(config, settings), "spectron-coverage")
    if settings.explores:
        from pytest_spectron.plugin._explore import FaultExploration

        config.pluginmanager.register(FaultExploration(config, settings), "spectron-explore")


def pytest_report_header(config: pytest.Config) -> str | None:
    """In live mode, say which Spectron the fixtures forward to."""
    upstream = config.stash[SETTINGS].upstream
    if upstream is None:
        return None
    from pytest_spectron._shared._endpoint import redact_endpoint

    return f"spectron: live mode, forwarding to {redact_endpoint(upstream)}"


def _setting(config: pytest.Config, option: Option) -> str | None:
    """The command line's value, else the ini file's, else None; an empty flag is a value."""
    given = config.getoption(option.ini)
    if given is not None:
        return str(given)
    return str(config.getini(option.ini)) or None


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """A Spectron marker means the fake is active: give its test ``spectron_mock``.

    Read at setup, not at collection, so markers added later (``item.add_marker`` in
    ``pytest_collection_modifyitems``, another plugin) count too. Never the network.
    A trio test on the virtual clock gets anyio's runner started with trio's ``MockClock``
    before its fixtures start it.
    """
    if isinstance(item, pytest.Function):
        _activate_mock(item)
        start_trio_runner(item)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, None, None]:
    """Once the test's fixtures have ended, let go of the trio runner its setup started."""
    try:
        return (yield)
    finally:
        stop_trio_runner(item)


def _activate_mock(item: pytest.Function) -> None:
    fault = item.get_closest_marker(FAULT_MARKER) is not None
    matrix = item.get_closest_marker(MATRIX_MARKER) is not None
    if matrix and "spectron_case" not in item.fixturenames:
        pytest.fail(
            f"@pytest.mark.{MATRIX_MARKER} narrows the cases of the spectron_case fixture, "
            "which this test does not request: add spectron_case to its arguments, or use "
            f"@pytest.mark.{FAULT_MARKER} to inject a single failure.",
            pytrace=False,
        )
    if fault and "spectron_mock" not in item.fixturenames:
        # First, so fixtures that call Spectron while they set up are answered by the fake too.
        item.fixturenames.insert(0, "spectron_mock")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In live mode, skip the tests marked ``spectron_fake_only``: there is no fake to seed.

    Last, so markers other plugins add while collecting count too; the skip is reported at
    the test, as a ``skip`` marker's is.
    """
    if config.stash[SETTINGS].upstream is None:
        return
    for item in items:
        marker = item.get_closest_marker(FAKE_ONLY_MARKER)
        if marker is not None:
            reason = marker.kwargs.get("reason") or (marker.args[0] if marker.args else None)
            default = "needs the Spectron fake; live mode (--spectron-upstream) has none"
            item.add_marker(pytest.mark.skip(reason=reason or default))


@pytest.hookimpl(wrapper=True)
def pytest_runtestloop(session: pytest.Session) -> Generator[None, object, object]:
    """Start respx's interception once for the run when a test will use the mock.

    Each test's mock then only registers with it; it stays until pytest unconfigures, after
    every fixture (session-scoped ones too) has let go of its own patches. Started before any
    test, so a test's own respx router nests above it, never below. The endpoint's origin is
    guarded for as long: a request to it that no mock answers (a module-scoped fixture's
    teardown, a fixture set up before ``spectron_mock``) is refused, never sent.
    """
    settings = session.config.stash[SETTINGS]
    if not session.config.option.collectonly and (
        settings.block_network or any(map(_uses_mock, session.items))
    ):
        from contextlib import ExitStack

        import httpx

        from pytest_spectron._shared._endpoint import redact_endpoint
        from pytest_spectron.testing.transports._intercept_httpx import intercepting
        from pytest_spectron.testing.transports._registry import Origin, guarding

        held = ExitStack()
        held.enter_context(intercepting())
        held.enter_context(
            guarding(
                Origin.of(httpx.URL(settings.endpoint)),
                redact_endpoint(settings.endpoint),
                block_network=settings.block_network,
            )
        )
        session.config.add_cleanup(held.close)
    return (yield)


def _uses_mock(item: pytest.Item) -> bool:
    """Whether the test uses ``spectron_mock``, by a fixture or a fault marker (see setup)."""
    fixtures = getattr(item, "fixturenames", ())
    return "spectron_mock" in fixtures or item.get_closest_marker(FAULT_MARKER) is not None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "spectron_case" in metafunc.fixturenames:
        from pytest_spectron.plugin._markers import MarkerError, matrix_selection

        marker = metafunc.definition.get_closest_marker(MATRIX_MARKER)
        try:
            cases = matrix_selection(marker)
        except MarkerError as error:
            # One case that errors at setup: the mistake fails this test, not its module.
            metafunc.parametrize(
                "spectron_case", [error], ids=[f"bad-{MATRIX_MARKER}"], indirect=True
            )
            return
        metafunc.parametrize("spectron_case", cases, ids=[case.id for case in cases], indirect=True)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """Run an async test with the clock on virtual time; after it, judge its matrix case; if it
    passed, check it caught no error the mock raised (``UnroutableRequest``, ``ClientWouldHang``)
    and no router shadowed Spectron.

    They look while the test's fixtures still run: the mock's journal is still there, and the
    test's own respx routers stop (and forget their calls) when their fixtures end.
    """
    mock = item.stash.get(MOCK, None)
    case = item.stash.get(CASE, None)
    try:
        with on_virtual_time_during(item):
            result = yield
    except (Exception, pytest.fail.Exception):
        if mock is not None and case is not None:
            case.judge(mock.attempts(), test_failed=True)
        raise
    if mock is not None and not item.stash.get(PASSED, True):
        # A subtest failed (its report came first): the test fails, and is not blamed twice.
        if case is not None:
            case.judge(mock.attempts(), test_failed=True)
        return result
    if mock is not None:
        mock.assert_no_caught_errors()
        if case is not None:
            case.judge(mock.attempts(), test_failed=False)
        mock.assert_no_shadowing_routes()
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Attach the attempt ledger to a failing test's report (every test's, with the report).

    Then mask the configured API keys everywhere in the report: the traceback's locals and
    explanation, captured output and logs (what the terminal, junitxml and xdist write).
    """
    report = yield
    _add_ledger(item, call, report)
    from pytest_spectron.plugin._masking import mask_report, secrets_of

    settings = item.config.stash[SETTINGS]
    mask_report(report, secrets_of([settings.api_key]))
    return report


def _add_ledger(item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport) -> None:
    mock = item.stash.get(MOCK, None)
    if mock is None or report.when != "call":
        return
    # Every call report counts: pytest's subtests report theirs before the test's own, which
    # passes even when one of them failed (pytest fails it only when it logs the report).
    item.stash[PASSED] = report.passed and item.stash.get(PASSED, True)
    from pytest_spectron.testing.service._controls import LedgerAssertionError

    shown = call.excinfo is not None and call.excinfo.errisinstance(LedgerAssertionError)
    if (report.failed and not shown) or item.config.stash[SETTINGS].report:
        # A report section travels with the report, so pytest-xdist carries it to the controller.
        report.sections.append((LEDGER_SECTION, mock.ledger()))


class LedgerReport:
    """``--spectron-report``: every test's ledger in the terminal summary, xdist workers' too."""

    def __init__(self) -> None:
        self.ledgers: dict[str, str] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call":
            for title, content in report.sections:
                if title == LEDGER_SECTION:
                    self.ledgers[report.nodeid] = content

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self.ledgers:
            return
        terminalreporter.section("Spectron attempt ledgers")
        for nodeid, ledger in self.ledgers.items():
            terminalreporter.write_line(nodeid)
            terminalreporter.write_line(ledger)
