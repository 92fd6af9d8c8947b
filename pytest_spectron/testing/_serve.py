"""``python -m pytest_spectron serve``, run: wire, listen, print the URL, wait for a signal, stop.

``_cli`` parses the command line and imports this module only to run the command.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pytest_spectron.testing._wiring import WiredService
    from pytest_spectron.testing.transports.loopback import LoopbackServer

__all__ = ["serve"]


def serve(arguments: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Serve as ``arguments`` say until SIGINT or SIGTERM; the exit status (usage errors exit).

    :param arguments: the parsed options of ``serve``.
    :param parser: the command line's parser, whose ``error`` and ``exit`` end a bad run.
    :raises SystemExit: 2 for options that do not go together, 1 if the port cannot be bound.
    :return: 0, once stopped.
    """
    from pytest_spectron.testing.transports.loopback import LoopbackServer

    wired = _wire(arguments, parser)
    try:
        server = LoopbackServer(
            wired.service,
            host=arguments.host,
            port=arguments.port,
            idle_timeout=arguments.idle_timeout,
            max_connections=arguments.max_connections,
            client_timeout=arguments.client_timeout,
            prefix=arguments.prefix,
        )
        with _stopped_by_signals() as stop:
            _start(server, wired, arguments, parser)
            try:
                _announce(server, wired, arguments)
                # POSIX interrupts the wait for a signal; Windows runs handlers only between waits.
                timeout = None if os.name == "posix" else 0.5
                while not stop.wait(timeout):
                    pass
            finally:
                server.stop()
    finally:
        wired.close()
    return 0


def _wire(arguments: argparse.Namespace, parser: argparse.ArgumentParser) -> WiredService:
    """The fake, or the forwarder to ``--upstream``, behind the ``--fault`` faults."""
    from pytest_spectron.testing._wiring import wire_service

    if arguments.upstream is not None and arguments.api_keys:
        parser.error("--api-key sets the fake's keys; with --upstream, the upstream checks keys")
    try:
        wired = wire_service(
            error_format=arguments.error_format,
            faults=arguments.faults,
            journal_limit=arguments.journal_limit,
            record_limit=arguments.record_limit,
            upstream=arguments.upstream,
            upstream_timeout=arguments.upstream_timeout,
            upstream_insecure=arguments.upstream_insecure,
        )
    except ValueError as error:  # the upstream is no URL
        parser.error(str(error))
    if wired.fake is not None and arguments.api_keys:
        wired.fake.set_api_keys(dict.fromkeys(arguments.api_keys))
    if wired.fake is not None:
        wired.fake.stream_format = arguments.stream_format
        wired.fake.processing_seconds = arguments.processing_seconds
    return wired


@contextlib.contextmanager
def _stopped_by_signals() -> Iterator[threading.Event]:
    """An event SIGINT (Ctrl-C) and SIGTERM set, while inside; their handlers restored after."""
    stop = threading.Event()

    def on_signal(number: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {
        number: signal.signal(number, on_signal) for number in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield stop
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _start(
    server: LoopbackServer,
    wired: WiredService,
    arguments: argparse.Namespace,
    parser: argparse.ArgumentParser,
) -> None:
    """Listen, or exit 1 naming the address; exit 2 if the upstream is this very server."""
    from pytest_spectron._shared._endpoint import redact_endpoint

    try:
        server.start()
    except OSError as error:
        where = f"{arguments.host}:{arguments.port}"
        parser.exit(1, f"{parser.prog} serve: error: cannot listen on {where}: {error}\n")
    if wired.upstream is not None and _is_itself(wired.upstream.url, server):
        server.stop()
        shown = redact_endpoint(wired.upstream.url)
        parser.error(f"--upstream {shown} is this very server: it would loop")


def _announce(server: LoopbackServer, wired: WiredService, arguments: argparse.Namespace) -> None:
    """The base URL on stdout's first line; on stderr, what serves and a request to try."""
    from pytest_spectron._shared._defaults import DEFAULT_API_KEY, DEFAULT_CONTEXT
    from pytest_spectron._shared._endpoint import redact_endpoint

    print(server.url, flush=True)
    upstream = wired.upstream
    what = "Spectron fake" if upstream is None else "proxy"
    behind = (
        "" if upstream is None else f" in front of the Spectron at {redact_endpoint(upstream.url)}"
    )
    context = arguments.context or DEFAULT_CONTEXT
    key = "<your key>" if arguments.api_keys or upstream else DEFAULT_API_KEY
    print(
        f"pytest-spectron: {what} at {server.url}{behind} "
        f"({len(arguments.faults)} fault(s)); try: curl -H 'Authorization: Bearer {key}' "
        f"{server.url}/api/v1/{context}/state  (Ctrl-C to stop)",
        file=sys.stderr,
        flush=True,
    )


def _is_itself(upstream: str, server: LoopbackServer) -> bool:
    """Whether ``upstream`` reaches ``server`` itself: a proxy forwarding to itself would loop."""
    import ipaddress
    from urllib.parse import urlsplit

    from pytest_spectron.testing.transports.loopback import is_loopback_host

    split = urlsplit(upstream)
    host = split.hostname or ""
    if (split.port or {"http": 80, "https": 443}[split.scheme]) != server.port:
        return False
    if host == server.host:
        return True
    listens_on_loopback = (
        is_loopback_host(server.host) or ipaddress.ip_address(server.host).is_unspecified
    )
    return is_loopback_host(host) and listens_on_loopback
