"""Where ``SpectronMock`` meets httpx: a respx mocker at the client level, started once.

The mocker is respx's own ``httpx`` mocker under another name (``using="spectron"``): it patches
``Client._transport_for_url`` (and ``AsyncClient``'s), above every transport, so a transport mock
(pytest-httpx, respx's default httpcore mocker) never sees Spectron's requests. The patched
method asks the registry of running mocks (``_registry.entry_for``) what becomes of each URL: the
newest mock whose endpoint has the request's scheme, host and port (any port, for an endpoint
without one) answers it; a request that must not leave the process gets a refusal, when the
client's own transport would send it to the network; every other request goes on to that
transport (respx routers below, pytest-httpx, the network, a mock's own loopback server),
untouched.

respx is started once, not per mock: the router stays registered while anything holds it
(``intercepting``). The pytest plugin holds it for the whole run, so starting a mock for a test
is a push onto the registry and stopping it a pop; a mock used on its own (a ``with`` block in a
script) holds it while it runs, and respx unpatches once nothing holds it.

A client-level respx router of the test's own (``respx.mock(using="httpx")``) patches above this
one. While a mock runs under such a router, the same ``_Dispatch`` router is registered first on
respx's ``httpx`` mocker too, so Spectron's requests are still answered by the mock (and a route
of the test's on the endpoint is reported) and every other request goes on to the test's routes.
Where httpx2 (Pydantic's fork of httpx) is installed, the mocker patches its clients too, through
``_intercept_httpx2``: respx does not patch httpx2. Once the application imports requests or
aiohttp (before or while anything holds the interception), their requests to the mocks are
answered from the same registry too (``_intercept_requests``, ``_intercept_aiohttp``); a library
the application never imports is never imported here.
"""

from __future__ import annotations

import importlib
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any, ClassVar
from unittest import mock

import httpcore
import httpx
import respx
from respx.mocks import HTTPXMocker
from respx.models import AllMockedAssertionError

from pytest_spectron._shared._imports import forget, when_imported
from pytest_spectron.testing.transports._registry import (
    Answer,
    Entry,
    Origin,
    Tenure,
    answer_for,
    entry_for,
    registered,
)

__all__ = [
    "Answer",
    "AsyncNetworkWhenReached",
    "NetworkWhenReached",
    "Origin",
    "answer_for",
    "answering",
    "intercepting",
]

_HTTPX2_CLIENTS = ("httpx2._client.Client", "httpx2._client.AsyncClient")
"""httpx2's clients, patched once the application imports httpx2 (never imported here)."""

_lock = threading.Lock()


@contextmanager
def answering(
    origin: Origin, answer: Answer, *, blocking: bool = False, label: str | None = None
) -> Iterator[None]:
    """Answer every httpx (and httpx2) request to ``origin`` with ``answer`` while the block runs.

    Nested or side by side, the newest on an origin answers; the others keep theirs.

    :param origin: where the requests go.
    :param answer: the answer to one request.
    :param blocking: ``answer`` waits on the network (live mode's forwarding): an async client's
        request then runs it in a worker thread, so the event loop goes on meanwhile.
    :param label: what runs the mock (a test's node id), named when a thread started while it
        ran sends a request after it stopped; such requests are refused.
    """
    tenure = Tenure(label or f"the mock on {origin.scheme}://{origin.host}")
    entry = Entry(origin, answer, blocking, tenure)
    with intercepting(), _first_on_client_level_routers(), registered(entry):
        yield


# -- respx ------------------------------------------------------------------------------------


class _Dispatch(respx.MockRouter):
    """A respx router whose one rule is the registry: the newest mock on the origin answers.

    It starts this module's patches, and, registered on respx's ``httpx`` mocker while a
    test's router uses it, answers there first what a mock answers (the test's router has the
    rest).
    """

    def __init__(self) -> None:
        super().__init__(assert_all_called=False, using=_SpectronMocker.name)

    def handler(self, request: httpx.Request) -> httpx.Response:
        return self._entry(request).answer(request)

    async def async_handler(self, request: httpx.Request) -> httpx.Response:
        return await _answer_async(self._entry(request), request)

    @staticmethod
    def _entry(request: httpx.Request) -> Entry:
        # Under a test's respx router, what no mock answers is the router's to answer.
        entry = entry_for(request.url, network=False)
        if entry is None:  # respx goes on to the next router, or passes the request through
            raise AllMockedAssertionError(f"RESPX: {request!r} not mocked!")
        return entry


