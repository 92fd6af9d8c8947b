"""Where ``SpectronMock`` meets httpx: a respx mocker at the client level, started once.

The mocker is respx's own ``httpx`` mocker under another name (``using="spectron"``): it patches
``Client._transport_for_url`` (and ``AsyncClient``'s), above every transport, so a transport mock
(pytest-httpx, respx's default httpcore mocker) never sees Spectron's requests. Its one router,
``_Dispatch``, answers from a registry of the mocks answering now: the newest one whose endpoint
has the request's scheme, host and port (any port, for an endpoint without one). Every other
request passes through to the client's own transport (respx routers below, pytest-httpx, the
network, a mock's own loopback server), untouched.

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
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any, ClassVar, Protocol
from unittest import mock

import httpx
import respx
from respx.mocks import HTTPXMocker
from respx.models import AllMockedAssertionError, PassThrough

from pytest_spectron._shared._imports import forget, when_imported

__all__ = ["Answer", "Origin", "answer_for", "answering", "intercepting"]

Answer = Callable[[httpx.Request], httpx.Response]
"""A mock's answer to one request to its endpoint (or the exception the request raises)."""

_HTTPX2_CLIENTS = ("httpx2._client.Client", "httpx2._client.AsyncClient")
"""httpx2's clients, patched once the application imports httpx2 (never imported here)."""


class _URL(Protocol):
    """What the registry reads of a URL; httpx's and httpx2's both have it."""

    @property
    def scheme(self) -> str: ...
    @property
    def host(self) -> str: ...
    @property
    def port(self) -> int | None: ...


@dataclass(frozen=True)
class Origin:
    """Where a mock answers: a scheme and host, and a port unless any port will do."""

    scheme: str
    host: str
    port: int | None

    @classmethod
    def of(cls, url: httpx.URL) -> Origin:
        """The origin of an endpoint URL; no port in the URL means any port."""
        return cls(url.scheme, url.host, url.port)

    def matches(self, url: _URL) -> bool:
        """Whether a request to ``url`` is one for this origin."""
        return (
            url.host == self.host
            and url.scheme == self.scheme
            and (self.port is None or url.port == self.port)
        )


@dataclass(frozen=True, eq=False)
class _Entry:
    origin: Origin
    answer: Answer
    blocking: bool = False


_lock = threading.Lock()
_registry: tuple[_Entry, ...] = ()
"""The mocks answering now, oldest first; replaced whole, so a lookup needs no lock."""


def answer_for(url: _URL) -> Answer | None:
    """The answer of the newest mock on ``url``'s origin, or None when no mock answers it."""
    entry = _entry_for(url)
    return None if entry is None else entry.answer


def _entry_for(url: _URL) -> _Entry | None:
    for entry in reversed(_registry):
        if entry.origin.matches(url):
            return entry
    return None


@contextmanager
def answering(origin: Origin, answer: Answer, *, blocking: bool = False) -> Iterator[None]:
    """Answer every httpx (and httpx2) request to ``origin`` with ``answer`` while the block runs.

    Nested or side by side, the newest on an origin answers; the others keep theirs.

    :param origin: where the requests go.
    :param answer: the answer to one request.
    :param blocking: ``answer`` waits on the network (live mode's forwarding): an async client's
        request then runs it in a worker thread, so the event loop goes on meanwhile.
    """
    global _registry
    entry = _Entry(origin, answer, blocking)
    with intercepting(), _first_on_client_level_routers():
        with _lock:
            _registry = (*_registry, entry)
        try:
            yield
        finally:
            with _lock:
                _registry = tuple(other for other in _registry if other is not entry)


# -- respx ------------------------------------------------------------------------------------


class _Dispatch(respx.MockRouter):
    """A respx router whose one rule is the registry: the newest mock on the origin answers."""

    def __init__(self) -> None:
        super().__init__(assert_all_called=False, using=_SpectronMocker.name)

    def handler(self, request: httpx.Request) -> httpx.Response:
        return self._entry(request).answer(request)

    async def async_handler(self, request: httpx.Request) -> httpx.Response:
        # The mocks' answers are synchronous, for async clients too; one that waits on the
        # network waits in a worker thread.
        entry = self._entry(request)
        if entry.blocking:
            import anyio.to_thread

            return await anyio.to_thread.run_sync(entry.answer, request)
        return entry.answer(request)

    @staticmethod
    def _entry(request: httpx.Request) -> _Entry:
        entry = _entry_for(request.url)
        if entry is None:  # respx goes on to the next router, or passes the request through
            raise AllMockedAssertionError(f"RESPX: {request!r} not mocked!")
        return entry


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

            method = patched_transport_for_url(answer_for, spec)
        else:
            method = super().mock(spec)  # type: ignore[no-untyped-call]
        cls.installed.append(method)
        return method

    @classmethod
    def on_top(cls) -> bool:
        """Whether every patched class still has this mocker's method, not another's above it."""
        return all(
            getattr(patch.getter(), patch.attribute) in cls.installed for patch in cls._patches
        )

    @classmethod
    def handler(cls, httpx_request: httpx.Request) -> Any:
        try:
            return super().handler(httpx_request)  # type: ignore[no-untyped-call]
        except AllMockedAssertionError:
            raise _pass_through(httpx_request) from None

    @classmethod
    async def async_handler(cls, httpx_request: httpx.Request) -> Any:
        try:
            return await super().async_handler(httpx_request)  # type: ignore[no-untyped-call]
        except AllMockedAssertionError:
            raise _pass_through(httpx_request) from None


def _pass_through(request: httpx.Request) -> PassThrough:
    return PassThrough("not a Spectron mock's endpoint", request=request, origin=None)  # type: ignore[arg-type]


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
