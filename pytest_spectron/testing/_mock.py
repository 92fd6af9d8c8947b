"""``SpectronMock``: the fake, its faults, journal and virtual clock, served to httpx by respx.

It answers every httpx client in the process that calls its endpoint, including the clients an
application builds for itself (httpx2 clients too, where httpx2 is installed), and leaves every
other host to other respx routers, pytest-httpx or the network. It answers at the client level
(``_intercept``), above the transports, so a transport mock such as pytest-httpx never sees
Spectron's requests. Starting it registers it with the interception, a respx mocker started
only when nothing holds it already (the pytest plugin holds it for the session). The pytest
fixtures are a thin layer over it; it works as a context manager outside pytest too.

In live mode (``upstream=URL``) the fake gives way to a real Spectron: the same faults, clock and
journal stand in front of it, and what no fault takes is forwarded there.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import ExitStack
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from pytest_spectron._shared._defaults import (
    CLIENT_TIMEOUT,
    DEFAULT_API_KEY,
    DEFAULT_CONTEXT,
    DEFAULT_ENDPOINT,
    DEFAULT_UPSTREAM_TIMEOUT,
)
from pytest_spectron._shared._endpoint import check_endpoint, endpoint_prefix, redact_endpoint
from pytest_spectron.client import AsyncSpectron, Spectron
from pytest_spectron.testing._wiring import wire_service
from pytest_spectron.testing.fake import FakeSpectron
from pytest_spectron.testing.faults._fault import Fault
from pytest_spectron.testing.http._problems import DEFAULT_ERROR_FORMAT, ErrorFormat
from pytest_spectron.testing.service._clock import VirtualClock
from pytest_spectron.testing.service._controls import FaultsAndJournal
from pytest_spectron.testing.service._service import FakeBackend
from pytest_spectron.testing.transports._in_process import service_handler
from pytest_spectron.testing.transports._intercept_httpx import (
    AsyncNetworkWhenReached,
    NetworkWhenReached,
    Origin,
    answering,
)

if TYPE_CHECKING:
    import respx

    from pytest_spectron.testing.transports.loopback import LoopbackServer

__all__ = ["CaughtMockError", "LiveModeError", "RouteConflict", "SpectronMock"]


class RouteConflict(AssertionError):
    """A respx route of the test's own also answers requests to the Spectron mock's endpoint.

    :ivar routes: the conflicting routes, as respx shows them.
    """

    def __init__(self, endpoint: str, routes: list[str]) -> None:
        self.routes = routes
        listed = "\n".join(f"  - {route}" for route in routes)
        super().__init__(
            f"respx route(s) registered by the test also match requests to the Spectron "
            f"mock's endpoint {endpoint}:\n{listed}\n"
            "Only one of them can answer, so the other is silently ignored. Shape Spectron's "
            "answers through spectron_mock instead (.fail(...) for failures, .fake for state), "
            "or point those routes, or the mock (--spectron-endpoint), at another host."
        )


class CaughtMockError(AssertionError):
    """The code under test caught an error the mock raised where it sent a request.

    ``UnroutableRequest`` and ``ClientWouldHang`` mean the test cannot pass as it stands; a
    broad ``except`` in the application must not hide them.

    :ivar errors: the errors caught, oldest first.
    """

    def __init__(self, errors: list[AssertionError]) -> None:
        self.errors = errors
        listed = "\n".join(
            f"  - {type(error).__name__}: {str(error).splitlines()[0]}" for error in errors
        )
        super().__init__(
            f"the code under test caught {len(errors)} error(s) the Spectron mock raised where "
            f"it sent a request, so the test passed though they must fail it:\n{listed}\n"
            "Fix the request (or the client's timeout). A test that provokes one on purpose "
            "takes it with spectron_mock.acknowledge_errors() once it has."
        )


class LiveModeError(RuntimeError):
    """The fake was asked for, but the mock forwards to a real Spectron (live mode)."""


class SpectronMock(FaultsAndJournal):
    """An in-process Spectron: state, faults, an attempt journal and a virtual clock.

    ``error_format`` picks how its error answers look: ``"json"`` (the document's, the
    default), ``"problem"`` (``application/problem+json``) or ``"legacy"`` (``{"message"}``).

    ``upstream=URL`` is live mode: instead of the fake, the Spectron at ``URL`` answers every
    attempt no fault takes (faults, clock, journal and assertions work as with the fake; there
    is no ``.fake``). ``upstream_timeout`` is how long to wait for it (connect, each read)
    before a 504; ``upstream_insecure=True`` accepts any certificate (dangerous).

    :param endpoint: the base URL to answer, with an optional path prefix.
    :param context: the context id of the clients ``client()`` and ``async_client()`` build.
    :param api_key: the key those clients send.
    :param strict: whether a request to the endpoint that no operation answers raises
        ``UnroutableRequest`` where the application sent it; False answers the fake's 404/405.
    :param clock: the virtual clock to use; a new one if None.
    :param error_format: ``"json"``, ``"problem"`` or ``"legacy"``.
    :param upstream: live mode: the Spectron to forward to instead of the fake.
    :param upstream_timeout: seconds to wait for the upstream to connect, and for each read.
    :param upstream_insecure: accept any certificate from an https upstream (dangerous).
    :param label: what runs this mock (a test's name), for refusals to name.
    :raises TypeError: ``endpoint`` or ``upstream`` is not a str.
    :raises ValueError: for an endpoint or upstream that is no http(s) URL, an upstream equal
        to the endpoint, a timeout not above 0, or an unknown error format.
    """

    def __init__(
        self,
        *,
        endpoint: str = DEFAULT_ENDPOINT,
        context: str = DEFAULT_CONTEXT,
        api_key: str = DEFAULT_API_KEY,
        strict: bool = True,
        clock: VirtualClock | None = None,
        error_format: ErrorFormat = DEFAULT_ERROR_FORMAT,
        upstream: str | None = None,
        upstream_timeout: float = DEFAULT_UPSTREAM_TIMEOUT,
        upstream_insecure: bool = False,
        label: str | None = None,
    ) -> None:
        self.label = label
        """What runs this mock (the plugin gives the test's node id): a refused request from a
        thread started while it ran, sent after it stopped, names it."""
        self.endpoint = check_endpoint(endpoint)
        """The base URL the mock answers; pass it to your application's Spectron client. It may
        carry a path prefix (``http://spectron.test/spectron``), as behind a gateway."""
        self.prefix = endpoint_prefix(self.endpoint)
        """The endpoint's path prefix, ``""`` for none; removed from paths before routing."""
        url = httpx.URL(self.endpoint)
        self.context = context
        """The context id the bound clients use (the fake answers any context)."""
        self.api_key = api_key
        """The key the bound clients send: any key suits the fake; live mode sends it upstream."""
        self.upstream: str | None = None
        """Live mode's upstream Spectron, or None when the fake answers."""
        if upstream is not None:  # live mode's forwarding loads only for live mode
            from pytest_spectron.testing.transports._upstream import check_upstream

            self.upstream = check_upstream(upstream, endpoint=self.endpoint)
        self._wired = wire_service(
            clock=clock,
            error_format=error_format,
            on_unroutable="raise" if strict else "answer",
            upstream=self.upstream,
            upstream_timeout=upstream_timeout,
            upstream_insecure=upstream_insecure,
        )
        self.service = self._wired.service
        """The fake (or upstream) behind the faults and journal, as the mock serves it."""
        self.backend: FakeBackend = self.service.backend
        """The fake, or in live mode the forwarder to the upstream."""
        self.faults = self.service.faults
        """The fault engine ``fail()`` and the marker add to."""
        self.journal = self.service.journal
        """Every attempt, in order: ``attempts()`` and the assertions read it."""
        self.clock = self.service.clock
        """The virtual clock: retry waits and injected latency move it."""
        self._origin = Origin.of(url)
        self._answer = service_handler(self.service, prefix=self.prefix)
        self._running = ExitStack()
        self._explored: list[Fault] = []

    @property
    def fake(self) -> FakeSpectron:
        """The fake's state, for seeding and inspection; ``.error_format`` switches the format of
        every error answer, faults' and loopback server's included.

        :raises LiveModeError: in live mode, where a real Spectron keeps the state.
        """
        fake = self._wired.fake
        if fake is None:
            raise LiveModeError(
                f"there is no fake to seed or inspect in live mode: this mock forwards to the "
                f"Spectron at {redact_endpoint(str(self.upstream))}, which keeps its own state. "
                "Shape the state through its API (spectron.remember(...)), or mark the test "
                "@pytest.mark.spectron_fake_only to skip it in live mode."
            )
        return fake

    # -- Lifecycle -----------------------------------------------------------------------------

    def start(self) -> SpectronMock:
        """Answer httpx (and httpx2) requests to the endpoint; route retry waits to the clock.

        ``with SpectronMock() as mock`` calls it, and ``stop()`` on the way out.

        :return: this mock.
        """
        self._running.callback(self._wired.close)  # the upstream's connections, once stopped
        # Every other request goes on: to other mocks, then down to the transports (respx
        # routers, pytest-httpx, this mock's own loopback server, the network).
        self._running.enter_context(
            answering(
                self._origin,
                self._answer_checked,
                blocking=self.upstream is not None,
                label=self.label,
            )
        )
        self._running.enter_context(self.clock.install())
        return self

    def stop(self) -> None:
        """Stop answering, stop any loopback server, and restore the sleep hook."""
        self._running.close()

    def __enter__(self) -> SpectronMock:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def serve(self, *, client_timeout: float | None = CLIENT_TIMEOUT) -> LoopbackServer:
        """The same fake, faults and journal over a loopback socket, for clients that are not httpx.

        Requests to the server's address go through to the real socket. A request
        no operation answers gets the fake's 404/405 problem there (in live mode, it is
        forwarded): a client in another process or language could not see an exception raised
        here. ``client_timeout`` is the read timeout the server assumes its clients wait (the
        Spectron client's default): injected latency beyond it holds the connection silent until
        the client times out, as in-process.

        The server stops with the mock.

        :param client_timeout: the read timeout, in seconds, the server assumes its clients
            wait; None: latency never becomes a timeout.
        :raises ValueError: ``client_timeout`` is not above 0.
        :return: the running server; its ``.url`` carries the endpoint's path prefix.
        """
        from pytest_spectron.testing.transports.loopback import LoopbackServer

        service = self.service.sharing(on_unroutable="answer")
        return self._running.enter_context(
            LoopbackServer(service, client_timeout=client_timeout, prefix=self.prefix)
        )

    def assert_no_shadowing_routes(self) -> None:
        """Raise RouteConflict if another respx router answered a request to the endpoint.

        A router patched at the same level and started first answers before this mock, which
        then never sees the request; its routes' calls are the only trace left. The plugin
        calls it after each passing test.

        :raises RouteConflict: listing the routes that answered requests to the endpoint.
        """
        __tracebackhide__ = True
        shadowing = self._shadowing_routes(
            lambda route: any(self._origin.matches(call.request.url) for call in route.calls)
        )
        if shadowing:
            raise RouteConflict(self.endpoint, shadowing)

    def acknowledge_errors(self) -> list[AssertionError]:
        """The errors raised where the code sent a request so far, which then fail no test.

        For a test that provokes an ``UnroutableRequest`` or a ``ClientWouldHang`` on purpose
        and catches it.

        :return: the errors, oldest first; the mock forgets them.
        """
        raised = list(self.service.raised)
        self.service.raised.clear()
        return raised

    def assert_no_caught_errors(self) -> None:
        """Raise CaughtMockError if the code under test caught an error the mock raised.

        An ``UnroutableRequest`` (a typo'd path) or a ``ClientWouldHang`` under a broad
        ``except`` would let the test pass; the plugin calls this after each passing test.

        :raises CaughtMockError: listing the errors, unless ``acknowledge_errors()`` took them.
        """
        __tracebackhide__ = True
        if self.service.raised:
            raise CaughtMockError(list(self.service.raised))

    def _answer_checked(self, request: httpx.Request) -> httpx.Response:
        """The answer to a request to the endpoint, unless a respx route would answer it too."""
        shadowing = self._shadowing_routes(lambda route: route.pattern.match(request))
        if shadowing:
            raise RouteConflict(self.endpoint, shadowing)
        return self._answer(request)

    def _shadowing_routes(self, conflicts: Callable[[respx.Route], object]) -> list[str]:
        # No respx router exists unless respx is loaded, and this mock never loads it. A
        # catch-all route (no pattern) is a fallback by design, never a conflict.
        mocks, patterns = sys.modules.get("respx.mocks"), sys.modules.get("respx.patterns")
        if mocks is None or patterns is None:
            return []
        return [
            repr(route)
            for mocker in mocks.Mocker.registry.values()
            for router in mocker.routers
            for route in router.routes
            if not isinstance(route.pattern, patterns.Noop) and conflicts(route)
        ]

    # -- Fault exploration --------------------------------------------------------------------

    def explore(self, fault: Fault) -> Fault:
        """Add a fault that fault exploration (``--spectron-explore``) injects into this run.

        It applies after the faults the test declares, and ``injected()`` lists it.

        :param fault: the fault, as ``build_fault`` made it.
        :return: the same fault.
        """
        self._explored.append(fault)
        return self.faults.add_fault(fault)

    def injected(self, op: str | None = None) -> list[Fault]:
        """The faults fault exploration injected into this run; empty in a normal run.

        A test makes its own assertions conditional on them, where the explored failure makes
        another result the right one: ``if not spectron_mock.injected("recall"): assert …``.
        Each fault's ``.target`` is its operation, ``.call`` its call (None for the first),
        ``.spec()`` the whole fault in words.

        :param op: an operation: only the faults injected into its calls; None for all.
        :return: a new list, in the order they were injected.
        """
        return [fault for fault in self._explored if op is None or fault.target == op]

    # -- Clients -------------------------------------------------------------------------------

    def client(self, **options: Any) -> Spectron:
        """A sync client bound to this mock: its endpoint, context and key.

        It reads no proxy settings from the environment (the mock answers above any proxy)
        and builds no connection pool until a request reaches the network (once the mock
        has stopped); with ``http_client`` or ``transport`` in ``options``, it is built as given.

        :param options: the client's keyword options (``timeout``, ``max_retries``…).
        :return: a new ``Spectron``; close it (``with``) when done.
        """
        if "http_client" in options or "transport" in options:
            return Spectron(self.context, self.endpoint, self.api_key, **options)
        http = httpx.Client(transport=NetworkWhenReached(), trust_env=False)
        client = Spectron(self.context, self.endpoint, self.api_key, http_client=http, **options)
        client._owns_http = True  # closed with the client, as the one it builds itself
        return client

    def async_client(self, **options: Any) -> AsyncSpectron:
        """An async client bound to this mock: its endpoint, context and key (like ``client()``).

        :param options: the client's keyword options (``timeout``, ``max_retries``…).
        :return: a new ``AsyncSpectron``; close it (``async with``) when done.
        """
        if "http_client" in options or "transport" in options:
            return AsyncSpectron(self.context, self.endpoint, self.api_key, **options)
        http = httpx.AsyncClient(transport=AsyncNetworkWhenReached(), trust_env=False)
        client = AsyncSpectron(
            self.context, self.endpoint, self.api_key, http_client=http, **options
        )
        client._owns_http = True  # closed with the client, as the one it builds itself
        return client

    def __repr__(self) -> str:
        live = "" if self.upstream is None else f" upstream={redact_endpoint(self.upstream)!r}"
        return f"<SpectronMock endpoint={self.endpoint!r} context={self.context!r}{live}>"
