"""What a stand-in of Spectron uses when a test or the command line names nothing else."""

from __future__ import annotations

__all__ = [
    "API_KEY_ENVIRONMENT",
    "CLIENT_TIMEOUT",
    "DEFAULT_API_KEY",
    "DEFAULT_CONTEXT",
    "DEFAULT_ENDPOINT",
    "DEFAULT_REAL_WAIT",
    "DEFAULT_UPSTREAM_TIMEOUT",
]

DEFAULT_ENDPOINT = "http://spectron.test"
DEFAULT_CONTEXT = "test-context"
DEFAULT_API_KEY = "sk-spectron-test-key"
DEFAULT_UPSTREAM_TIMEOUT = 30.0
"""Seconds live mode waits for the upstream to connect, and for each read."""
API_KEY_ENVIRONMENT = "SPECTRON_API_KEY"
"""Where live mode finds the key for the upstream when no option gives one."""
DEFAULT_REAL_WAIT = 10.0
"""Real seconds an async test on virtual time may wait for a thread, a socket or a subprocess."""
CLIENT_TIMEOUT = 30.0
"""The read timeout a loopback server assumes its clients wait (the Spectron client's default)."""
