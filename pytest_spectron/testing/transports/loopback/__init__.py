"""The loopback server: the same service over a real socket, for clients that are not httpx.

HTTP/1.1 on plain sockets and threads, by concern:

- ``_listener``: ``LoopbackServer``, its lifecycle, the accepting thread and ``max_connections``;
- ``_connection``: one connection's exchange, request after request, and its problem answers;
- ``_http_reader``: reading and framing requests, strictly (and why not h11);
- ``_http_writer``: answers on the wire, and the network failures rendered as socket behaviour;
- ``_admin_guard``: the admin endpoints refuse what a web page may have sent.

Why not ``socketserver`` / ``http.server``: the faults need the raw socket (a TCP RST, a silent
held connection, a chunked stream dropped midway), and a clean ``stop()`` must wake and close
every open connection and join every thread at once. ``socketserver`` polls for shutdown every
``poll_interval`` and does not track its connections; ``http.server`` answers errors in HTML and
owns the framing these behaviours must control.
"""

from pytest_spectron.testing.transports.loopback._admin_guard import admin_refusal, is_loopback_host
from pytest_spectron.testing.transports.loopback._http_reader import MAX_BODY
from pytest_spectron.testing.transports.loopback._listener import (
    CLIENT_TIMEOUT,
    IDLE_TIMEOUT,
    MAX_CONNECTIONS,
    STOP_TIMEOUT,
    LoopbackServer,
    NonLoopbackBindWarning,
)

__all__ = [
    "CLIENT_TIMEOUT",
    "IDLE_TIMEOUT",
    "MAX_BODY",
    "MAX_CONNECTIONS",
    "STOP_TIMEOUT",
    "LoopbackServer",
    "NonLoopbackBindWarning",
    "admin_refusal",
    "is_loopback_host",
]
