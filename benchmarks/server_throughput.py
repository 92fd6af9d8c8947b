"""The loopback server (``python -m pytest_spectron serve``): throughput, latency and memory.

The server runs as its own process, exactly as a user starts it; the clients run in their own
processes (a pool spawned once), each on one keep-alive socket that writes whole requests and
reads each answer by its Content-Length. A client that light measures the server: on two cores,
eight ``httpx.Client`` processes (~150 us of CPU per request each) would measure themselves.
Every answer's status is checked.

- GET state, and a mixed workload (50% GET state, 30% remember with a unique idempotency key,
  20% recall) on a store that grows as it runs, with 1 and 8 client processes: requests/s
  and the latency the clients see (p50, p99). The server's state is reset before every run.
- POST remember from 8 clients while the store grows to 50,000 facts: requests/s per window
  of 5,000 facts, to show whether it stays flat.
- Memory of a long-running server: GET state from 8 clients in windows of 10,000 requests;
  the server's RSS after each. Once the journal is full (``--journal-limit``), what still grows
  is what has no cap; a second server with the journal uncapped (``--journal-limit 0``) shows
  what the cap saves.

- ``--soak``: instead of the above, two soaks of ``--soak-seconds`` (120) each from 8 clients
  on an empty store, alternating over the rounds. The mixed workload (``MIX``): its GET state
  answer grows with the store, and its recall asks for one of eight words that an eighth of
  the notes hold, so its matches grow too. The selective one (``SELECTIVE``): GET of the
  entity its client last remembered in place of GET state, a remember that also writes one
  triple (a new entity), and a recall for the one word only that client's last note holds.
  Per window of ``--soak-window`` (10) seconds: requests/s, the mean size of the reads'
  answers and the mean latency of each kind of request; then the second half's requests/s
  over the first's.

    python benchmarks/server_throughput.py [--rounds 5] [--quick]
    python benchmarks/server_throughput.py --soak [--soak-seconds 120] [--rounds 1] [--quick]
"""

from __future__ import annotations

import json
import multiprocessing
import random
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.pool import Pool

import httpx
from _common import alternate, command_line, print_environment, print_table, print_target, rss_bytes

MIX = {"state": 0.5, "remember": 0.3, "recall": 0.2}
"""The mixed workload: request kind → its share."""
SELECTIVE = {"entity": 0.5, "remember": 0.3, "recall": 0.2}
"""The soak's second workload: the mix with GET of one entity where ``MIX`` reads the state."""
SOAK_SHARE = 0.8
"""A soak's second minute must keep this share of its first minute's throughput."""
WORDS = ("coffee", "tea", "paris", "berlin", "piano", "chess", "python", "garden")
AUTHORIZATION = {"authorization": "Bearer sk-bench"}
READ_TARGET = 5000
REMEMBER_TARGET = 2000
FLAT = 0.9
"""A figure is flat when its last window reaches this share of its first."""
BOUNDED_BYTES = 16
"""Growth per request at which a server's memory counts as bounded: 16 MB per million."""
MiB = 1024 * 1024


@dataclass(frozen=True)
class Job:
    """One client process's share of a batch."""

    base: str
    workload: str
    requests: int
    worker: str
    since: float = 0.0
    """A soak's start (``time.monotonic``, the same clock in every process on Linux)."""
    until: float = 0.0
    """A soak's end: its clients send requests until then, whatever ``requests`` says."""


class RawClient:
    """One keep-alive HTTP/1.1 connection that sends whole requests and reads sized answers."""

    def __init__(self, base: str) -> None:
        url = httpx.URL(base)
        self.host = f"{url.host}:{url.port}"
        self.path = url.path.rstrip("/")
        self.socket = socket.create_connection((url.host, url.port or 80))
        self.reader = self.socket.makefile("rb")
        self.head = b""
        """The last answer's head: its status line and headers, up to the blank line."""
        self.body = b""
        """The last answer's body."""

    def send(self, method: str, path: str, body: object = None, key: str = "") -> int:
        """Send one request and read its answer whole; the answer's status."""
        content = b"" if body is None else json.dumps(body).encode()
        head = (
            f"{method} {self.path}{path} HTTP/1.1\r\nHost: {self.host}\r\n"
            f"Authorization: {AUTHORIZATION['authorization']}\r\n"
            + (f"Idempotency-Key: {key}\r\n" if key else "")
            + (
                f"Content-Type: application/json\r\nContent-Length: {len(content)}\r\n"
                if body is not None
                else ""
            )
            + "\r\n"
        )
        self.socket.sendall(head.encode() + content)
        lines = [self.reader.readline()]
        length = 0
        while (line := self.reader.readline()) not in (b"\r\n", b""):
            lines.append(line)
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        self.head = b"".join(lines) + b"\r\n"
        self.body = self.reader.read(length)
        return int(lines[0].split()[1])