async def _answer_async(entry: Entry, request: httpx.Request) -> httpx.Response:
    # The mocks' answers are synchronous, for async clients too; one that waits on the
    # network waits in a worker thread.
    if entry.blocking:
        import asyncio

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # trio
            pass
        else:
            # Through the loop's executor, so a loop on virtual time waits for the thread
            # instead of jumping over it to the next timer.
            return await loop.run_in_executor(None, entry.answer, request)
        import anyio.to_thread

        return await anyio.to_thread.run_sync(entry.answer, request)
    return entry.answer(request)


class _AnswerTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """What a client's ``_transport_for_url`` gives for a request the registry answers."""

    def __init__(self, entry: Entry) -> None:
        self._entry = entry

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        return self._entry.answer(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        return await _answer_async(self._entry, request)


_NETWORK_METHODS = (
    (httpx.HTTPTransport, "handle_request", httpx.HTTPTransport.handle_request),
    (
        httpx.AsyncHTTPTransport,
        "handle_async_request",
        httpx.AsyncHTTPTransport.handle_async_request,
    ),
    (httpcore.ConnectionPool, "handle_request", httpcore.ConnectionPool.handle_request),
    (
        httpcore.AsyncConnectionPool,
        "handle_async_request",
        httpcore.AsyncConnectionPool.handle_async_request,
    ),
)
"""httpx's way to the network, as it was before any transport mock (pytest-httpx, respx) came."""


class NetworkWhenReached(httpx.BaseTransport):
    """httpx's own transport, built the first time a request reaches it: a mock's bound clients'.

    While the mock runs, every request to its endpoint is answered above the transports, so it is
    reached only once the mock has stopped: then it is the network, refused as any client's
    would be (a module fixture's client used after its test). Built on first use, it costs the
    tests nothing (no connection pool, no SSL context).
    """

    def __init__(self) -> None:
        self._network: httpx.HTTPTransport | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self._network is None:
            self._network = httpx.HTTPTransport(verify=_ssl_context())
        return self._network.handle_request(request)

    def close(self) -> None:
        if self._network is not None:
            self._network.close()


class AsyncNetworkWhenReached(httpx.AsyncBaseTransport):
    """httpx's own async transport, built the first time a request reaches it."""

    def __init__(self) -> None:
        self._network: httpx.AsyncHTTPTransport | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._network is None:
            self._network = httpx.AsyncHTTPTransport(verify=_ssl_context())
        return await self._network.handle_async_request(request)

    async def aclose(self) -> None:
        if self._network is not None:
            await self._network.aclose()


def _ssl_context() -> ssl.SSLContext:
    # The client's, shared by the process; imported here, so that holding the interception
    # (a run with --spectron-block-network and no mock) loads nothing of the client.
    from pytest_spectron.client._options import default_ssl_context

    return default_ssl_context()


_NETWORK_TRANSPORTS = (
    httpx.HTTPTransport,
    httpx.AsyncHTTPTransport,
    NetworkWhenReached,
    AsyncNetworkWhenReached,
)


def _reaches_network(transport: httpx.BaseTransport | httpx.AsyncBaseTransport) -> bool:
    """Whether a client's own transport sends to the network: httpx's, and nobody mocks it.

    Any other transport (``MockTransport``, an ASGI or WSGI app, a wrapper) is the test's own.
    """
    if not isinstance(transport, _NETWORK_TRANSPORTS):
        return False
    return all(getattr(owner, name) is method for owner, name, method in _NETWORK_METHODS)


def _patched_transport_for_url(spec: Callable[..., Any]) -> Callable[..., Any]:
    """httpx's ``Client._transport_for_url`` (or ``AsyncClient``'s), answering from the registry."""

    def _transport_for_url(
        client: httpx.Client | httpx.AsyncClient, url: httpx.URL
    ) -> httpx.BaseTransport | httpx.AsyncBaseTransport:
        own = spec(client, url)
        entry = entry_for(url, network=lambda: _reaches_network(own))
        return own if entry is None else _AnswerTransport(entry)

    return _transport_for_url


class _SpectronMocker(HTTPXMocker):
    """respx's client-level mocker under its own name: what no mock answers passes through."""

    name = "spectron"
    targets: ClassVar[list[str]] = list(HTTPXMocker.targets)
    target_methods: ClassVar[list[str]] = list(HTTPXMocker.target_methods)
    installed: ClassVar[list[Callable[..., Any]]] = []
    """The methods this mocker's patches put in place, to tell whether another is above."""

    @classmethod
    def mock(cls, spec: Callable[..., Any]) -> Callable[..., Any]:
        if spec.__module__.partition(".")[0] == "httpx2":
            from pytest_spectron.testing.transports._intercept_httpx2 import (
                patched_transport_for_url,
            )

            method = patched_transport_for_url(entry_for, spec)
        else:
            method = _patched_transport_for_url(spec)
        cls.installed.append(method)
        return method

    @classmethod
    def on_top(cls) -> bool:
        """Whether every patched class still has this mocker's method, not another's above it."""
        return all(
            getattr(patch.getter(), patch.attribute) in cls.installed for patch in cls._patches
        )


_DISPATCH = _Dispatch()
_holders = 0


@contextmanager
def intercepting() -> Iterator[None]:
    """Keep respx's client-level mocker started while the block runs.

    The first holder starts it (patching httpx's and httpx2's clients), the last one to leave
    stops it, unless another patch of the same method has come on top since (a test's respx
    router at the client level): stopping would throw that one away. Left in place, it answers
    nothing (no mock is registered) until a holder comes back, or leaves with it on top.
    """
    global _holders
    with _lock:
        if _DISPATCH not in _SpectronMocker.routers:
            _DISPATCH.start()
        if not _holders:
            _start_other_clients()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if not _holders:
                _stop_other_clients()
            if not _holders and _SpectronMocker.on_top():
                _DISPATCH.stop(quiet=True)
                _SpectronMocker.installed.clear()


# -- requests and aiohttp ----------------------------------------------------------------------


_OTHER_CLIENTS: dict[str, str] = {
    "requests": f"{__package__}._intercept_requests",
    "aiohttp": f"{__package__}._intercept_aiohttp",
}
"""Each library, and the module that intercepts it once the application imports it."""
_installed_interceptors: list[ModuleType] = []


def _install_interceptor(library: ModuleType) -> None:
    # Through sys.modules, not the package's attribute: a library imported afresh (a test
    # runner restoring sys.modules) is met by an interceptor imported afresh with it.
    interceptor = importlib.import_module(_OTHER_CLIENTS[library.__name__])
    interceptor.install()
    _installed_interceptors.append(interceptor)


def _patch_httpx2(httpx2: ModuleType) -> None:
    # Beside the mocker's patches of httpx, so they leave with them; once, however often the
    # interception is held again while they are in place.
    patches = _SpectronMocker._patches
    if not patches or any(_patches_httpx2(patch) for patch in patches):
        return
    for target in _HTTPX2_CLIENTS:
        for method in _SpectronMocker.target_methods:
            patch = mock.patch(f"{target}.{method}", spec=True, new_callable=_SpectronMocker.mock)
            patch.start()
            patches.append(patch)


def _patches_httpx2(patch: Any) -> bool:
    return str(patch.getter().__module__).partition(".")[0] == "httpx2"


def _start_other_clients() -> None:
    """Intercept httpx2, requests and aiohttp now if the application imported them, else once
    it does."""
    when_imported("httpx2", _patch_httpx2)
    for library in _OTHER_CLIENTS:
        when_imported(library, _install_interceptor)


def _stop_other_clients() -> None:
    forget("httpx2", _patch_httpx2)
    for library in _OTHER_CLIENTS:
        forget(library, _install_interceptor)
    while _installed_interceptors:
        _installed_interceptors.pop().uninstall()


@contextmanager
def _first_on_client_level_routers() -> Iterator[None]:
    """Register the dispatch first on respx's ``httpx`` mocker while a test's router uses it.

    Its patch sits above this module's: without this, Spectron's requests would meet only the
    test's routes. Once the mock stops, respx's mocker stops too if no router is left on it.
    """
    if not HTTPXMocker.routers or _DISPATCH in HTTPXMocker.routers:
        yield
        return
    HTTPXMocker.routers.insert(0, _DISPATCH)
    try:
        yield
    finally:
        HTTPXMocker.unregister(_DISPATCH)
        HTTPXMocker.stop()
