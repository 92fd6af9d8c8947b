"""The plugin's fixtures: the mock, its clients, the clock, the loopback server and matrix cases."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from pytest_spectron.plugin._settings import FAULT_MARKER
from pytest_spectron.plugin._stash import CASE, EXPLORING, MOCK, PASSED, SETTINGS

# The client and the fake load when a test first uses a fixture, so a run that never touches
# Spectron pays almost nothing for the plugin.
if TYPE_CHECKING:
    from pytest_spectron.client import AsyncSpectron, Spectron
    from pytest_spectron.plugin._markers import MarkerError
    from pytest_spectron.plugin._matrix_case import CaseInTest
    from pytest_spectron.testing._mock import SpectronMock
    from pytest_spectron.testing.faults._matrix import MatrixCase
    from pytest_spectron.testing.service._clock import VirtualClock
    from pytest_spectron.testing.transports.loopback import LoopbackServer

__all__ = [
    "async_spectron",
    "spectron",
    "spectron_case",
    "spectron_clock",
    "spectron_mock",
    "spectron_server",
]


@pytest.fixture
def spectron_clock() -> Iterator[VirtualClock]:
    """A virtual clock: every Spectron client's retry waits go to it, and nothing sleeps.

    ``.sleeps`` lists the waits requested, ``.now`` is the virtual time, and
    ``.assert_backoff([0.25, 0.5])`` checks a backoff schedule.

    :return: a new clock at 0, installed until the test ends; ``spectron_mock`` uses it too.
    """
    from pytest_spectron.testing.service._clock import VirtualClock

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
    that took effect on no attempt fails the test at teardown
    (``spectron_assert_all_faults_used``).
    With ``--spectron-upstream=URL`` (live mode) the Spectron at URL answers instead of the
    fake, behind the same faults, clock and journal; ``.fake`` is then unavailable.

    :return: a started ``SpectronMock`` with the ``spectron_*`` options' endpoint, context and
        key, and the test's ``spectron_fault`` markers' faults; stopped when the test ends.
    :raises pytest.fail.Exception: at setup, for a ``spectron_fault`` marker with a bad argument.
    :raises UnroutableRequest: in the test, for a request to the endpoint that no operation
        answers (unless ``spectron_strict`` is false).
    :raises RouteConflict: in the test or after it passes, when a respx route of the test's own
        also answers requests to the endpoint.
    :raises AssertionError: at teardown of a passing test, for a fault that took effect on no
        attempt (unless ``optional=True`` or ``spectron_assert_all_faults_used`` is false), or
        under ``spectron_unknown_fields = error`` for a request field the document does not name.
    """
    from pytest_spectron.plugin._markers import MarkerError, fault_from_marker
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
        label=request.node.nodeid,
    )
    for fault in marker_faults:
        mock.faults.add_fault(fault)
    # After the test's own: the test's scenario holds, and exploration adds to it.
    for fault in request.node.stash.get(EXPLORING, ()):
        mock.explore(fault)
    request.node.stash[MOCK] = mock
    try:
        with mock:
            yield mock
        if settings.assert_all_faults_used and request.node.stash.get(PASSED, False):
            from pytest_spectron.testing.service._controls import LedgerAssertionError

            try:
                mock.assert_all_faults_used()
            except LedgerAssertionError as error:
                # The message and its ledger say it all: the fixture's source would bury them.
                raise pytest.fail.Exception(str(error), pytrace=False) from None
        if settings.unknown_fields == "error" and request.node.stash.get(PASSED, False):
            mock.assert_no_unknown_fields()
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
def async_spectron(request: pytest.FixtureRequest, spectron_mock: SpectronMock) -> AsyncSpectron:
    """An async Spectron client bound to ``spectron_mock`` (any async test runner).

    What fails a test that uses ``spectron_mock`` fails one that uses this.

    :return: an ``AsyncSpectron`` with the mock's endpoint, context and key; the test closes it
        (``async with``) if it wants its connections closed.
    :raises pytest.fail.Exception: at setup, for a plain (sync) test that asks for it by name:
        its calls would return coroutines that nothing awaits.
    """
    test = getattr(request.node, "obj", None)
    if (
        callable(test)
        and not inspect.iscoroutinefunction(test)
        and "async_spectron" in inspect.signature(test).parameters
    ):
        raise pytest.fail.Exception(
            f"{request.node.name} is a plain (sync) test, but async_spectron is an async client: "
            "its calls return coroutines that the test would have to await. Make the test "
            "async (async def, under pytest-asyncio or anyio), or use the sync client, "
            "spectron.",
            pytrace=False,
        )
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
    from pytest_spectron.plugin._markers import MarkerError

    param: CaseInTest | MarkerError = request.param
    if isinstance(param, MarkerError):
        pytest.fail(str(param), pytrace=False)
    param.inject(spectron_mock)
    request.node.stash[CASE] = param
    return param.case
