"""pytest-spectron: test how your app behaves when Spectron fails, with no server and no waiting.

``pytest_spectron.client`` is the typed client (it imports only httpx and pydantic, for use in
production code); ``pytest_spectron.testing`` is the fake, its faults, journal and virtual clock;
``pytest_spectron.plugin`` is the pytest plugin. The names below are the ones most tests need.
"""

from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
    from pytest_spectron.testing import (
        PASS,
        STATUS_MATRIX,
        Attempt,
        FakeSpectron,
        Latency,
        Malformed,
        MatrixCase,
        Network,
        SpectronMock,
        Status,
        StreamCut,
        UnroutableRequest,
        VirtualClock,
        status_matrix,
    )

__version__ = "0.1.0"

__all__ = [
    "BACKOFF",
    "CATALOGUE",
    "PASS",
    "RETRY_CLASSES",
    "STATUS_MATRIX",
    "AsyncChatStream",
    "AsyncSpectron",
    "Attempt",
    "ChatChunk",
    "ChatStream",
    "FakeSpectron",
    "Latency",
    "Malformed",
    "MatrixCase",
    "Network",
    "Operation",
    "RetryClass",
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
    # The testing names load on first use, so importing the client (in production code) never
    # loads respx or the fake: an exported name not defined yet is one of them.
    if name in __all__:
        from pytest_spectron import testing

        return getattr(testing, name)
    raise AttributeError(f"module 'pytest_spectron' has no attribute {name!r}")
