"""The one place a Spectron stand-in is put together: backend, faults, clock, journal, service.

``SpectronMock`` and ``python -m pytest_spectron serve`` both build theirs here. The backend is
the fake, answering on the virtual clock's time, or in live mode an ``UpstreamBackend`` that
forwards to a real Spectron; either way one fault engine, clock and journal stand in front of it,
in one ``SpectronService``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pytest_spectron._shared._defaults import DEFAULT_UPSTREAM_TIMEOUT
from pytest_spectron.testing.fake import FakeSpectron
from pytest_spectron.testing.fake._context import RECORD_LIMIT
from pytest_spectron.testing.faults._engine import FaultEngine
from pytest_spectron.testing.faults._fault import Fault
from pytest_spectron.testing.http._problems import DEFAULT_ERROR_FORMAT, ErrorFormat
from pytest_spectron.testing.service._clock import VirtualClock
from pytest_spectron.testing.service._journal import JOURNAL_LIMIT, Journal
from pytest_spectron.testing.service._service import FakeBackend, OnUnroutable, SpectronService

if TYPE_CHECKING:
    from pytest_spectron.testing.transports._upstream import UpstreamBackend

__all__ = ["WiredService", "wire_service"]


@dataclass(frozen=True)
class WiredService:
    """A service and the backend behind it, by kind: the fake, or live mode's upstream."""

    service: SpectronService
    fake: FakeSpectron | None
    """The fake answering, or None in live mode."""
    upstream: UpstreamBackend | None
    """Live mode's forwarding backend, or None when the fake answers."""

    def close(self) -> None:
        """Close the pooled connections to the upstream, if any (the fake holds none)."""
        if self.upstream is not None:
            self.upstream.close()


def wire_service(
    *,
    clock: VirtualClock | None = None,
    error_format: ErrorFormat = DEFAULT_ERROR_FORMAT,
    faults: Iterable[Fault] = (),
    journal_limit: int | None = JOURNAL_LIMIT,
    record_limit: int | None = RECORD_LIMIT,
    on_unroutable: OnUnroutable = "answer",
    upstream: str | None = None,
    upstream_timeout: float = DEFAULT_UPSTREAM_TIMEOUT,
    upstream_insecure: bool = False,
) -> WiredService:
    """The fake (or, given ``upstream``, a forwarder to it) behind new faults and journal.

    :param clock: the virtual clock the fake tells time by and latency advances; a new one if
        None.
    :param error_format: how the errors answered look (``"json"``, ``"problem"``, ``"legacy"``).
    :param faults: faults active from the start.
    :param journal_limit: attempts the journal keeps, the oldest dropped first; None for all.
    :param record_limit: traces, audit rows and idempotent replays the fake keeps per context,
        each, the oldest dropped first; None for all.
    :param on_unroutable: ``"raise"`` makes a request no operation answers raise
        ``UnroutableRequest``; ``"answer"`` answers it (or forwards it, in live mode).
    :param upstream: live mode: the Spectron to forward to instead of the fake.
    :param upstream_timeout: seconds to wait for the upstream to connect, and for each read.
    :param upstream_insecure: accept any certificate from an https upstream (dangerous).
    :raises ValueError: for an upstream that is no http(s) URL, a timeout that is not above 0,
        a record limit below 1, or an unknown error format.
    :return: the service, and its fake or upstream.
    """
    clock = VirtualClock() if clock is None else clock
    fake: FakeSpectron | None = None
    forwarder: UpstreamBackend | None = None
    backend: FakeBackend
    if upstream is None:
        backend = fake = FakeSpectron(
            clock=lambda: clock.now, error_format=error_format, record_limit=record_limit
        )
    else:  # live mode's forwarding (httpcore) loads only for live mode
        from pytest_spectron.testing.transports._upstream import UpstreamBackend

        backend = forwarder = UpstreamBackend(
            upstream,
            timeout=upstream_timeout,
            verify=not upstream_insecure,
            error_format=error_format,
        )
    engine = FaultEngine()
    for fault in faults:
        engine.add_fault(fault)
    service = SpectronService(
        backend,
        faults=engine,
        journal=Journal(limit=journal_limit),
        clock=clock,
        on_unroutable=on_unroutable,
    )
    return WiredService(service, fake, forwarder)
