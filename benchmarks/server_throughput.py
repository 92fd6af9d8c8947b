"""Loopback server throughput: requests/s and p50/p99 latency from concurrent keep-alive clients.

python benchmarks/server_throughput.py [--clients 8] [--requests 500]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import resource
import statistics
import time

import httpx

from pytest_spectron import SpectronMock


def run(clients: int, requests: int, faults: bool) -> tuple[float, float, float]:
    """(requests per second, p50 ms, p99 ms) for one configuration."""
    with SpectronMock() as mock:
        if faults:
            mock.fail("state", 503, rate=0.1, seed=1)
        server = mock.serve()
        url = f"{server.url}/api/v1/ctx/state"

        def client_run(_: int) -> list[float]:
            latencies = []
            with httpx.Client(headers={"authorization": "Bearer key"}) as http:
                for _ in range(requests):
                    started = time.perf_counter()
                    http.get(url)
                    latencies.append((time.perf_counter() - started) * 1000)
            return latencies

        started = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(max_workers=clients) as pool:
            latencies = [value for run in pool.map(client_run, range(clients)) for value in run]
        elapsed = time.perf_counter() - started
    quantiles = statistics.quantiles(latencies, n=100)
    return len(latencies) / elapsed, quantiles[49], quantiles[98]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=500, help="per client")
    arguments = parser.parse_args()
    print(f"\nLoopback server, {arguments.clients} keep-alive clients x {arguments.requests}")
    for faults in (False, True):
        rate, p50, p99 = run(arguments.clients, arguments.requests, faults)
        label = "10% faults" if faults else "no faults"
        print(f"  {label:<12} {rate:>9.0f} requests/s   p50 {p50:6.2f} ms   p99 {p99:6.2f} ms")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak RSS of the benchmark process: {peak:.1f} MiB")


if __name__ == "__main__":
    main()
