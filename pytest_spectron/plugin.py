"""The pytest plugin: options, markers, fixtures and reporting. The work lives in ``testing``."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING

import pytest

from pytest_spectron._settings import (
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

# The client and the fake load when a test first uses a fixture or a marker, so a run
# that never touches Spectron pays almost nothing for the plugin.
if TYPE_CHECKING:
    from pytest_spectron._markers import MarkerError
    from pytest_spectron._matrix_case import CaseInTest
    from pytest_spectron.client import AsyncSpectron, Spectron
    from pytest_spectron.testing._clock import VirtualClock
    from pytest_spectron.testing._matrix import MatrixCase
    from pytest_spectron.testing._mock import SpectronMock
    from pytest_spectron.testing._server import LoopbackServer

SETTINGS = pytest.StashKey[Settings]()
MOCK: pytest.StashKey[SpectronMock] = pytest.StashKey()
CASE: pytest.StashKey[CaseInTest] = pytest.StashKey()
"""The matrix case a ``spectron_case`` test runs, judged once its call phase is over."""
PASSED: pytest.StashKey[bool] = pytest.StashKey()
"""Whether the test's call phase passed: the unused-fault check only judges tests that did."""
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
        from pytest_spectron.testing._upstream import check_upstream

        try:
            check_upstream(settings.upstream, endpoint=settings.endpoint)
        except ValueError as error:
            raise pytest.UsageError(f"--spectron-upstream: {error}") from None
    config.stash[SETTINGS] = settings
    if settings.report:
        config.pluginmanager.register(LedgerReport(), "spectron-ledger-report")
    if settings.collects_coverage:
        from pytest_spectron._coverage import FaultCoverage

        config.pluginmanager.register(FaultCoverage(config, settings), "spectron-coverage")


def pytest_report_header(config: pytest.Config) -> str | None:
    """In live mode, say which Spectron the fixtures forward to."""
    upstream = config.stash[SETTINGS].upstream
    if upstream is None:
        return None
    from pytest_spectron._endpoint import redact_endpoint

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
    """
    if not isinstance(item, pytest.Function):
        return
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
    test, so a test's own respx router nests above it, never below.
    """
    if not session.config.option.collectonly and any(map(_uses_mock, session.items)):
        from contextlib import ExitStack

        from pytest_spectron.testing._intercept import intercepting

        held = ExitStack()
        held.enter_context(intercepting())
        session.config.add_cleanup(held.close)
    return (yield)


def _uses_mock(item: pytest.Item) -> bool:
    """Whether the test uses ``spectron_mock``, by a fixture or a fault marker (see setup)."""
    fixtures = getattr(item, "fixturenames", ())
    return "spectron_mock" in fixtures or item.get_closest_marker(FAULT_MARKER) is not None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "spectron_case" in metafunc.fixturenames:
        from pytest_spectron._markers import MarkerError, matrix_selection

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


@pytest.fixture
def spectron_clock() -> Iterator[VirtualClock]:
    """A virtual clock: every Spectron client's retry waits go to it, and nothing sleeps.

    ``.sleeps`` lists the waits requested, ``.now`` is the virtual time, and
    ``.assert_backoff([0.25, 0.5])`` checks a backoff schedule.

    :return: a new clock at 0, installed until the test ends; ``spectron_mock`` uses it too.
    """
    from pytest_spectron.testing._clock import VirtualClock

    clock = VirtualClock()
    with clock.install():
        yield clock


@pytest.fixture
def spectron_mock(
    request: pytest.FixtureRequest, spectron_clock: VirtualClock
) -> Iterator[SpectronMock]:
    """An in-process Spectron answering every httpx client that calls its endpoint.

    The fake's state (``.fake``), faults (``.fail(op, *outcomes)`` and ``@spectron_fault``),
    the attempt journal (``.attempts(op)``, ``.assert_attempts(op, n)``…) and the clock, fresh
    for every test. Other hosts are left to respx_mock, pytest-httpx or the network. A fault
    that no attempt matched fails the test at teardown (``spectron_assert_all_faults_used``).
    With ``--spectron-upstream=URL`` (live mode) the Spectron at URL answers instead of the
    fake, behind the same faults, clock and journal; ``.fake`` is then unavailable.

    :return: a started ``SpectronMock`` with the ``spectron_*`` options' endpoint, context and
        key, and the test's ``spectron_fault`` markers' faults; stopped when the test ends.
    :raises pytest.fail.Exception: at setup, for a ``spectron_fault`` marker with a bad argument.
    :raises UnroutableRequest: in the test, for a request to the endpoint that no operation
        answers (unless ``spectron_strict`` is false).
    :raises RouteConflict: in the test or after it passes, when a respx route of the test's own
        also answers requests to the endpoint.
    :raises AssertionError: at teardown of a passing test, for a fault no attempt matched
        (unless ``optional=True`` or ``spectron_assert_all_faults_used`` is false).
    """
    from pytest_spectron._markers import MarkerError, fault_from_marker
    from pytest_spectron.testing._mock import SpectronMock

    settings = request.config.stash[SETTINGS]
    try:
        # Closest first: the test's own markers, then its class's, then its module's.
        marker_faults = [
            fault_from_marker(marker) for marker in request.node.iter_markers(FAULT_MARKER)
        ]
    except MarkerError as error:
        raise pytest.fail.Exception(str(error), pytrace=False) from None
    mock = SpectronMock(
        endpoint=settings.endpoint,
        context=settings.context,
        api_key=settings.api_key,
        strict=settings.strict,
        clock=spectron_clock,
        upstream=settings.upstream,
        upstream_timeout=settings.upstream_timeout,
        upstream_insecure=settings.upstream_insecure,
    )
    for fault in marker_faults:
        mock.faults.add_fault(fault)
    request.node.stash[MOCK] = mock
    try:
        with mock:
            yield mock
        if settings.assert_all_faults_used and request.node.stash.get(PASSED, False):
            mock.assert_all_faults_used()
    finally:
        # The item lives until the session ends; the mock, its fake and journal (and what the
        # test's report said of it) must not.
        del request.node.stash[MOCK]
        if PASSED in request.node.stash:
            del request.node.stash[PASSED]


