"""The testing side: the fake Spectron, its fault engine, attempt journal, virtual clock, the
ways to serve it (in-process through respx, over a loopback socket) and the status matrix.

The pytest plugin (``pytest_spectron.plugin``) is a thin layer over these; they work outside
pytest too, e.g. ``with SpectronMock() as mock: ...``.
"""

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
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
    from pytest_spectron.testing.service._waits import RealTimeWaitError
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
    "RealTimeWaitError",
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

_WHERE = {
    "Attempt": "pytest_spectron.testing.service._journal",
    "CaughtMockError": "pytest_spectron.testing._mock",
    "ClientWouldHang": "pytest_spectron.testing.service._service",
    "FakeSpectron": "pytest_spectron.testing.fake",
    "Fault": "pytest_spectron.testing.faults._fault",
    "FaultEngine": "pytest_spectron.testing.faults._engine",
    "FaultError": "pytest_spectron.testing.faults._outcomes",
    "Journal": "pytest_spectron.testing.service._journal",
    "Latency": "pytest_spectron.testing.faults._outcomes",
    "LoopbackServer": "pytest_spectron.testing.transports.loopback",
    "MATRIX_OUTCOMES": "pytest_spectron.testing.faults._matrix",
    "Malformed": "pytest_spectron.testing.faults._outcomes",
    "MatrixCase": "pytest_spectron.testing.faults._matrix",
    "Network": "pytest_spectron.testing.faults._outcomes",
    "Outcome": "pytest_spectron.testing.faults._outcomes",
    "PASS": "pytest_spectron.testing.faults._outcomes",
    "PlaintextUpstreamWarning": "pytest_spectron.testing.transports._upstream",
    "RealTimeWaitError": "pytest_spectron.testing.service._waits",
    "RefusedRequest": "pytest_spectron.testing.transports._registry",
    "RouteConflict": "pytest_spectron.testing._mock",
    "SPEC_GRAMMAR": "pytest_spectron.testing.faults._outcomes",
    "STATUS_MATRIX": "pytest_spectron.testing.faults._matrix",
    "ServiceRequest": "pytest_spectron.testing.http._exchange",
    "SpectronMock": "pytest_spectron.testing._mock",
    "SpectronService": "pytest_spectron.testing.service._service",
    "Status": "pytest_spectron.testing.faults._outcomes",
    "StreamCut": "pytest_spectron.testing.faults._outcomes",
    "UnroutableRequest": "pytest_spectron.testing.service._service",
    "VirtualClock": "pytest_spectron.testing.service._clock",
    "parse_fault_spec": "pytest_spectron.testing.faults._declare",
    "service_handler": "pytest_spectron.testing.transports._in_process",
    "status_matrix": "pytest_spectron.testing.faults._matrix",
}
"""Each name, and the module that defines it: imported on first use."""


def __getattr__(name: str) -> object:
    # Every name loads on first use: a test using the mock imports neither the loopback server,
    # the status matrix nor the upstream forwarding it does not need.
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'pytest_spectron.testing' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
