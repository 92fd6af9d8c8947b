"""``SpectronMock``: the fake, its faults, journal and virtual clock, served to httpx by respx.

It answers every httpx client in the process that calls its endpoint, including the clients an
application builds for itself (httpx2 clients too, where httpx2 is installed), and leaves every
other host to other respx routers, pytest-httpx or the network. It answers at the client level
(``_intercept``), above the transports, so a transport mock such as pytest-httpx never sees
Spectron's requests. Starting it registers it with the interception, which patches httpx only
when nothing holds the patch already (the pytest plugin holds it for the session). The pytest
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

from pytest_spectron._endpoint import check_endpoint, endpoint_prefix, redact_endpoint
from pytest_spectron._settings import (
    DEFAULT_API_KEY,
    DEFAULT_CONTEXT,
    DEFAULT_ENDPOINT,
    DEFAULT_UPSTREAM_TIMEOUT,
)
from pytest_spectron.client import AsyncSpectron, Spectron
from pytest_spectron.testing._assertions import AttemptAssertions
from pytest_spectron.testing._clock import VirtualClock
from pytest_spectron.testing._fake import FakeSpectron
from pytest_spectron.testing._faults import FaultEngine
from pytest_spectron.testing._intercept import Origin, answering
from pytest_spectron.testing._journal import Journal
from pytest_spectron.testing._problems import DEFAULT_ERROR_FORMAT, ErrorFormat
from pytest_spectron.testing._server import CLIENT_TIMEOUT, LoopbackServer
from pytest_spectron.testing._service import FakeBackend, SpectronService
from pytest_spectron.testing._transport import respx_side_effect
from pytest_spectron.testing._upstream import UpstreamBackend, check_upstream

if TYPE_CHECKING:
    import respx

__all__ = ["LiveModeError", "RouteConflict", "SpectronMock"]


class RouteConflict(AssertionError):
    """A respx route of the test's own also answers requests to the Spectron mock's endpoint."""

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


class LiveModeError(RuntimeError):
    """The fake was asked for, but the mock forwards to a real Spectron (live mode)."""


class SpectronMock(AttemptAssertions):
    """An in-process Spectron: state, faults, an attempt journal and a virtual clock.

    ``error_format`` picks how its error answers look: ``"json"`` (the document's, the
    default), ``"problem"`` (``application/problem+json``) or ``"legacy"`` (``{"message"}``).

    ``upstream=URL`` is live mode: instead of the fake, the Spectron at ``URL`` answers every
    attempt no fault takes (faults, clock, journal and assertions work as with the fake; there
    is no ``.fake``). ``upstream_timeout`` is how long to wait for it (connect, each read)
    before a 504; ``upstream_insecure=True`` accepts any certificate (dangerous).
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
    ) -> None:
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
        self.clock = clock or VirtualClock()
        self.upstream = (
            None if upstream is None else check_upstream(upstream, endpoint=self.endpoint)
        )
        """Live mode's upstream Spectron, or None when the fake answers."""
        self.backend: FakeBackend
        self._fake: FakeSpectron | None = None
        if self.upstream is None:
            self._fake = FakeSpectron(clock=lambda: self.clock.now, error_format=error_format)
            self.backend = self._fake
        else:
            self.backend = UpstreamBackend(
                self.upstream,
                timeout=upstream_timeout,
                verify=not upstream_insecure,
                error_format=error_format,
            )
        self.faults = FaultEngine()
        self.journal = Journal()
        self.service = SpectronService(
            self.backend,
            faults=self.faults,
            journal=self.journal,
            clock=self.clock,
            on_unroutable="raise" if strict else "answer",
        )
        self._origin = Origin.of(url)
        self._answer = respx_side_effect(self.service, prefix=self.prefix)
        self._running = ExitStack()

    @property
    def fake(self) -> FakeSpectron:
        """The fake's state, for seeding and inspection; ``.error_format`` switches the format of
        every error answer, faults' and loopback server's included.

        :raises LiveModeError: in live mode, where a real Spectron keeps the state.
        """
        if self._fake is None:
            raise LiveModeError(
                f"there is no fake to seed or inspect in live mode: this mock forwards to the "
                f"Spectron at {redact_endpoint(str(self.upstream))}, which keeps its own state. "
                "Shape the state through its API (spectron.remember(...)), or mark the test "
                "@pytest.mark.spectron_fake_only to skip it in live mode."
            )
        return self._fake

    # -- Lifecycle -----------------------------------------------------------------------------

    def start(self) -> SpectronMock:
        """Answer httpx (and httpx2) requests to the endpoint; route retry waits to the clock."""
        if isinstance(self.backend, UpstreamBackend):
            self._running.callback(self.backend.close)  # its connections, once stopped
        # Every other request goes on: to other mocks, then down to the transports (respx
        # routers, pytest-httpx, this mock's own loopback server, the network).
        self._running.enter_context(answering(self._origin, self._answer_checked))
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
        """
        service = SpectronService(
            self.backend, faults=self.faults, journal=self.journal, clock=self.clock
        )
        return self._running.enter_context(
            LoopbackServer(service, client_timeout=client_timeout, prefix=self.prefix)
        )

    def assert_no_shadowing_routes(self) -> None:
        """Raise RouteConflict if another respx router answered a request to the endpoint.

        A router patched at the same level and started first answers before this mock, which
        then never sees the request; its routes' calls are the only trace left.
        """
        __tracebackhide__ = True
        shadowing = self._shadowing_routes(
            lambda route: any(self._origin.matches(call.request.url) for call in route.calls)
        )
        if shadowing:
            raise RouteConflict(self.endpoint, shadowing)

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

    # -- Clients -------------------------------------------------------------------------------

    def client(self, **options: Any) -> Spectron:
        """A sync client bound to this mock (``timeout``, ``max_retries``… as keyword options)."""
        return Spectron(self.context, self.endpoint, self.api_key, **options)

    def async_client(self, **options: Any) -> AsyncSpectron:
        """An async client bound to this mock."""
        return AsyncSpectron(self.context, self.endpoint, self.api_key, **options)

    def __repr__(self) -> str:
        live = "" if self.upstream is None else f" upstream={redact_endpoint(self.upstream)!r}"
        return f"<SpectronMock endpoint={self.endpoint!r} context={self.context!r}{live}>"
