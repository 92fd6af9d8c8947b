"""The typed Spectron client.

Imports only httpx and pydantic (never pytest or respx), so production code can use it as is.
"""

from pytest_spectron.client import models
from pytest_spectron.client._async._client import AsyncChatStream, AsyncSpectron
from pytest_spectron.client._catalogue import (
    CATALOGUE,
    RETRY_CLASSES,
    Operation,
    RetryClass,
    operation,
)
from pytest_spectron.client._chat import ChatChunk
from pytest_spectron.client._exceptions import (
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
)
from pytest_spectron.client._options import NOT_GIVEN
from pytest_spectron.client._retry import BACKOFF, DEFAULT_MAX_RETRIES, backoff, use_sleep
from pytest_spectron.client._scopes import ScopeSelector
from pytest_spectron.client._sync._client import ChatStream, Spectron

__all__ = [
    "BACKOFF",
    "CATALOGUE",
    "DEFAULT_MAX_RETRIES",
    "NOT_GIVEN",
    "RETRY_CLASSES",
    "AsyncChatStream",
    "AsyncSpectron",
    "ChatChunk",
    "ChatStream",
    "Operation",
    "RetryClass",
    "ScopeSelector",
    "Spectron",
    "SpectronAPIError",
    "SpectronAuthError",
    "SpectronConflictError",
    "SpectronConnectionError",
    "SpectronDecodeError",
    "SpectronError",
    "SpectronNotFoundError",
    "SpectronRateLimitError",
    "SpectronScopeError",
    "SpectronServerError",
    "SpectronStreamError",
    "SpectronTimeoutError",
    "SpectronValidationError",
    "backoff",
    "models",
    "operation",
    "use_sleep",
]
