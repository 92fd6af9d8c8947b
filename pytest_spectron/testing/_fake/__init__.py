"""The stateful in-memory fake of Spectron."""

from pytest_spectron.testing._fake._fake import (
    ALL_GRANTS,
    OPERATION_GRANTS,
    FakeSpectron,
    not_routed_response,
)
from pytest_spectron.testing._fake._state import (
    StoredDocument,
    StoredFact,
    StoredSession,
    StoredTurn,
)

__all__ = [
    "ALL_GRANTS",
    "OPERATION_GRANTS",
    "FakeSpectron",
    "StoredDocument",
    "StoredFact",
    "StoredSession",
    "StoredTurn",
    "not_routed_response",
]
