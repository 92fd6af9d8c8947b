"""Loopback server throughput: requests/s and p50/p99 latency from concurrent keep-alive clients.

The clients run in their own processes, so the figure is the server's, not the GIL's that a
client thread in the server's own process would share with it.

    python benchmarks/server_throughput.py [--clients 4] [--requests 1000]
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import statistics
import time

import httpx

from pytest_spectron import SpectronMock


def client_run(job: tuple[str, int]) -> list[float]:
    """One keep-alive client: ``requests`` calls, each one's latency in ms."""
    url, requests = job
    latencies = []
    with httpx.Client(headers={"authorization": "Bearer key"}) as http:
        for _ in range(requests):
            started = time.perf_counter()
            http.get(url)
            latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def run(clients: int, requests: int, faults: bool) -> tuple[float, float, float]:
    """(requests per second, p50 ms, p99 ms) for one configuration."""
    with SpectronMock() as mock:
        if faults:
            mock.fail("state", 503, rate=0.1, seed=1)
        server = mock.serve()
        url = f"{server.url}/api/v1/ctx/state"
        with multiprocessing.get_context("spawn").Pool(clients) as pool:
            pool.map(client_run, [(url, 5)] * clients)  # warm the workers up
            started = time.perf_counter()
            runs = pool.map(client_run, [(url, requests)] * clients)
            elapsed = time.perf_counter() - started
    latencies = [value for latencies in runs for value in latencies]
    quantiles = statistics.quantiles(latencies, n=100)
    return len(latencies) / elapsed, quantiles[49], quantiles[98]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--requests", type=int, default=1000, help="per client")
    arguments = parser.parse_args()
    print(f"\nLoopback server, {arguments.clients} keep-alive clients x {arguments.requests}")
    for faults in (False, True):
        rate, p50, p99 = run(arguments.clients, arguments.requests, faults)
        label = "10% faults" if faults else "no faults"
        print(f"  {label:<12} {rate:>9.0f} requests/s   p50 {p50:6.2f} ms   p99 {p99:6.2f} ms")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak RSS of the server process: {peak:.1f} MiB")


if __name__ == "__main__":
    main()
