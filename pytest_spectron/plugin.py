"""The pytest plugin: options, markers, fixtures and reporting. The work lives in ``testing``."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING

import pytest

from pytest_spectron._settings import (
    FAULT_MARKER,
    FAULT_MARKER_DOC,
    MATRIX_MARKER,
    MATRIX_MARKER_DOC,
    OPTIONS,
    Settings,
    SettingsError,
)

# The client, the fake and respx load when a test first uses a fixture or a marker, so a run
# that never touches Spectron pays almost nothing for the plugin.
if TYPE_CHECKING:
    from pytest_spectron.client import AsyncSpectron, Spectron
    from pytest_spectron.testing._clock import VirtualClock
    from pytest_spectron.testing._markers import MarkerFault
    from pytest_spectron.testing._matrix import MatrixCase
    from pytest_spectron.testing._mock import SpectronMock
    from pytest_spectron.testing._server import LoopbackServer

SETTINGS = pytest.StashKey[Settings]()
MARKER_FAULTS: pytest.StashKey[list[MarkerFault]] = pytest.StashKey()
MOCK: pytest.StashKey[SpectronMock] = pytest.StashKey()
LEDGERS = pytest.StashKey[dict[str, str]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("spectron", "Spectron fake, faults and virtual clock")
    for option in OPTIONS:
        group.addoption(
            option.flag,
            dest=option.ini,
            default=None,
            metavar=option.name.upper(),
            help=f"{option.help} (default: {option.default}; ini: {option.ini})",
        )
        parser.addini(option.ini, f"{option.help} (default: {option.default})", default="")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", FAULT_MARKER_DOC)
    config.addinivalue_line("markers", MATRIX_MARKER_DOC)
    try:
        settings = Settings.resolve(
            lambda option: config.getoption(option.ini) or str(config.getini(option.ini))
        )
    except SettingsError as error:
        raise pytest.UsageError(str(error)) from None
    config.stash[SETTINGS] = settings
    config.stash[LEDGERS] = {}


@pytest.hookimpl(wrapper=True)
def pytest_pycollect_makeitem(
    collector: pytest.Module | pytest.Class, name: str, obj: object
) -> Generator[None, object, object]:
    """Check every test's ``spectron_fault`` markers while collecting, so mistakes fail early."""
    result = yield
    items = result if isinstance(result, list) else [result]
    for item in items:
        if not isinstance(item, pytest.Function):
            continue
        markers = list(item.iter_markers(FAULT_MARKER))
        if not markers:
            continue
        from pytest_spectron.testing._markers import MarkerError, parse_fault_marker

        try:
            item.stash[MARKER_FAULTS] = [parse_fault_marker(marker) for marker in markers]
        except MarkerError as error:
            raise collector.CollectError(f"{item.nodeid}: {error}") from None
    return result


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "spectron_case" in metafunc.fixturenames:
        from pytest_spectron.testing._markers import MarkerError, matrix_cases

        marker = metafunc.definition.get_closest_marker(MATRIX_MARKER)
        try:
            cases = matrix_cases(marker)
        except MarkerError as error:
            raise pytest.Collector.CollectError(f"{metafunc.definition.nodeid}: {error}") from None
        metafunc.parametrize("spectron_case", cases, ids=str, indirect=True)


@pytest.fixture
def spectron_clock() -> Iterator[VirtualClock]:
    """A virtual clock: every Spectron client's retry waits go to it, and nothing sleeps.

    ``.sleeps`` lists the waits requested, ``.now`` is the virtual time, and
    ``.assert_backoff([0.25, 0.5])`` checks a backoff schedule.
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
    for every test. Other hosts are left to respx_mock, pytest-httpx or the network.
    """
    from pytest_spectron.testing._mock import SpectronMock

    settings = request.config.stash[SETTINGS]
    mock = SpectronMock(
        endpoint=settings.endpoint,
        context=settings.context,
        api_key=settings.api_key,
        strict=settings.strict,
        clock=spectron_clock,
    )
    for fault in request.node.stash.get(MARKER_FAULTS, []):
        mock.faults.add_fault(fault.build())
    request.node.stash[MOCK] = mock
    with mock:
        yield mock


@pytest.fixture
def spectron(spectron_mock: SpectronMock) -> Iterator[Spectron]:
    """A sync Spectron client bound to ``spectron_mock``."""
    with spectron_mock.client() as client:
        yield client


@pytest.fixture
def async_spectron(spectron_mock: SpectronMock) -> AsyncSpectron:
    """An async Spectron client bound to ``spectron_mock`` (any async test runner)."""
    return spectron_mock.async_client()


@pytest.fixture
def spectron_server(spectron_mock: SpectronMock) -> LoopbackServer:
    """The same fake, faults and journal over a real loopback socket (``.url``).

    For clients that are not httpx: ``urllib``, ``requests``, other languages. Assert through
    ``spectron_mock``, which shares everything with it.
    """
    return spectron_mock.serve()


@pytest.fixture
def spectron_case(request: pytest.FixtureRequest, spectron_mock: SpectronMock) -> MatrixCase:
    """One case of the status matrix, its failure already injected into ``spectron_mock``.

    Requesting it parametrizes the test over the matrix; narrow it with
    ``@pytest.mark.spectron_matrix(op, ...)``.
    """
    case: MatrixCase = request.param
    marker = request.node.get_closest_marker(MATRIX_MARKER)
    target = marker.args[0] if marker and marker.args else case.retry_class
    spectron_mock.fail(target, case.outcome)
    return case


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Attach the attempt ledger to a failing test's report; keep it for ``--spectron-report``."""
    report = yield
    mock = item.stash.get(MOCK, None)
    if mock is None or report.when != "call":
        return report
    ledger = mock.ledger()
    if report.failed:
        report.sections.append(("Spectron attempt ledger", ledger))
    if item.config.stash[SETTINGS].report:
        item.config.stash[LEDGERS][item.nodeid] = ledger
    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    ledgers = terminalreporter.config.stash.get(LEDGERS, {})
    if not ledgers:
        return
    terminalreporter.section("Spectron attempt ledgers")
    for nodeid, ledger in ledgers.items():
        terminalreporter.write_line(nodeid)
        terminalreporter.write_line(ledger)