_clients: dict[str, RawClient] = {}
"""Each worker's connection per server, kept across batches."""


def _connection(base: str) -> RawClient:
    """This worker's connection to the server at ``base``, opened on first use."""
    client = _clients.get(base)
    if client is None:
        client = _clients[base] = RawClient(base)
    return client


def client_run(job: Job) -> list[float]:
    """Send the job's requests on one keep-alive connection; each one's latency in ms."""
    client = _connection(job.base)
    latencies = []
    pick = random.Random(job.worker)
    kinds, weights = list(MIX), list(MIX.values())
    for number in range(job.requests):
        kind = job.workload if job.workload != "mixed" else pick.choices(kinds, weights)[0]
        word = pick.choice(WORDS)
        started = time.perf_counter()
        if kind == "state":
            status = client.send("GET", "/state")
        elif kind.startswith("/"):  # server_floor.py --profile's read
            status = client.send("GET", kind)
        elif kind == "remember":
            unique = f"{job.worker}-{number}"
            body = {"text": f"Ada likes {word}, note {unique}"}
            status = client.send("POST", "/facts", body, key=unique)
        else:
            status = client.send("POST", "/query", {"query": word})
        latencies.append((time.perf_counter() - started) * 1000)
        if status >= 400:
            raise RuntimeError(f"{kind}: the server answered {status}")
    return latencies


def client_soak(job: Job) -> list[tuple[float, int, str, float]]:
    """Send requests until ``job.until``: each one's end (seconds since ``job.since``), the
    size of its answer if it was a read (GET state, or GET of one entity) else -1, its kind and
    its latency in ms.

    ``mixed`` is ``MIX`` (its recall asks for one of ``WORDS``, which an eighth of the notes
    hold); ``selective`` is ``SELECTIVE``: its remember also writes one triple (a new entity per
    request), its read is GET of the entity this client last remembered, and its recall asks
    for the one word only that client's last note holds.
    """
    client = _connection(job.base)
    mix = MIX if job.workload == "mixed" else SELECTIVE
    kinds, weights = list(mix), list(mix.values())
    pick = random.Random(job.worker)
    done: list[tuple[float, int, str, float]] = []
    last = ""
    time.sleep(max(0.0, job.since - time.monotonic()))
    number = 0
    while time.monotonic() < job.until:
        kind = pick.choices(kinds, weights)[0]
        word = pick.choice(WORDS)
        if kind in ("entity", "recall") and job.workload == "selective" and not last:
            kind = "remember"
        size = -1
        started = time.monotonic()
        if kind == "state":
            status = client.send("GET", "/state")
            size = len(client.body)
        elif kind == "entity":
            status = client.send("GET", f"/entities/person/{last}")
            size = len(client.body)
        elif kind == "remember":
            number += 1
            unique = f"{job.worker}-{number}"
            tag = "n" + unique.replace("-", "x")  # one word: a selective recall finds it alone
            body: dict[str, object] = {"text": f"Ada likes {word}, note {tag}"}
            if job.workload == "selective":
                triple = {"entity": {"type": "person", "name": unique}, "key": "likes"}
                body["triples"] = [{**triple, "value": word}]
                last = unique
            status = client.send("POST", "/facts", body, key=unique)
        else:
            query = word if job.workload == "mixed" else "n" + last.replace("-", "x")
            status = client.send("POST", "/query", {"query": query})
        if status >= 400:
            raise RuntimeError(f"{kind}: the server answered {status}")
        ended = time.monotonic()
        done.append((ended - job.since, size, kind, (ended - started) * 1000))
    return done


