"""``python -m pytest_spectron serve``, run as a user runs it: a subprocess on a loopback port."""

from __future__ import annotations

import re
import select
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import requests
import surrealdb_memory

from pytest_spectron import Spectron, SpectronNotFoundError
from pytest_spectron.testing import _cli
from pytest_spectron.testing.fake._context import RECORD_LIMIT
from pytest_spectron.testing.service._journal import JOURNAL_LIMIT
from pytest_spectron.testing.transports import loopback

WAIT = 30.0
"""Seconds a test waits at most for the command (a cold interpreter start included)."""
COMMAND = (sys.executable, "-m", "pytest_spectron")
INVENTORY = Path(__file__).resolve().parents[2] / "docs" / "bad-input.md"


@dataclass
class Served:
    """A running ``serve`` command and the URL it printed first."""

    process: subprocess.Popen[str]
    url: str

    def finish(self, number: int = signal.SIGTERM) -> tuple[int, str]:
        """Send a signal, wait for the exit; the exit status and what went to stderr."""
        self.process.send_signal(number)
        _, errors = self.process.communicate(timeout=WAIT)
        return self.process.returncode, errors


Serve = Callable[..., Served]


@pytest.fixture
def serve() -> Iterator[Serve]:
    """Start ``serve`` with extra arguments and read its URL; killed after the test if alive."""
    processes: list[subprocess.Popen[str]] = []

    def start(*arguments: str) -> Served:
        process = subprocess.Popen(
            [*COMMAND, "serve", "--port", "0", *arguments],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        processes.append(process)
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], WAIT)
        assert ready, f"serve printed nothing within {WAIT:g} s"
        return Served(process, process.stdout.readline().rstrip("\n"))

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=WAIT)


def state(url: str, *, key: str = "sk-any", context: str = "ctx") -> int:
    """The status of one ``GET /api/v1/{context}/state``."""
    headers = {"Authorization": f"Bearer {key}"}
    return httpx.get(f"{url}/api/v1/{context}/state", headers=headers, timeout=WAIT).status_code


def test_help_lists_the_serve_command() -> None:
    """``python -m pytest_spectron --help`` lists ``serve``."""
    done = subprocess.run([*COMMAND, "--help"], capture_output=True, text=True, timeout=WAIT)
    assert done.returncode == 0
    assert re.search(r"^\s+serve\s+serve the Spectron fake", done.stdout, re.MULTILINE)


def test_serve_help_shows_the_fault_grammar() -> None:
    """``serve --help`` documents every option and ends with the fault spec grammar."""
    done = subprocess.run(
        [*COMMAND, "serve", "--help"], capture_output=True, text=True, timeout=WAIT
    )
    assert done.returncode == 0
    options = ("--host", "--port", "--prefix", "--context", "--api-key", "--fault")
    for option in (*options, "--idle-timeout", "--max-connections"):
        assert option in done.stdout
    assert "fault spec grammar:" in done.stdout


def test_first_stdout_line_is_the_url(serve: Serve) -> None:
    """The first line of stdout is ``http://127.0.0.1:PORT`` and the fake answers there."""
    served = serve()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", served.url)
    assert state(served.url) == 200


def test_fault_fails_the_first_two_attempts(serve: Serve) -> None:
    """``--fault state=503x2``: two 503s, then the fake's 200, as the journal records."""
    served = serve("--fault", "state=503x2")
    statuses = [state(served.url) for _ in range(3)]
    journal = httpx.get(f"{served.url}/__spectron/journal", timeout=WAIT).json()
    assert statuses == [503, 503, 200]
    assert [(entry["operation"], entry["outcome"]) for entry in journal["attempts"]] == [
        ("state", "503"),
        ("state", "503"),
        ("state", "200"),
    ]


def test_api_key_restricts_the_accepted_keys(serve: Serve) -> None:
    """With ``--api-key``, only that key is accepted."""
    served = serve("--api-key", "sk-right")
    assert (state(served.url, key="sk-wrong"), state(served.url, key="sk-right")) == (401, 200)


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_stops_with_exit_status_zero(serve: Serve, number: signal.Signals) -> None:
    """SIGTERM and SIGINT (Ctrl-C) stop the server cleanly: exit status 0, no traceback."""
    served = serve()
    status, errors = served.finish(number)
    assert status == 0
    assert "Traceback" not in errors


