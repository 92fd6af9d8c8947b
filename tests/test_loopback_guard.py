"""The suite's own guard: nothing may leave the machine while the tests run."""

from __future__ import annotations

import socket

import pytest


def test_connections_beyond_loopback_fail() -> None:
    """A connection to a routable address is refused before any packet is sent."""
    with socket.socket() as sock, pytest.raises(AssertionError, match="loopback only"):
        sock.connect(("192.0.2.1", 80))


def test_loopback_connections_are_allowed() -> None:
    """Loopback stays reachable: the fake's server lives there."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.socket() as client:
            client.connect(server.getsockname())
