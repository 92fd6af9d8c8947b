"""Client call overhead: our typed client vs raw httpx + json.loads, on one in-memory transport.

python benchmarks/client_overhead.py [--calls 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import time

import httpx
from _common import alternate, report

from pytest_spectron import FakeSpectron, Spectron
from pytest_spectron.testing import SpectronService, service_handler

ENDPOINT = "http://spectron.test"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    arguments = parser.parse_args()

    def transport() -> httpx.MockTransport:
        """A fresh fake per contender, so each does the same work against the same state."""
        return httpx.MockTransport(service_handler(SpectronService(FakeSpectron())))

    def ours() -> Spectron:
        return Spectron("ctx", ENDPOINT, "key", transport=transport())

    def raw() -> httpx.Client:
        return httpx.Client(transport=transport(), headers={"authorization": "Bearer key"})

    state_client, state_raw, remember_client, remember_raw = ours(), raw(), ours(), raw()
    state_url = f"{ENDPOINT}/api/v1/ctx/state"
    facts_url = f"{ENDPOINT}/api/v1/ctx/facts"

    def timed(call: object) -> float:
        started = time.perf_counter()
        for _ in range(arguments.calls):
            call()  # type: ignore[operator]
        return (time.perf_counter() - started) / arguments.calls * 1e6

    counter = iter(range(10**9))
    contenders = {
        "state: pytest-spectron client": lambda: timed(state_client.state),
        "state: raw httpx + json.loads": lambda: timed(
            lambda: json.loads(state_raw.get(state_url).content)
        ),
        "remember: pytest-spectron client": lambda: timed(
            lambda: remember_client.remember(f"fact {next(counter)}")
        ),
        "remember: raw httpx + json.loads": lambda: timed(
            lambda: json.loads(
                remember_raw.post(
                    facts_url,
                    json={"text": f"fact {next(counter)}"},
                    headers={"idempotency-key": f"k{next(counter)}"},
                ).content
            )
        ),
    }
    results = alternate(contenders, arguments.rounds)
    report("state (µs per call)", {k: v for k, v in results.items() if k.startswith("state")},
           "µs", "state: raw httpx + json.loads")  # fmt: skip
    report("remember (µs per call)", {k: v for k, v in results.items() if k.startswith("rem")},
           "µs", "remember: raw httpx + json.loads")  # fmt: skip


if __name__ == "__main__":
    main()
