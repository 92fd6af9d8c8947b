"""``SpectronMock``: the fake, its faults, journal and virtual clock, served to httpx by respx.

It answers every httpx client in the process that calls its endpoint, including the clients an
application builds for itself, and leaves every other host to other respx routers. The pytest
fixtures are a thin layer over it; it works as a context manager outside pytest too.
"""

from __future__ import annotations

from contextlib import ExitStack
from types import TracebackType
from typing import Any

import httpx
import respx

from pytest_spectron._settings import DEFAULT_API_KEY, DEFAULT_CONTEXT, DEFAULT_ENDPOINT
from pytest_spectron.client import AsyncSpectron, Spectron
from pytest_spectron.testing._assertions import AttemptAssertions
from pytest_spectron.testing._clock import VirtualClock
from pytest_spectron.testing._fake import FakeSpectron
from pytest_spectron.testing._faults import FaultEngine
from pytest_spectron.testing._journal import Journal
from pytest_spectron.testing._server import LoopbackServer
from pytest_spectron.testing._service import SpectronService
from pytest_spectron.testing._transport import respx_side_effect

__all__ = ["SpectronMock"]


class SpectronMock(AttemptAssertions):
    """An in-process Spectron: state, faults, an attempt journal and a virtual clock."""

    def __init__(
        self,
        *,
        endpoint: str = DEFAULT_ENDPOINT,
        context: str = DEFAULT_CONTEXT,
        api_key: str = DEFAULT_API_KEY,
        strict: bool = True,
        clock: VirtualClock | None = None,
    ) -> None:
        url = httpx.URL(endpoint)
        if url.scheme not in ("http", "https") or not url.host or url.path not in ("", "/"):
            raise ValueError(
                f"endpoint must be an absolute http(s) URL without a path, such as "
                f"{DEFAULT_ENDPOINT!r}; got {endpoint!r}"
            )
        self.endpoint = str(url).rstrip("/")
        """The base URL the mock answers; pass it to your application's Spectron client."""
        self.context = context
        """The context id the bound clients use (the fake answers any context)."""
        self.api_key = api_key
        """An API key the fake accepts."""
        self.clock = clock or VirtualClock()
        self.fake = FakeSpectron(clock=lambda: self.clock.now)
        """The fake's state, for seeding and inspection."""
        self.faults = FaultEngine()
        self.journal = Journal()
        self.service = SpectronService(
            self.fake,
            faults=self.faults,
            journal=self.journal,
            clock=self.clock,
            on_unroutable="raise" if strict else "answer",
        )
        self._router = respx.MockRouter(assert_all_called=False, assert_all_mocked=True)
        where: dict[str, Any] = {"scheme": url.scheme, "host": url.host}
        if url.port is not None:
            where["port"] = url.port
        self._router.route(**where).mock(side_effect=respx_side_effect(self.service))
        self._running = ExitStack()

    # -- Lifecycle -----------------------------------------------------------------------------

    def start(self) -> SpectronMock:
        """Start answering httpx requests to the endpoint, and route retry waits to the clock."""
        self._running.enter_context(self._router)
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

    def serve(self) -> LoopbackServer:
        """The same fake, faults and journal over a loopback socket, for clients that are not httpx.

        Requests to the server's address are let through respx to the real socket. A request
        no operation answers gets the fake's 404/405 problem there: a client in another process
        or language could not see an exception raised here.
        """
        service = SpectronService(
            self.fake, faults=self.faults, journal=self.journal, clock=self.clock
        )
        server = self._running.enter_context(LoopbackServer(service))
        self._router.route(host=server.host, port=server.port).pass_through()
        return server

    # -- Clients -------------------------------------------------------------------------------

    def client(self, **options: Any) -> Spectron:
        """A sync client bound to this mock (``timeout``, ``max_retries``… as keyword options)."""
        return Spectron(self.context, self.endpoint, self.api_key, **options)

    def async_client(self, **options: Any) -> AsyncSpectron:
        """An async client bound to this mock."""
        return AsyncSpectron(self.context, self.endpoint, self.api_key, **options)

    def __repr__(self) -> str:
        return f"<SpectronMock endpoint={self.endpoint!r} context={self.context!r}>"