def test_banner_on_stderr_suggests_the_context(serve: Serve) -> None:
    """The human line on stderr names the URL and the ``--context`` given."""
    served = serve("--context", "notes")
    _, errors = served.finish()
    assert f"{served.url}/api/v1/notes/state" in errors


def test_bad_fault_exits_2_showing_the_grammar() -> None:
    """A malformed ``--fault`` is a usage error: exit 2, the spec and the grammar on stderr."""
    done = subprocess.run(
        [*COMMAND, "serve", "--fault", "state=bogus"], capture_output=True, text=True, timeout=WAIT
    )
    assert done.returncode == 2
    assert "argument --fault: bad fault spec 'state=bogus'" in done.stderr
    assert "fault spec grammar:" in done.stderr
    assert done.stdout == ""


def test_bad_port_exits_2() -> None:
    """A port outside 0-65535 is a usage error naming the range."""
    done = subprocess.run(
        [*COMMAND, "serve", "--port", "70000"], capture_output=True, text=True, timeout=WAIT
    )
    assert done.returncode == 2
    assert "'70000' is not a port number (0-65535)" in done.stderr


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--port", "+80", "is not a port number (0-65535)"),
        ("--port", "\u0668\u0660", "is not a port number (0-65535)"),
        ("--port", " 80", "is not a port number (0-65535)"),
        ("--idle-timeout", "-1", "is not a number of seconds (0 or more"),
        ("--idle-timeout", "soon", "is not a number of seconds (0 or more"),
        ("--idle-timeout", "inf", "is not a number of seconds (0 or more"),
        ("--max-connections", "0", "is not a number of connections (1 or more)"),
        ("--max-connections", "²", "is not a number of connections (1 or more)"),
        ("--journal-limit", "-5", "is not a number of attempts (0 for no limit)"),
        ("--record-limit", "many", "is not a number of records (0 for no limit)"),
    ],
)
def test_bad_number_option_exits_2(
    capsys: pytest.CaptureFixture[str], option: str, value: str, message: str
) -> None:
    """A number option takes ASCII digits in its range only: else exit 2 naming the value."""
    with pytest.raises(SystemExit) as exited:
        _cli.main(["serve", option, value])
    assert exited.value.code == 2
    assert f"argument {option}: {value!r} {message}" in capsys.readouterr().err


def test_defaults_in_help_are_the_servers() -> None:
    """The defaults ``serve --help`` shows (kept import-free) are the server's own."""
    assert (
        _cli.DEFAULT_IDLE_TIMEOUT,
        _cli.DEFAULT_MAX_CONNECTIONS,
        _cli.DEFAULT_CLIENT_TIMEOUT,
        _cli.DEFAULT_JOURNAL_LIMIT,
        _cli.DEFAULT_RECORD_LIMIT,
    ) == (
        loopback.IDLE_TIMEOUT,
        loopback.MAX_CONNECTIONS,
        loopback.CLIENT_TIMEOUT,
        JOURNAL_LIMIT,
        RECORD_LIMIT,
    )


def test_idle_timeout_closes_a_silent_connection(serve: Serve) -> None:
    """``--idle-timeout 0.2``: a connection that sends nothing is closed without an answer."""
    served = serve("--idle-timeout", "0.2")
    address = httpx.URL(served.url)
    assert address.port is not None
    with socket.create_connection((address.host, address.port), timeout=WAIT) as connection:
        assert connection.recv(1024) == b""


def test_max_connections_turns_the_next_one_away(serve: Serve) -> None:
    """``--max-connections 1``: with one client connected, the next connection gets a 503."""
    served = serve("--max-connections", "1")
    with httpx.Client(base_url=served.url, timeout=WAIT) as first:
        assert first.get("/__spectron/faults").status_code == 200
        assert httpx.get(f"{served.url}/__spectron/faults", timeout=WAIT).status_code == 503


def test_port_in_use_exits_1_naming_the_address() -> None:
    """A port another socket holds ends the command with exit 1 and the address it wanted."""
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        done = subprocess.run(
            [*COMMAND, "serve", "--port", str(port)], capture_output=True, text=True, timeout=WAIT
        )
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr


def test_no_command_prints_the_usage_and_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    """``python -m pytest_spectron`` alone: the usage, an ``error:`` line, exit status 2."""
    with pytest.raises(SystemExit) as exited:
        _cli.main([])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage:")
    assert "error: a command is needed: serve" in err


# -- --prefix ------------------------------------------------------------------------------------


