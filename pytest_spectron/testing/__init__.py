"""The testing side: the fake Spectron, its fault engine, attempt journal, virtual clock, the
ways to serve it (in-process through respx, over a loopback socket) and the status matrix.

The pytest plugin (``pytest_spectron.plugin``) is a thin layer over these; they work outside
pytest too, e.g. ``with SpectronMock() as mock: ...``.
"""

from pytest_spectron.testing._clock import VirtualClock
from pytest_spectron.testing._declare import parse_fault_spec
from pytest_spectron.testing._fake import FakeSpectron
from pytest_spectron.testing._faults import Fault, FaultEngine
from pytest_spectron.testing._journal import Attempt, Journal
from pytest_spectron.testing._matrix import (
    MATRIX_OUTCOMES,
    STATUS_MATRIX,
    MatrixCase,
    status_matrix,
)
from pytest_spectron.testing._mock import RouteConflict, SpectronMock
from pytest_spectron.testing._outcomes import (
    PASS,
    SPEC_GRAMMAR,
    FaultError,
    Latency,
    Malformed,
    Network,
    Outcome,
    Status,
    StreamCut,
)
from pytest_spectron.testing._server import LoopbackServer
from pytest_spectron.testing._service import SpectronService, UnroutableRequest
from pytest_spectron.testing._transport import service_handler

__all__ = [
    "MATRIX_OUTCOMES",
    "PASS",
    "SPEC_GRAMMAR",
    "STATUS_MATRIX",
    "Attempt",
    "FakeSpectron",
    "Fault",
    "FaultEngine",
    "FaultError",
    "Journal",
    "Latency",
    "LoopbackServer",
    "Malformed",
    "MatrixCase",
    "Network",
    "Outcome",
    "RouteConflict",
    "SpectronMock",
    "SpectronService",
    "Status",
    "StreamCut",
    "UnroutableRequest",
    "VirtualClock",
    "parse_fault_spec",
    "service_handler",
    "status_matrix",
]