@pytest.fixture
def spectron(spectron_mock: SpectronMock) -> Iterator[Spectron]:
    """A sync Spectron client bound to ``spectron_mock``.

    What fails a test that uses ``spectron_mock`` fails one that uses this.

    :return: a ``Spectron`` with the mock's endpoint, context and key, closed when the test ends.
    """
    with spectron_mock.client() as client:
        yield client


@pytest.fixture
def async_spectron(spectron_mock: SpectronMock) -> AsyncSpectron:
    """An async Spectron client bound to ``spectron_mock`` (any async test runner).

    What fails a test that uses ``spectron_mock`` fails one that uses this.

    :return: an ``AsyncSpectron`` with the mock's endpoint, context and key; the test closes it
        (``async with``) if it wants its connections closed.
    """
    return spectron_mock.async_client()


@pytest.fixture
def spectron_server(spectron_mock: SpectronMock) -> LoopbackServer:
    """The same fake (live mode: upstream), faults and journal over a loopback socket (``.url``).

    For clients that are not httpx: ``urllib``, ``requests``, other languages. Assert through
    ``spectron_mock``, which shares everything with it.

    A request no operation answers gets the fake's 404/405 problem here, never an exception;
    otherwise what fails a test that uses ``spectron_mock`` fails one that uses this.

    :return: a running ``LoopbackServer`` on a free loopback port (``.url`` carries the
        endpoint's path prefix), stopped when the test ends.
    """
    return spectron_mock.serve()


@pytest.fixture
def spectron_case(request: pytest.FixtureRequest, spectron_mock: SpectronMock) -> MatrixCase:
    """One case of the status matrix, its failure already injected into ``spectron_mock``.

    Requesting it parametrizes the test over the matrix; narrow it with
    ``@pytest.mark.spectron_matrix(op, ...)``. Once the test has run, a case that its calls
    never met fails it, and a case for another kind of call (``stream_cut`` for a test that
    calls ``chat`` plainly) skips it, saying why.

    :return: the case: ``.error`` the client raises once it gives up, ``.attempts`` the
        requests that reach the server, ``.sleeps`` the waits between them.
    :raises pytest.fail.Exception: at setup, for a ``spectron_matrix`` marker with a bad
        argument; after a passing test whose calls never met the case's failure.
    :raises pytest.skip.Exception: after the test, when it only called the operation in a way
        the case is not for.
    """
    from pytest_spectron._markers import MarkerError

    param: CaseInTest | MarkerError = request.param
    if isinstance(param, MarkerError):
        pytest.fail(str(param), pytrace=False)
    param.inject(spectron_mock)
    request.node.stash[CASE] = param
    return param.case


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """After the test, judge its matrix case; if it passed, check no router shadowed Spectron.

    Both look while the test's fixtures still run: the mock's journal is still there, and the
    test's own respx routers stop (and forget their calls) when their fixtures end.
    """
    mock = item.stash.get(MOCK, None)
    case = item.stash.get(CASE, None)
    try:
        result = yield
    except (Exception, pytest.fail.Exception):
        if mock is not None and case is not None:
            case.judge(mock.attempts(), test_failed=True)
        raise
    if mock is not None:
        if case is not None:
            case.judge(mock.attempts(), test_failed=False)
        mock.assert_no_shadowing_routes()
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Attach the attempt ledger to a failing test's report (every test's, with the report)."""
    report = yield
    mock = item.stash.get(MOCK, None)
    if mock is None or report.when != "call":
        return report
    item.stash[PASSED] = report.passed
    from pytest_spectron.testing._assertions import LedgerAssertionError

    shown = call.excinfo is not None and call.excinfo.errisinstance(LedgerAssertionError)
    if (report.failed and not shown) or item.config.stash[SETTINGS].report:
        # A report section travels with the report, so pytest-xdist carries it to the controller.
        report.sections.append((LEDGER_SECTION, mock.ledger()))
    return report


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
