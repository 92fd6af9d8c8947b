"""Client call overhead: the typed client vs raw httpx + ``json.loads``, on one canned transport.

Both send through an ``httpx.MockTransport`` that answers every call with the same canned bytes
(recorded once from the fake: the state of a context holding a few facts, a remember's answer,
a recall with hits), so the transport costs the same for both and the difference is the
client's own work: building the request, the idempotency key, checking the status, decoding
into the response models. Raw httpx sends the same JSON bodies (checked before timing) and
``json.loads`` the answer.

    python benchmarks/client_overhead.py [--calls 2000] [--rounds 5] [--quick]
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from itertools import count

import httpx
from _common import alternate, command_line, print_environment, print_table, print_target

from pytest_spectron import FakeSpectron, Spectron
from pytest_spectron.testing import SpectronService, service_handler

ENDPOINT = "http://spectron.test"
KEY = "key"
STATE_URL = f"{ENDPOINT}/api/v1/ctx/state"
FACTS_URL = f"{ENDPOINT}/api/v1/ctx/facts"
QUERY_URL = f"{ENDPOINT}/api/v1/ctx/query"
TARGET = 1.2
Canned = dict[tuple[str, str], httpx.Response]


def record_answers() -> Canned:
    """The fake's answers to a state, a remember and a recall, with a few facts stored."""
    service = SpectronService(FakeSpectron())
    with httpx.Client(transport=httpx.MockTransport(service_handler(service))) as fake:
        headers = {"authorization": f"Bearer {KEY}"}
        for number in range(5):
            fake.post(
                FACTS_URL, json={"text": f"Ada drinks coffee number {number}"}, headers=headers
            )
        answers = {
            ("GET", STATE_URL): fake.get(STATE_URL, headers=headers),
            ("POST", FACTS_URL): fake.post(
                FACTS_URL, json={"text": "Ada likes tea"}, headers=headers
            ),
            ("POST", QUERY_URL): fake.post(QUERY_URL, json={"query": "coffee"}, headers=headers),
        }
    for answer in answers.values():
        answer.raise_for_status()
    return answers


def canned_transport(answers: Canned, sent: list[httpx.Request]) -> httpx.MockTransport:
    """Answer every request with its recorded answer's bytes; keep the last request sent."""

    def handle(request: httpx.Request) -> httpx.Response:
        sent[:] = [request]
        answer = answers[request.method, str(request.url)]
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)

    return httpx.MockTransport(handle)


def contenders(answers: Canned) -> dict[str, dict[str, Callable[[], object]]]:
    """Operation → contender → one call; raw httpx sends what the client sends."""
    sent: list[httpx.Request] = []
    ours = Spectron("ctx", ENDPOINT, KEY, transport=canned_transport(answers, sent))
    raw = httpx.Client(
        transport=canned_transport(answers, sent), headers={"authorization": f"Bearer {KEY}"}
    )
    numbers = count()

    def raw_remember() -> object:
        number = next(numbers)
        body = {"text": f"fact {number}"}
        headers = {"idempotency-key": f"key-{number}"}
        return json.loads(raw.post(FACTS_URL, json=body, headers=headers).content)

    calls: dict[str, dict[str, Callable[[], object]]] = {
        "state": {
            "pytest-spectron client": ours.state,
            "raw httpx + json.loads": lambda: json.loads(raw.get(STATE_URL).content),
        },
        "remember": {
            "pytest-spectron client": lambda: ours.remember(f"fact {next(numbers)}"),
            "raw httpx + json.loads": raw_remember,
        },
        "recall": {
            "pytest-spectron client": lambda: ours.recall("coffee"),
            "raw httpx + json.loads": lambda: json.loads(
                raw.post(QUERY_URL, json={"query": "coffee"}).content
            ),
        },
    }
    for operation, pair in calls.items():
        bodies = []
        for call in pair.values():
            call()
            bodies.append(json.loads(sent[0].content or b"null"))
        # Like with like: the raw call sends the very body the client sends (texts aside).
        if [_without_text(body) for body in bodies] != [_without_text(bodies[0])] * 2:
            raise SystemExit(
                f"{operation}: the client and raw httpx send different bodies: {bodies}"
            )
    return calls


def _without_text(body: object) -> object:
    return {k: v for k, v in body.items() if k != "text"} if isinstance(body, dict) else body


def timed(call: Callable[[], object], calls: int) -> Callable[[], float]:
    """A contender: microseconds per call over ``calls`` calls."""

    def run() -> float:
        started = time.perf_counter()
        for _ in range(calls):
            call()
        return (time.perf_counter() - started) / calls * 1e6

    return run


def main() -> None:
    parser = command_line(__doc__, "20 calls, 1 round")
    parser.add_argument("--calls", type=int, default=2000, help="per round (default: %(default)s)")
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.rounds, arguments.calls = 1, 20
    print_environment(
        f"Client call overhead, {arguments.calls} calls x {arguments.rounds} rounds",
        quick=arguments.quick,
    )
    ratios = {}
    for operation, pair in contenders(record_answers()).items():
        results = alternate(
            {name: timed(call, arguments.calls) for name, call in pair.items()}, arguments.rounds
        )
        print_table(
            f"{operation}: time per call", results, "µs", "raw httpx + json.loads", digits=1
        )
        ours, raw = (statistics.median(values) for values in results.values())
        ratios[operation] = ours / raw
    print("\nTargets")
    for operation, ratio in ratios.items():
        print_target(
            f"{operation}: client call vs raw httpx on a canned MockTransport",
            f"{ratio:.2f}x",
            f"<= {TARGET}x",
            ratio <= TARGET,
        )


if __name__ == "__main__":
    main()
