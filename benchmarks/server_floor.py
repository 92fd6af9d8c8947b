"""GET state from the loopback server beside minimal servers returning the same bytes.

Issue 27 asks GET state at small state to reach 5,000 req/s from 8 clients on a 2-core machine,
or a measured explanation of what bounds it beside a minimal server. This script captures the
whole answer (head and body) serve gives to GET state on an empty store, then runs the same
client pool as ``server_throughput.py`` (raw keep-alive sockets in their own processes) against
serve and three minimal servers answering every request with those bytes
(``_minimal_server.py``: ``http.server``, a raw socket per thread, an asyncio protocol), each
its own process, alternating round after round. It prints requests/s per contender and, per
round, serve's figure over each minimal server's (paired ratios).

``--profile N``: instead, serve's loopback server and fake run in this process with cProfile on
the connection's thread, while one client process sends N GET ``--path`` (``/state``) after
``--facts`` (0) triples were remembered as ``state_cost.py`` does; prints the functions with
the most cumulative and own time, and the profiled µs per request. ``SERVER_FLOOR_PROFILE=FILE``
also dumps the stats there (for ``pstats``).

    python benchmarks/server_floor.py [--rounds 5] [--requests 8000] [--quick]
    python benchmarks/server_floor.py --profile 20000 [--path /profile --facts 5000]
"""

from __future__ import annotations

import cProfile
import multiprocessing
import os
import pstats
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from _common import (
    BENCHMARKS,
    alternate,
    command_line,
    print_environment,
    print_table,
    print_target,
)
from server_throughput import RawClient, Server, serving, started

MINIMAL = ("stdlib", "threads", "asyncio")
"""The minimal servers of ``_minimal_server.py``."""
OURS = "serve (ours)"
TARGET = 5000
"""Issue 27's GET state requests/s from 8 clients at small state."""


def capture(url: str) -> bytes:
    """The whole answer, head and body, serve gives to one GET state."""
    client = RawClient(f"{url}/api/v1/bench")
    status = client.send("GET", "/state")
    assert status == 200, f"GET state answered {status}"
    client.socket.close()
    return client.head + client.body


@contextmanager
def minimal(kind: str, answer: Path) -> Iterator[Server]:
    """A ``_minimal_server.py`` process answering with ``answer``'s bytes."""
    with started(
        [sys.executable, str(BENCHMARKS / "_minimal_server.py"), kind, str(answer)]
    ) as server:
        yield server


def compare(rounds: int, requests: int, clients: tuple[int, ...], quick: bool) -> None:
    """Every server under the same GET state batches, alternating; tables and paired ratios."""
    print_environment(f"GET state: serve beside minimal servers, {rounds} rounds", quick=quick)
    with (
        tempfile.TemporaryDirectory() as directory,
        multiprocessing.get_context("spawn").Pool(max(clients)) as pool,
        serving(10_000) as ours,
    ):
        pool.map(time.sleep, [0.0] * max(clients))  # every worker up before any timing
        answer = capture(ours.url)
        path = Path(directory) / "answer"
        path.write_bytes(answer)
        head = answer.split(b"\r\n\r\n", 1)[0].decode()
        print(
            f"\nthe answer every server gives ({len(answer)} bytes):\n  "
            + "\n  ".join(head.splitlines())
        )
        with (
            minimal("stdlib", path) as stdlib,
            minimal("threads", path) as threads,
            minimal("asyncio", path) as asyncio_server,
        ):
            servers = {OURS: ours, "http.server": stdlib}
            servers |= {"raw socket per thread": threads, "asyncio protocol": asyncio_server}

            def contender(server: Server, count: int) -> Callable[[], float]:
                return lambda: server.batch(pool, "state", count, requests).rate

            for count in clients:
                rates = alternate(
                    {name: contender(server, count) for name, server in servers.items()},
                    rounds,
                )
                label = f"{count} client process{'es' if count > 1 else ''}"
                print_table(
                    f"GET state, {label}, {requests:,} requests a run",
                    rates,
                    "req/s",
                    baseline=OURS,
                    digits=0,
                )
                paired = {
                    f"serve over {name}": [
                        mine / theirs for mine, theirs in zip(rates[OURS], figures, strict=True)
                    ]
                    for name, figures in rates.items()
                    if name != OURS
                }
                print_table(f"{label}: serve's req/s over each, paired by round", paired, "x")
    ours_rate = statistics.median(rates[OURS])
    floor = statistics.median(paired["serve over http.server"])
    print("\nTargets")
    print_target(
        f"GET state, {max(clients)} client processes",
        f"{ours_rate:.0f} req/s",
        f">= {TARGET} req/s",
        ours_rate >= TARGET,
    )
    print_target("the same over http.server's, paired", f"{floor:.2f}x")


def profile(requests: int, path: str, facts: int) -> None:
    """Serve in this process, cProfile on the client's connection thread, one client process.

    :param requests: how many GET ``path`` the client sends.
    :param path: what it reads, under the context (``/state``, ``/profile``).
    :param facts: triples remembered first (``state_cost.fill``), on a connection not profiled.
    """
    from state_cost import fill

    from pytest_spectron.testing._wiring import wire_service
    from pytest_spectron.testing.transports.loopback import LoopbackServer, _listener

    profiler = cProfile.Profile()
    original = _listener.LoopbackServer._serve_connection
    armed = threading.Event()

    def profiled(
        self: LoopbackServer, connection: socket.socket, wake: socket.socket, bound_host: str
    ) -> None:
        if not armed.is_set():
            return original(self, connection, wake, bound_host)
        profiler.enable()
        try:
            original(self, connection, wake, bound_host)
        finally:
            profiler.disable()

    _listener.LoopbackServer._serve_connection = profiled  # type: ignore[method-assign]
    wired = wire_service()
    with (
        LoopbackServer(wired.service) as server,
        multiprocessing.get_context("spawn").Pool(1) as pool,
    ):
        filler = RawClient(f"{server.url}/api/v1/bench")
        fill(filler, facts)
        filler.socket.close()
        armed.set()
        started = time.perf_counter()
        Server(None, server.url).batch(pool, path, 1, requests)  # type: ignore[arg-type]
        seconds = time.perf_counter() - started
    stats = pstats.Stats(profiler)
    if dump := os.environ.get("SERVER_FLOOR_PROFILE"):
        stats.dump_stats(dump)
    total = stats.total_tt  # type: ignore[attr-defined]
    print(
        f"GET {path} x {requests:,} at {facts:,} facts, one client: {requests / seconds:,.0f} "
        f"req/s under the profiler; the connection thread's profiled time "
        f"{total / requests * 1e6:.1f} µs per request (the wait for the next request included)"
    )
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(30)


def main() -> None:
    parser = command_line(__doc__, "40 requests a run, 1 and 2 clients, 1 round")
    parser.add_argument("--requests", type=int, default=8000, help="a run's (default: %(default)s)")
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="profile serve answering N GET"
    )
    parser.add_argument("--path", default="/state", help="what --profile reads (%(default)s)")
    parser.add_argument(
        "--facts", type=int, default=0, help="remembered before --profile (%(default)s)"
    )
    arguments = parser.parse_args()
    if arguments.profile:
        profile(arguments.profile, arguments.path, arguments.facts)
    elif arguments.quick:
        compare(1, 40, (1, 2), quick=True)
    else:
        compare(arguments.rounds, arguments.requests, (1, 8), quick=False)


if __name__ == "__main__":
    main()
