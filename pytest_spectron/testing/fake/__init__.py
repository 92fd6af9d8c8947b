"""The stateful in-memory fake of Spectron: ``FakeSpectron`` and the records it keeps."""

from pytest_spectron.testing.fake._auth import ALL_GRANTS, OPERATION_GRANTS, PRINCIPAL_ID
from pytest_spectron.testing.fake._reading import CONTEXT_ID_PATTERN
from pytest_spectron.testing.fake._spectron import FakeSpectron
from pytest_spectron.testing.fake._store import (
    EPOCH,
    StoredDocument,
    StoredFact,
    StoredKey,
    StoredRelation,
    StoredSession,
    StoredTrace,
    StoredTurn,
)

__all__ = [
    "ALL_GRANTS",
    "CONTEXT_ID_PATTERN",
    "EPOCH",
    "OPERATION_GRANTS",
    "PRINCIPAL_ID",
    "FakeSpectron",
    "StoredDocument",
    "StoredFact",
    "StoredKey",
    "StoredRelation",
    "StoredSession",
    "StoredTrace",
    "StoredTurn",
]
