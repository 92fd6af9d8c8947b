"""The testing side: the fake Spectron, its fault engine, attempt journal, virtual clock, the
ways to serve it (in-process through respx, over a loopback socket) and the status matrix.

The pytest plugin (``pytest_spectron.plugin``) is a thin layer over these; they work outside
pytest too, e.g. ``with SpectronMock() as mock: ...``.
"""

from pytest_spectron.testing._mock import CaughtMockError, RouteConflict, SpectronMock
from pytest_spectron.testing.fake import FakeSpectron
from pytest_spectron.testing.faults._declare import parse_fault_spec
from pytest_spectron.testing.faults._engine import FaultEngine
from pytest_spectron.testing.faults._fault import Fault
from pytest_spectron.testing.faults._matrix import (
    MATRIX_OUTCOMES,
    STATUS_MATRIX,
    MatrixCase,
    status_matrix,
)
from pytest_spectron.testing.faults._outcomes import (
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
from pytest_spectron.testing.http._exchange import ServiceRequest
from pytest_spectron.testing.service._clock import VirtualClock
from pytest_spectron.testing.service._journal import Attempt, Journal
from pytest_spectron.testing.service._service import (
    ClientWouldHang,
    SpectronService,
    UnroutableRequest,
)
from pytest_spectron.testing.transports._in_process import service_handler
from pytest_spectron.testing.transports._registry import RefusedRequest
from pytest_spectron.testing.transports._upstream import PlaintextUpstreamWarning
from pytest_spectron.testing.transports.loopback import LoopbackServer

__all__ = [
    "MATRIX_OUTCOMES",
    "PASS",
    "SPEC_GRAMMAR",
    "STATUS_MATRIX",
    "Attempt",
    "CaughtMockError",
    "ClientWouldHang",
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
    "PlaintextUpstreamWarning",
    "RefusedRequest",
    "RouteConflict",
    "ServiceRequest",
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
