"""Client call overhead: the typed client vs raw httpx + ``json.loads``, on one canned transport.

Both send through an ``httpx.MockTransport`` that answers every call with the same canned bytes
(recorded once from the fake: the state of a context holding a few facts, a remember's answer,
a recall with hits), so the transport costs the same for both and the difference is the
client's own work: building the request, the idempotency key, checking the status, decoding
into the response models. Raw httpx sends the same JSON bodies (checked before timing) and
``json.loads`` the answer.

A third contender is what a test gets: the client ``spectron_mock.client()`` binds, answered
in-process by the plugin's interception and the fake (its journal, its fault engine, the fake's
own work), against the same raw httpx on canned bytes. Each operation has its own mock, seeded
with the facts the canned answers were recorded with.

    python benchmarks/client_overhead.py [--calls 2000] [--rounds 5] [--quick]
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable
from contextlib import ExitStack
from itertools import count

import httpx
from _common import alternate, command_line, print_environment, print_table, print_target, timed

from pytest_spectron import FakeSpectron, Spectron
from pytest_spectron.testing import SpectronMock, SpectronService, service_handler

ENDPOINT = "http://spectron.test"
MOCK_ENDPOINT = "http://in-process.spectron.test"
KEY = "key"
STATE_URL = f"{ENDPOINT}/api/v1/ctx/state"
FACTS_URL = f"{ENDPOINT}/api/v1/ctx/facts"
QUERY_URL = f"{ENDPOINT}/api/v1/ctx/query"
TARGET = 1.2
"""The client's own work over raw httpx's, both on canned bytes."""
IN_PROCESS_TARGET = 1.5
"""What a test's call costs, the fake's work counted, over raw httpx on canned bytes."""
RAW = "raw httpx + json.loads"
IN_PROCESS = "pytest-spectron in-process (bound client, interception, fake)"
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
            RAW: lambda: json.loads(raw.get(STATE_URL).content),
        },
        "remember": {
            "pytest-spectron client": lambda: ours.remember(f"fact {next(numbers)}"),
            RAW: raw_remember,
        },
        "recall": {
            "pytest-spectron client": lambda: ours.recall("coffee"),
            RAW: lambda: json.loads(raw.post(QUERY_URL, json={"query": "coffee"}).content),
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


def in_process(stack: ExitStack) -> dict[str, Callable[[], object]]:
    """Operation → one call of the client a test gets, answered by a fresh mock's fake."""
    numbers = count(1_000_000)

    def bound() -> Spectron:
        # On an origin of its own: the canned transports' requests to ENDPOINT are left to them.
        mock = stack.enter_context(SpectronMock(endpoint=MOCK_ENDPOINT, context="ctx", api_key=KEY))
        client = stack.enter_context(mock.client())
        for number in range(5):
            client.remember(f"Ada drinks coffee number {number}")
        return client

    state, remember, recall = bound(), bound(), bound()
    return {
        "state": state.state,
        "remember": lambda: remember.remember(f"fact {next(numbers)}"),
        "recall": lambda: recall.recall("coffee"),
    }


def _without_text(body: object) -> object:
    return {k: v for k, v in body.items() if k != "text"} if isinstance(body, dict) else body


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
    ratios: dict[str, dict[str, float]] = {}
    with ExitStack() as stack:
        tested = in_process(stack)
        for operation, pair in contenders(record_answers()).items():
            calls = {**pair, IN_PROCESS: tested[operation]}
            results = alternate(
                {name: timed(call, arguments.calls) for name, call in calls.items()},
                arguments.rounds,
            )
            print_table(f"{operation}: time per call", results, "µs", RAW, digits=1)
            medians = {name: statistics.median(values) for name, values in results.items()}
            ratios[operation] = {name: value / medians[RAW] for name, value in medians.items()}
    print("\nTargets")
    for operation, ratio in ratios.items():
        mine = ratio["pytest-spectron client"]
        print_target(
            f"{operation}: client call vs raw httpx on a canned MockTransport",
            f"{mine:.2f}x",
            f"<= {TARGET}x",
            mine <= TARGET,
        )
        whole = ratio[IN_PROCESS]
        print_target(
            f"{operation}: in-process, the fake's work counted, vs the same",
            f"{whole:.2f}x",
            f"<= {IN_PROCESS_TARGET}x",
            whole <= IN_PROCESS_TARGET,
        )


if __name__ == "__main__":
    main()
