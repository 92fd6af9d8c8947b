"""The typed Spectron client.

Imports only httpx and pydantic (never pytest or respx), so production code can use it as is.
"""

from pytest_spectron.client import models
from pytest_spectron.client._async._access import AsyncKeys, AsyncPrincipals, AsyncScopes
from pytest_spectron.client._async._client import AsyncSpectron
from pytest_spectron.client._async._documents import AsyncDocumentKeywords, AsyncDocuments
from pytest_spectron.client._async._resources import (
    AsyncEntities,
    AsyncLifecycle,
    AsyncSessions,
    AsyncTraces,
)
from pytest_spectron.client._async._stream import AsyncChatStream
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
from pytest_spectron.client._sync._access import Keys, Principals, Scopes
from pytest_spectron.client._sync._client import Spectron
from pytest_spectron.client._sync._documents import DocumentKeywords, Documents
from pytest_spectron.client._sync._resources import Entities, Lifecycle, Sessions, Traces
from pytest_spectron.client._sync._stream import ChatStream

__all__ = [
    "BACKOFF",
    "CATALOGUE",
    "DEFAULT_MAX_RETRIES",
    "NOT_GIVEN",
    "RETRY_CLASSES",
    "AsyncChatStream",
    "AsyncDocumentKeywords",
    "AsyncDocuments",
    "AsyncEntities",
    "AsyncKeys",
    "AsyncLifecycle",
    "AsyncPrincipals",
    "AsyncScopes",
    "AsyncSessions",
    "AsyncSpectron",
    "AsyncTraces",
    "ChatChunk",
    "ChatStream",
    "DocumentKeywords",
    "Documents",
    "Entities",
    "Keys",
    "Lifecycle",
    "Operation",
    "Principals",
    "RetryClass",
    "ScopeSelector",
    "Scopes",
    "Sessions",
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
    "Traces",
    "backoff",
    "models",
    "operation",
    "use_sleep",
]