class Server:
    """A ``serve`` process on a free loopback port."""

    def __init__(self, process: subprocess.Popen[str], url: str) -> None:
        self.process = process
        self.url = url
        self.batches = 0

    def reset(self) -> None:
        """Forget every fact, the journal and the faults: the next run starts empty."""
        httpx.post(f"{self.url}/__spectron/reset").raise_for_status()

    def rss(self) -> int:
        return rss_bytes(self.process.pid)

    def batch(self, pool: Pool, workload: str, clients: int, requests: int) -> Batch:
        """``requests`` requests shared by ``clients`` processes: the wall time and latencies."""
        self.batches += 1  # in the workers' names, so every batch's idempotency keys are new
        base = f"{self.url}/api/v1/bench"
        jobs = [
            Job(base, workload, requests // clients, f"{self.batches}-{client}")
            for client in range(clients)
        ]
        started = time.perf_counter()
        latencies = pool.map(client_run, jobs)
        return Batch(time.perf_counter() - started, [value for run in latencies for value in run])


def soak_run(server: Server, pool: Pool, workload: str, clients: int, seconds: float) -> Soak:
    """``clients`` processes sending ``workload`` for ``seconds`` seconds from an empty store."""
    server.reset()
    server.batches += 1
    since = time.monotonic() + 0.2  # every job handed out before the clock starts
    jobs = [
        Job(
            f"{server.url}/api/v1/bench",
            workload,
            0,
            f"soak{server.batches}-{client}",
            since,
            since + seconds,
        )
        for client in range(clients)
    ]
    return Soak([item for run in pool.map(client_soak, jobs) for item in run])


@dataclass(frozen=True)
class Soak:
    """What a soak's clients did: when each request ended, and each read's answer size (-1 for
    a write or a recall)."""

    done: list[tuple[float, int, str, float]]

    def rate(self, start: float, end: float) -> float:
        """Requests/s that ended in [start, end)."""
        return sum(start <= at < end for at, *_ in self.done) / (end - start)

    def latency(self, kind: str, start: float, end: float) -> float:
        """The mean latency of the ``kind`` requests that ended in [start, end), in ms."""
        times = [ms for at, _, which, ms in self.done if start <= at < end and which == kind]
        return statistics.fmean(times) if times else 0.0

    def read_bytes(self, start: float, end: float) -> float:
        """The mean size of the reads' answers that ended in [start, end), in bytes."""
        sizes = [size for at, size, *_ in self.done if start <= at < end and size >= 0]
        return statistics.fmean(sizes) if sizes else 0.0


@dataclass(frozen=True)
class Batch:
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds


@contextmanager
def serving(journal_limit: int) -> Iterator[Server]:
    """Start ``python -m pytest_spectron serve``; read its URL from its first line; stop it."""
    command = [sys.executable, "-m", "pytest_spectron", "serve", "--port", "0"]
    with started([*command, "--journal-limit", str(journal_limit)]) as server:
        yield server


@contextmanager
def started(command: list[str]) -> Iterator[Server]:
    """Run a server process that prints its URL on its first line; stop it when done."""
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert process.stdout is not None
        yield Server(process, process.stdout.readline().strip())
    finally:
        process.terminate()
        process.wait()


def quantile(values: Sequence[float], percent: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1]


Target = tuple[str, str, str, bool]
"""A row of the targets table: measure, today's figure, target, met."""


@dataclass(frozen=True)
class Bench:
    """The sizes of this run."""

    many: int
    """The larger number of client processes: 8 (2 in ``--quick``)."""
    rounds: int
    requests: dict[str, int]
    """Workload → requests per run."""
    facts: int
    facts_window: int
    journal_limit: int
    memory_window: int
    memory_windows: int
    soak_seconds: float = 0.0
    """How long each soak runs; 0: no soak, the other tables."""
    soak_window: float = 10.0


def throughput(bench: Bench, pool: Pool, server: Server) -> list[Target]:
    """GET state and the mixed workload, 1 and ``many`` clients, alternating over the rounds."""
    p50: dict[str, list[float]] = {}
    p99: dict[str, list[float]] = {}

    def contender(workload: str, clients: int) -> Callable[[], float]:
        def run() -> float:
            server.reset()
            batch = server.batch(pool, workload, clients, bench.requests[workload])
            p50.setdefault(name(workload, clients), []).append(quantile(batch.latencies, 50))
            p99.setdefault(name(workload, clients), []).append(quantile(batch.latencies, 99))
            return batch.rate

        return run

    contenders = {
        name(workload, clients): contender(workload, clients)
        for workload in ("state", "mixed")
        for clients in (1, bench.many)
    }
    rate = alternate(contenders, bench.rounds)
    mixed_facts = int(bench.requests["mixed"] * MIX["remember"])
    print_table(
        f"requests/s; state: {bench.requests['state']:,} requests on an empty store; mixed: "
        f"{bench.requests['mixed']:,} requests, the store growing to ~{mixed_facts:,} facts",
        rate,
        "req/s",
        digits=0,
    )
    print_table("latency seen by the clients, p50", p50, "ms")
    print_table("latency seen by the clients, p99", p99, "ms")
    reads = statistics.median(rate[name("state", bench.many)])
    measure = f"GET state, {bench.many} client processes"
    return [(measure, f"{reads:.0f} req/s", f">= {READ_TARGET} req/s", reads >= READ_TARGET)]


def name(workload: str, clients: int) -> str:
    return f"{workload}, {clients} client{'s' if clients > 1 else ''}"


def growth(bench: Bench, pool: Pool, server: Server) -> list[Target]:
    """POST remember from ``many`` clients while the store grows: requests/s per window."""
    step = bench.facts_window
    windows = [f"facts {start:,} to {start + step:,}" for start in range(0, bench.facts, step)]
    rates: dict[str, list[float]] = {window: [] for window in windows}
    for _ in range(bench.rounds):
        server.reset()
        for window in windows:
            rates[window].append(server.batch(pool, "remember", bench.many, step).rate)
    title = f"POST remember, {bench.many} clients, the store growing to {bench.facts:,} facts"
    print_table(title, rates, "req/s", windows[0], digits=0)
    first, last = (statistics.median(rates[window]) for window in (windows[0], windows[-1]))
    flat = last >= REMEMBER_TARGET and last >= FLAT * first
    return [
        (
            f"POST remember, store growing to {bench.facts:,} facts",
            f"{first:.0f} -> {last:.0f} req/s",
            f">= {REMEMBER_TARGET} req/s flat",
            flat,
        )
    ]


def memory(bench: Bench, pool: Pool, server: Server, journal_limit: int) -> float:
    """GET state from ``many`` clients, window after window; print the server's RSS after each.

    :return: the bytes per request the RSS grew by once the journal was full.
    """
    window = bench.memory_window
    full = -(-journal_limit // window) if journal_limit else 1
    samples = []
    for _ in range(full + bench.memory_windows):
        server.batch(pool, "state", bench.many, window)
        samples.append(server.rss())
    grown = (samples[-1] - samples[full - 1]) / (bench.memory_windows * window)
    label = f"--journal-limit {journal_limit}" if journal_limit else "--journal-limit 0 (no cap)"
    print(f"  {label:<28} {'  '.join(f'{sample / MiB:.1f}' for sample in samples)} MiB")
    print(
        f"  {'':<28} after the journal filled: {grown:.0f} bytes per request, "
        f"{grown * 1_000_000 / MiB:,.0f} MiB per million requests"
    )
    return grown


def soak(bench: Bench, pool: Pool, server: Server) -> list[Target]:
    """The mixed and the selective workloads for ``bench.soak_seconds`` each, alternating over
    the rounds: requests/s and the reads' answer size per window, the second half over the
    first."""
    seconds, step = bench.soak_seconds, bench.soak_window
    windows = [(start, start + step) for start in _steps(0.0, seconds, step)]
    label = [
        f"{start:5.0f}-{end:.0f} s" if step >= 1 else f"{start}-{end} s" for start, end in windows
    ]
    half = seconds / 2
    targets = []
    runs: dict[str, list[Soak]] = {"mixed": [], "selective": []}
    for _ in range(bench.rounds):
        for workload in runs:
            runs[workload].append(soak_run(server, pool, workload, bench.many, seconds))
    for workload, soaks in runs.items():
        read = "GET state" if workload == "mixed" else "GET of one entity"
        mix = MIX if workload == "mixed" else SELECTIVE
        shares = ", ".join(f"{kind} {share:.0%}" for kind, share in mix.items())
        title = (
            f"soak, {workload} ({shares}), {bench.many} clients, {seconds:g} s from an empty store"
        )
        rates = {
            name: [run.rate(*window) for run in soaks]
            for name, window in zip(label, windows, strict=True)
        }
        print_table(f"{title}: requests/s per window", rates, "req/s", label[0], digits=0)
        sizes = {
            name: [run.read_bytes(*window) for run in soaks]
            for name, window in zip(label, windows, strict=True)
        }
        print_table(f"{title}: mean size of a {read} answer", sizes, "bytes", label[0], digits=0)
        kept = {
            "second half over the first": [
                run.rate(half, seconds) / run.rate(0, half) for run in soaks
            ]
        }
        for kind in mix:
            times = {
                name: [run.latency(kind, *window) for run in soaks]
                for name, window in zip(label, windows, strict=True)
            }
            print_table(f"{title}: mean latency, {kind}", times, "ms", label[0])
        print_table(f"{title}: throughput kept", kept, "x")
        share = statistics.median(kept["second half over the first"])
        targets.append(
            (
                f"soak {workload}: req/s of its second {half:g} s over its first",
                f"{share:.0%}",
                f">= {SOAK_SHARE:.0%}",
                share >= SOAK_SHARE,
            )
        )
    return targets


def _steps(start: float, stop: float, step: float) -> list[float]:
    count = round((stop - start) / step)
    return [start + index * step for index in range(count)]


def main() -> None:
    bench, quick = options()
    if bench.soak_seconds:
        print_environment(f"Loopback server soak, {bench.rounds} rounds", quick=quick)
        with (
            multiprocessing.get_context("spawn").Pool(bench.many) as pool,
            serving(bench.journal_limit) as server,
        ):
            pool.map(time.sleep, [0.0] * bench.many)
            targets = soak(bench, pool, server)
        print("\nTargets")
        for target in targets:
            print_target(*target)
        return
    print_environment(f"Loopback server, {bench.rounds} rounds", quick=quick)
    with multiprocessing.get_context("spawn").Pool(bench.many) as pool:
        pool.map(time.sleep, [0.0] * bench.many)  # every worker up before any timing
        print(
            f"\nserve's RSS under GET state from {bench.many} clients, after each window of "
            f"{bench.memory_window:,} requests"
        )
        # Memory first, on fresh servers: a server that has held more keeps its freed memory
        # and would refill it unseen.
        with serving(0) as uncapped:
            memory(bench, pool, uncapped, 0)
        with serving(bench.journal_limit) as server:
            grown = memory(bench, pool, server, bench.journal_limit)
            targets = throughput(bench, pool, server)
            targets += growth(bench, pool, server)
            print(
                f"\n  peak RSS of the server over the whole run: {peak_rss(server) / MiB:.1f} MiB"
            )
    targets.append(
        (
            "serve memory, growth per request once the journal is full",
            f"{grown:.0f} bytes/request",
            f"< {BOUNDED_BYTES} bytes/request",
            grown < BOUNDED_BYTES,
        )
    )
    print("\nTargets")
    for target in targets:
        print_target(*target)


def options() -> tuple[Bench, bool]:
    """The command line's sizes, and whether this is a ``--quick`` run."""
    parser = command_line(__doc__, "40 requests a run, 2 clients instead of 8, 1 round")
    add = parser.add_argument
    add("--state-requests", type=int, default=8000, help="a run's (default: %(default)s)")
    add("--mixed-requests", type=int, default=1000, help="a run's (default: %(default)s)")
    add("--facts", type=int, default=50_000, help="remembered per round (default: %(default)s)")
    add(
        "--journal-limit", type=int, default=10_000, help="of the memory run (default: %(default)s)"
    )
    add("--soak", action="store_true", help="run the soaks instead of the other tables")
    add("--soak-seconds", type=float, default=120.0, help="each soak's (default: %(default)s)")
    add("--soak-window", type=float, default=10.0, help="seconds a row (default: %(default)s)")
    arguments = parser.parse_args()
    quick = arguments.quick
    if quick:
        arguments.rounds, arguments.state_requests, arguments.mixed_requests = 1, 40, 40
        arguments.facts, arguments.journal_limit = 80, 80
        arguments.soak_seconds, arguments.soak_window = 2.0, 0.5
    bench = Bench(
        many=2 if quick else 8,
        rounds=arguments.rounds,
        requests={"state": arguments.state_requests, "mixed": arguments.mixed_requests},
        facts=arguments.facts,
        facts_window=arguments.facts // (2 if quick else 10),
        journal_limit=arguments.journal_limit,
        memory_window=40 if quick else 10_000,
        memory_windows=2 if quick else 5,
        soak_seconds=arguments.soak_seconds if arguments.soak else 0.0,
        soak_window=arguments.soak_window,
    )
    return bench, quick


def peak_rss(server: Server) -> int:
    """The server process's highest RSS so far (``VmHWM``)."""
    with open(f"/proc/{server.process.pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise SystemExit("no VmHWM in /proc: the memory figures need Linux")


if __name__ == "__main__":
    main()
