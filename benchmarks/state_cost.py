"""What the loopback server's whole-state reads cost, against encoding their answers.

GET state is "the full structured memory state" by design (and GET profile, every profile
entry): its answer grows with the store, so its cost cannot stay flat. What it can do is stay
close to the cost of the answer itself. For a store of N facts (triples: N / 5 people with five
attributes each), the server (``python -m pytest_spectron serve``, its own process, as
``server_throughput.py`` starts it) answers GET state and GET profile on one keep-alive raw
socket; beside each, ``json.dumps`` of the same answer (decoded from the bytes the server sent)
in this process. Both are timed per request (``time.perf_counter``), alternating round after
round; the ratio of medians is the server's multiple of its answer's encoding.

    python benchmarks/state_cost.py [--rounds 5] [--facts 100,5000] [--quick]
"""

from __future__ import annotations

import json
from functools import partial

from _common import alternate, command_line, print_environment, print_table, print_target, timed
from server_throughput import RawClient, serving

BATCH = 100
"""Triples per POST remember while the store is filled."""
TARGET = 5.0
"""The most a whole-state read may cost, in multiples of ``json.dumps`` of its answer."""


def fill(client: RawClient, facts: int) -> None:
    """Remember ``facts`` triples: people ``p0``, ``p1``… with attributes ``k0``…``k4``."""
    for start in range(0, facts, BATCH):
        triples = [
            {"entity": {"type": "person", "name": f"p{n // 5}"}, "key": f"k{n % 5}", "value": "v"}
            for n in range(start, min(start + BATCH, facts))
        ]
        status = client.send("POST", "/facts", {"triples": triples})
        assert status == 200, f"remember answered {status}"


def main() -> None:
    parser = command_line(__doc__, "stores of 20 and 200 facts, 2 rounds")
    parser.add_argument(
        "--facts", default="100,5000", help="store sizes, comma-separated (default: %(default)s)"
    )
    parser.add_argument("--repeat", type=int, default=5, help="requests per round (%(default)s)")
    arguments = parser.parse_args()
    sizes = [int(size) for size in arguments.facts.split(",")]
    rounds, repeat = arguments.rounds, arguments.repeat
    if arguments.quick:
        sizes, rounds, repeat = [20, 200], 2, 2
    print_environment(f"Whole-state reads, {rounds} rounds of {repeat} requests", quick=False)
    targets = []
    with serving(journal_limit=100) as server:
        client = RawClient(f"{server.url}/api/v1/bench")
        for facts in sizes:
            server.reset()
            fill(client, facts)
            for operation, path in (("state", "/state"), ("profile", "/profile")):

                def read(path: str = path) -> None:
                    status = client.send("GET", path)
                    assert status == 200, f"GET {path} answered {status}"

                read()
                answer = json.loads(client.body)
                results = alternate(
                    {
                        f"GET {operation}": timed(read, repeat, unit=1e3),
                        f"json.dumps of its answer ({len(client.body):,} bytes)": timed(
                            partial(json.dumps, answer), repeat, unit=1e3
                        ),
                    },
                    rounds,
                )
                names = list(results)
                print_table(f"{operation} at {facts:,} facts", results, "ms", baseline=names[1])
                medians = [sorted(values)[len(values) // 2] for values in results.values()]
                if facts == max(sizes):  # the target is set for a large store: no fixed costs
                    targets.append((operation, facts, medians[0] / medians[1]))
    print("\nTargets")
    for operation, facts, multiple in targets:
        print_target(
            f"GET {operation} at {facts:,} facts, vs json.dumps of its answer",
            f"{multiple:.1f}x",
            f"<= {TARGET:.0f}x",
            multiple <= TARGET,
        )


if __name__ == "__main__":
    main()
