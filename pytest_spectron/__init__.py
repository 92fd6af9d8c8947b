"""pytest-spectron: test how your app behaves when Spectron fails, with no server and no waiting.

``pytest_spectron.client`` is the typed client (it imports only httpx and pydantic, for use in
production code); ``pytest_spectron.testing`` is the fake, its faults, journal and virtual clock;
``pytest_spectron.plugin`` is the pytest plugin. The names below are the ones most tests need.
"""

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pytest_spectron.client import (
        BACKOFF,
        CATALOGUE,
        RETRY_CLASSES,
        AsyncChatStream,
        AsyncSpectron,
        ChatChunk,
        ChatStream,
        Operation,
        RetryClass,
        Spectron,
        SpectronAPIError,
        SpectronAuthError,
        SpectronConflictError,
        SpectronConnectionError,
        SpectronDecodeError,
        SpectronError,
        SpectronNotFoundError,
        SpectronRateLimitError,
        SpectronScopeError,
        SpectronServerError,
        SpectronStreamError,
        SpectronTimeoutError,
        SpectronValidationError,
        use_sleep,
    )
    from pytest_spectron.testing import (
        PASS,
        STATUS_MATRIX,
        Attempt,
        CaughtMockError,
        ClientWouldHang,
        FakeSpectron,
        Latency,
        Malformed,
        MatrixCase,
        Network,
        PlaintextUpstreamWarning,
        RefusedRequest,
        RouteConflict,
        ServiceRequest,
        SpectronMock,
        Status,
        StreamCut,
        UnroutableRequest,
        VirtualClock,
        status_matrix,
    )

from pytest_spectron._shared._version import __version__

__all__ = [
    "BACKOFF",
    "CATALOGUE",
    "PASS",
    "RETRY_CLASSES",
    "STATUS_MATRIX",
    "AsyncChatStream",
    "AsyncSpectron",
    "Attempt",
    "CaughtMockError",
    "ChatChunk",
    "ChatStream",
    "ClientWouldHang",
    "FakeSpectron",
    "Latency",
    "Malformed",
    "MatrixCase",
    "Network",
    "Operation",
    "PlaintextUpstreamWarning",
    "RefusedRequest",
    "RetryClass",
    "RouteConflict",
    "ServiceRequest",
    "Spectron",
    "SpectronAPIError",
    "SpectronAuthError",
    "SpectronConflictError",
    "SpectronConnectionError",
    "SpectronDecodeError",
    "SpectronError",
    "SpectronMock",
    "SpectronNotFoundError",
    "SpectronRateLimitError",
    "SpectronScopeError",
    "SpectronServerError",
    "SpectronStreamError",
    "SpectronTimeoutError",
    "SpectronValidationError",
    "Status",
    "StreamCut",
    "UnroutableRequest",
    "VirtualClock",
    "__version__",
    "status_matrix",
    "use_sleep",
]


def __getattr__(name: str) -> object:
    # Every name loads on first use: the pytest plugin starts without paying for the client's
    # models, and production code importing the client never loads respx or the fake.
    if name in __all__:
        for module in ("pytest_spectron.client", "pytest_spectron.testing"):
            exported = import_module(module)
            if name in exported.__all__:
                value = getattr(exported, name)
                globals()[name] = value
                return value
    raise AttributeError(f"module 'pytest_spectron' has no attribute {name!r}")
