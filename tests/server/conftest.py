"""What the loopback server's tests share: the real fake and service, and a raw exchange."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import pytest

from pytest_spectron.testing.fake import FakeSpectron
from pytest_spectron.testing.service._clock import VirtualClock
from pytest_spectron.testing.service._service import SpectronService
from pytest_spectron.testing.transports.loopback import LoopbackServer

EXCHANGE_WAIT = 5.0
"""Seconds a raw exchange waits at most for each read: the server answers at once or fails."""

Exchange = Callable[[LoopbackServer, bytes], bytes]


@pytest.fixture
def clock() -> Iterator[VirtualClock]:
    """A virtual clock catching every client's retry waits."""
    clock = VirtualClock()
    with clock.install():
        yield clock


@pytest.fixture
def fake(clock: VirtualClock) -> FakeSpectron:
    """The real in-memory fake, on the test's clock."""
    return FakeSpectron(clock=lambda: clock.now)


@pytest.fixture
def service(fake: FakeSpectron, clock: VirtualClock) -> SpectronService:
    """The real service over the fake."""
    return SpectronService(fake, clock=clock)


def _exchange(server: LoopbackServer, raw: bytes) -> bytes:
    with socket.create_connection((server.host, server.port), timeout=EXCHANGE_WAIT) as connection:
        connection.sendall(raw)
        received = b""
        while chunk := connection.recv(65_536):
            received += chunk
    return received


@pytest.fixture
def exchange() -> Exchange:
    """``exchange(server, raw)``: send raw bytes on a fresh connection, read until it closes."""
    return _exchange