def test_prefix_is_part_of_the_printed_url(serve: Serve) -> None:
    """``--prefix /spectron``: stdout's first line is the whole base URL, the banner uses it."""
    served = serve("--prefix", "/spectron/")
    _, errors = served.finish()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/spectron", served.url)
    assert f"{served.url}/api/v1/test-context/state" in errors


def test_our_client_works_under_the_prefix(serve: Serve) -> None:
    """Our client on the printed URL: remember then recall, journaled without the prefix."""
    served = serve("--prefix", "/spectron")
    with Spectron("ctx", served.url, "sk-any", max_retries=0) as client:
        client.remember("Alice drinks tea")
        hits = client.recall("tea")
    journal = httpx.get(f"{served.url}/__spectron/journal", timeout=WAIT).json()
    assert [hit.text for hit in hits.hits] == ["Alice drinks tea"]
    assert [(entry["operation"], entry["path"]) for entry in journal["attempts"]] == [
        ("remember", "/api/v1/ctx/facts"),
        ("recall", "/api/v1/ctx/query"),
    ]


def test_a_path_outside_the_prefix_is_a_404_that_names_it(serve: Serve) -> None:
    """A client whose endpoint lacks the gateway's prefix fails here as it would in production.

    Answering it would be a false green: the app would pass against the fake and get 404s
    behind the real gateway. Nothing is journaled, the admin endpoints included.
    """
    served = serve("--prefix", "/spectron")
    root = served.url.removesuffix("/spectron")
    with (
        Spectron("ctx", root, "sk-any", max_retries=0) as client,
        pytest.raises(SpectronNotFoundError) as raised,
    ):
        client.state()
    assert "/api/v1/ctx/state is not under /spectron, the path prefix" in str(raised.value)
    assert httpx.get(f"{root}/__spectron/journal", timeout=WAIT).status_code == 404
    journal = httpx.get(f"{served.url}/__spectron/journal", timeout=WAIT).json()
    assert journal["attempts"] == []


def test_the_official_sdk_works_under_the_prefix(serve: Serve) -> None:
    """The official SDK (``surrealdb-memory``) on the printed URL meets the fake and its faults."""
    served = serve("--prefix", "/gateway/spectron", "--fault", "state=503")
    with requests.Session() as session:
        session.trust_env = False  # no proxy from the environment between it and loopback
        transport = surrealdb_memory.BlockingTransport(
            endpoint=served.url, api_key="sk-any", max_retries=0, session=session
        )
        with surrealdb_memory.Memory("ctx", transport=transport) as memory:
            with pytest.raises(surrealdb_memory.MemoryAPIError) as caught:
                memory.state()
            memory.remember("Alice drinks tea")
            hits = memory.recall("tea")
    assert caught.value.status_code == 503
    assert "Alice drinks tea" in str(hits)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("spectron", "must be a path that starts with one '/', such as '/spectron'"),
        ("//gateway/spectron", "must be a path that starts with one '/'"),
        ("/spectron?v=1", "must not carry a query or fragment"),
        ("/spectron#top", "must not carry a query or fragment"),
        ("/my prefix", "percent-encode it, as in '/my%20prefix'"),
        ("/caf\u00e9", "percent-encode it, as in '/caf%C3%A9'"),
        ("/a/../b", "must not hold '.' or '..' segments"),
    ],
)
def test_bad_prefix_exits_2(capsys: pytest.CaptureFixture[str], value: str, message: str) -> None:
    """A prefix that is no URL path (the endpoint's rule, ``check_prefix``): exit 2, why."""
    with pytest.raises(SystemExit) as exited:
        _cli.main(["serve", "--prefix", value])
    assert exited.value.code == 2
    errors = capsys.readouterr().err
    assert "argument --prefix: the prefix " in errors
    assert message in errors


def test_prefix_options_are_normalised() -> None:
    """``/`` is no prefix, a trailing slash goes, a percent-encoded prefix stays as written."""
    parser = _cli._parser()
    prefixes = [
        parser.parse_args(["serve", "--prefix", value]).prefix
        for value in ("/", "/spectron/", "/my%20prefix")
    ]
    assert prefixes == ["", "/spectron", "/my%20prefix"]


CLI_ROWS = {"cli-bad-prefix": test_bad_prefix_exits_2}


def test_inventory_documents_every_cli_row() -> None:
    """docs/bad-input.md lists exactly the ``cli-`` rows tested here."""
    documented = set(re.findall(r"^\| `(cli-[a-z0-9-]+)` \|", INVENTORY.read_text(), re.M))
    assert documented == set(CLI_ROWS)
