"""Where ``SpectronMock`` meets httpx: one patch of the clients, answering from a registry.

The patch sits where respx's own ``httpx`` mocker patches: ``Client._transport_for_url`` (and
``AsyncClient``'s), above every transport, so a transport mock (pytest-httpx) never sees
Spectron's requests. The patched method looks the request's URL up in a registry of the mocks
answering now: the newest one whose endpoint has the URL's scheme, host and port (any port,
for an endpoint without one) answers it; every other request gets the client's own transport
(respx's default mocker, pytest-httpx, the network, a mock's own loopback server), untouched.

Patching is paid once, not per mock: the patch stays while anything holds it (``intercepting``).
The pytest plugin holds it for the whole run, so starting a mock for a test is a push onto the
registry and stopping it a pop; a mock used on its own (a ``with`` block in a script) holds it
while it runs, and the patch is gone once nothing holds it.

Patches of the same method by others (respx's ``httpx`` mocker) nest with this one: whichever
came last answers first. A mock started while another's patch covers this one patches again,
above it, for as long as it runs. Where httpx2 (Pydantic's fork of httpx) is installed, its
clients are patched too, through ``_intercept_httpx2``: respx does not patch httpx2.
"""

from __future__ import annotations

import importlib
import importlib.util
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

__all__ = ["Answer", "Origin", "answer_for", "answering", "intercepting"]

Answer = Callable[[httpx.Request], httpx.Response]
"""A mock's answer to one request to its endpoint (or the exception the request raises)."""

_METHOD = "_transport_for_url"
_HTTPX_CLIENTS = ("httpx._client.Client", "httpx._client.AsyncClient")
# Patching httpx2 imports it; where it is not installed, nothing is looked up beyond this.
_HTTPX2_CLIENTS = (
    ("httpx2._client.Client", "httpx2._client.AsyncClient")
    if importlib.util.find_spec("httpx2") is not None
    else ()
)


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
    transport: httpx.MockTransport


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
def answering(origin: Origin, answer: Answer) -> Iterator[None]:
    """Answer every httpx (and httpx2) request to ``origin`` with ``answer`` while the block runs.

    Nested or side by side, the newest on an origin answers; the others keep theirs.
    """
    global _registry
    entry = _Entry(origin, answer, httpx.MockTransport(answer))
    with intercepting():
        with _lock:
            _registry = (*_registry, entry)
        try:
            yield
        finally:
            with _lock:
                _registry = tuple(other for other in _registry if other is not entry)


# -- The patch -----------------------------------------------------------------------------------


@dataclass(eq=False)
class _Patch:
    """One client class's ``_transport_for_url``, replaced by one that consults the registry."""

    owner: type
    original: Callable[..., Any]
    replacement: Callable[..., Any]

    def on_top(self) -> bool:
        """Whether the class still has this patch's method, not another patch's above it."""
        return self.owner.__dict__.get(_METHOD) is self.replacement

    def stop(self) -> None:
        # With another patch above this one, restoring would throw that one away. It restores
        # this patch's method when it stops; with nothing registered, that hands every request
        # to the method below, as if unpatched.
        if self.on_top():
            setattr(self.owner, _METHOD, self.original)


@dataclass(eq=False)
class _Layer:
    """The patches of every client class, applied together, and how many hold them."""

    patches: list[_Patch] = field(default_factory=list)
    holders: int = 0

    @classmethod
    def start(cls) -> _Layer:
        layer = cls()
        for target in (*_HTTPX_CLIENTS, *_HTTPX2_CLIENTS):
            module, _, name = target.rpartition(".")
            owner = getattr(importlib.import_module(module), name)
            original = owner.__dict__[_METHOD]
            patch = _Patch(owner, original, _patched(target, original))
            setattr(owner, _METHOD, patch.replacement)
            layer.patches.append(patch)
        return layer

    def on_top(self) -> bool:
        return all(patch.on_top() for patch in self.patches)

    def stop(self) -> None:
        for patch in reversed(self.patches):
            patch.stop()


_layers: list[_Layer] = []


@contextmanager
def intercepting() -> Iterator[None]:
    """Keep httpx's (and httpx2's) clients patched while the block runs.

    The first holder patches them, the last one to leave unpatches them. When another patch of
    the same method has come on top since (respx's ``httpx`` mocker), this holder patches again,
    above it, so the registry still answers first.
    """
    with _lock:
        if _layers and _layers[-1].on_top():
            layer = _layers[-1]
        else:
            layer = _Layer.start()
            _layers.append(layer)
        layer.holders += 1
    try:
        yield
    finally:
        with _lock:
            layer.holders -= 1
            if not layer.holders:
                layer.stop()
                _layers.remove(layer)


def _patched(target: str, original: Callable[..., Any]) -> Callable[..., Any]:
    if target.startswith("httpx2."):
        from pytest_spectron.testing._intercept_httpx2 import patched_transport_for_url

        return patched_transport_for_url(answer_for, original)

    def _transport_for_url(client: httpx.Client | httpx.AsyncClient, url: httpx.URL) -> Any:
        entry = _entry_for(url)
        return original(client, url) if entry is None else entry.transport

    return _transport_for_url
