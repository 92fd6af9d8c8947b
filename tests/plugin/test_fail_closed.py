"""Fail closed: while the plugin runs, no request for Spectron escapes to the network.

Each suite points the endpoint at a real loopback listener standing in for production: a
request the plugin let through would reach it, with the key.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_spectron.testing.transports._registry import REFUSAL_REASONS

PRODUCTION_KEY = "sk-PROD-7d1f0c2a"


@pytest.fixture
def production() -> Iterator[socket.socket]:
    """A listener standing in for the production Spectron; the test checks nothing connected."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.setblocking(False)
        yield listener


def reached(listener: socket.socket) -> bool:
    """Whether any client connected to the listener."""
    try:
        connection, _ = listener.accept()
    except BlockingIOError:
        return False
    connection.close()
    return True


def endpoint_of(listener: socket.socket) -> str:
    """The listener's URL, as an endpoint."""
    return f"http://127.0.0.1:{listener.getsockname()[1]}"


def test_a_module_fixture_teardown_request_is_refused_naming_the_stopped_mock(
    pytester: pytest.Pytester, production: socket.socket
) -> None:
    """A module fixture flushing at teardown, after the mock stopped, errors; nothing is sent."""
    pytester.makepyfile(
        """
        import httpx
        import pytest

        @pytest.fixture(scope="module")
        def buffer(pytestconfig):
            pending = []
            yield pending
            endpoint = pytestconfig.getoption("spectron_endpoint")
            httpx.post(
                endpoint + "/api/v1/prod-context/facts",
                headers={"Authorization": "Bearer " + pytestconfig.getoption("spectron_api_key")},
                json={"text": pending[0]},
            )

        def test_remembers(buffer, spectron):
            buffer.append("tea at five")
            spectron.state()
        """
    )
    result = pytester.runpytest(
        f"--spectron-endpoint={endpoint_of(production)}", f"--spectron-api-key={PRODUCTION_KEY}"
    )
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*RefusedRequest: pytest-spectron refused POST http://127.0.0.1:*/api/v1/prod-context"
            "/facts: the spectron_mock answering http://127.0.0.1:* has already stopped (it "
            "stopped when test_a_module_fixture_teardown_request_is_refused_naming_the_stopped"
            "_mock.py::test_remembers ended)*",
        ]
    )
    assert not reached(production)


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_the_bound_client_kept_past_its_mock_is_refused(
    pytester: pytest.Pytester, production: socket.socket, flavour: str
) -> None:
    """The mock's own client, kept by a module fixture and used after the mock stopped, errors."""
    call = "asyncio.run(clients[0].state())" if flavour == "async" else "clients[0].state()"
    make = "spectron_mock.async_client" if flavour == "async" else "spectron_mock.client"
    pytester.makepyfile(
        f"""
        import asyncio

        import pytest

        @pytest.fixture(scope="module")
        def kept():
            clients = []
            yield clients
            {call}

        def test_keeps_the_client(kept, spectron_mock):
            kept.append({make}(max_retries=3))
        """
    )
    result = pytester.runpytest(f"--spectron-endpoint={endpoint_of(production)}")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*RefusedRequest: pytest-spectron refused GET http://127.0.0.1:*/api/v1/*/state: the "
            "spectron_mock answering http://127.0.0.1:* has already stopped*",
        ]
    )
    assert not reached(production)


def test_a_fixture_set_up_before_the_mock_is_refused_naming_no_mock(
    pytester: pytest.Pytester, production: socket.socket
) -> None:
    """A fixture that checks ``health`` before ``spectron_mock`` starts errors at setup."""
    pytester.makepyfile(
        """
        import pytest
        from pytest_spectron import Spectron

        @pytest.fixture
        def healthy(pytestconfig):
            endpoint = pytestconfig.getoption("spectron_endpoint")
            with Spectron("ctx", endpoint, "sk-any", max_retries=3) as client:
                client.health()

        def test_app(healthy, spectron_mock):
            pass
        """
    )
    result = pytester.runpytest(f"--spectron-endpoint={endpoint_of(production)}")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*RefusedRequest: pytest-spectron refused GET http://127.0.0.1:*/api/v1/health: no "
            "spectron_mock is running to answer http://127.0.0.1:*, so the request would have "
            "gone to the real host, with its API key.*",
        ]
    )
    assert not reached(production)


def test_a_refusal_is_not_retried_away(
    pytester: pytest.Pytester, production: socket.socket
) -> None:
    """The app's retry logic, catching httpx's errors, does not swallow the refusal."""
    pytester.makepyfile(
        """
        import httpx
        import pytest

        @pytest.fixture
        def warm(pytestconfig):
            endpoint = pytestconfig.getoption("spectron_endpoint")
            for _ in range(3):
                try:
                    return httpx.get(endpoint + "/api/v1/ctx/state")
                except httpx.HTTPError:
                    continue

        def test_app(warm, spectron):
            spectron.state()
        """
    )
    result = pytester.runpytest(f"--spectron-endpoint={endpoint_of(production)}")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*RefusedRequest*no spectron_mock is running*"])
    assert not reached(production)


NO_LOOKUPS = """
import socket
import pytest


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the network was touched")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
"""


@pytest.mark.parametrize(
    ("endpoint", "sent_to"),
    [
        ("http://spectron.test", "https://spectron.test"),
        ("https://memory.internal:8443", "https://memory.internal:9443"),
        ("http://spectron.test", "http://spectron.tset"),
    ],
    ids=["scheme", "port", "host"],
)
def test_a_spectron_route_on_another_origin_is_a_near_miss_naming_the_endpoint(
    pytester: pytest.Pytester, endpoint: str, sent_to: str
) -> None:
    """A typo'd scheme, port or host fails naming the endpoint the mock answers; no DNS lookup."""
    pytester.makeconftest(NO_LOOKUPS)
    pytester.makepyfile(
        f"""
        import httpx

        def test_app(spectron_mock):
            httpx.get("{sent_to}/api/v1/ctx/state")
        """
    )
    result = pytester.runpytest(f"--spectron-endpoint={endpoint}")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            f"*RefusedRequest: pytest-spectron refused GET {sent_to}/api/v1/ctx/state: its path "
            f"is a Spectron route, but the mock answers {endpoint} (scheme, host and port)*",
        ]
    )
    result.stdout.no_fnmatch_line("*the network was touched*")


def test_another_service_with_an_api_v1_path_is_left_alone(pytester: pytest.Pytester) -> None:
    """A path under /api/v1/ that is no Spectron route goes on (here to the test's respx route)."""
    pytester.makepyfile(
        """
        import httpx

        def test_app(spectron_mock, respx_mock):
            respx_mock.get("https://github.test/api/v1/users").respond(json=[])
            assert httpx.get("https://github.test/api/v1/users").json() == []
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


BLOCKED_SUITE = """
import httpx
import pytest


def test_unmocked(spectron_mock):
    httpx.get("https://weather.test/today")


def test_mocked_by_respx(respx_mock):
    respx_mock.get("https://weather.test/today").respond(json={"sky": "blue"})
    assert httpx.get("https://weather.test/today").json() == {"sky": "blue"}


def test_own_transport():
    transport = httpx.MockTransport(lambda request: httpx.Response(204))
    with httpx.Client(transport=transport) as client:
        assert client.get("https://weather.test/today").status_code == 204


async def test_unmocked_async():
    async with httpx.AsyncClient() as client:
        await client.get("https://weather.test/today")
"""


@pytest.mark.parametrize("where", ["flag", "ini"])
def test_block_network_refuses_every_unmocked_request(
    pytester: pytest.Pytester, where: str
) -> None:
    """``--spectron-block-network`` (or its ini) refuses what no mock answers, even sans mock."""
    pytester.makeconftest(NO_LOOKUPS)
    pytester.makepyfile(BLOCKED_SUITE)
    if where == "ini":
        pytester.makeini(
            "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
            "asyncio_mode = auto\nspectron_block_network = true\n"
        )
        result = pytester.runpytest()
    else:
        result = pytester.runpytest("--spectron-block-network", "-o", "asyncio_mode=auto")
    result.assert_outcomes(failed=2, passed=2)
    result.stdout.fnmatch_lines(
        [
            "*RefusedRequest: pytest-spectron refused GET https://weather.test/today: no mock "
            "answers it and the network is blocked (--spectron-block-network)*",
        ]
    )
    result.stdout.no_fnmatch_line("*the network was touched*")


def test_the_network_is_not_blocked_by_default(pytester: pytest.Pytester) -> None:
    """Without the option, an unmocked request to another host goes on to the network."""
    pytester.makeconftest(NO_LOOKUPS)
    pytester.makepyfile(BLOCKED_SUITE)
    result = pytester.runpytest("-o", "asyncio_mode=auto")
    result.assert_outcomes(failed=2, passed=2)
    result.stdout.fnmatch_lines(["*the network was touched*"])
    result.stdout.no_fnmatch_line("*RefusedRequest*")


OUTLIVING_SUITE = """
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

LEFT = {}
EXECUTOR = ThreadPoolExecutor(max_workers=1)


def chat(mock):
    return httpx.post(
        mock.endpoint + "/api/v1/test-context/chat",
        headers={"Authorization": "Bearer " + mock.api_key},
        json={"message": "hi"},
    )


def fire_and_forget(mock, go):
    go.wait(30)
    try:
        chat(mock)
    except AssertionError as error:
        return error


def test_a_leaves_work_running(spectron_mock):
    go = threading.Event()
    outcome = {}
    thread = threading.Thread(
        target=lambda: outcome.update(error=fire_and_forget(spectron_mock, go))
    )
    thread.start()
    LEFT.update(go=go, thread=thread, outcome=outcome)
    LEFT["job"] = EXECUTOR.submit(fire_and_forget, spectron_mock, go)


@pytest.mark.spectron_fault("chat", status=503, times=1)
def test_b_is_never_credited(spectron_mock):
    LEFT["go"].set()
    LEFT["thread"].join(30)
    for error in (LEFT["outcome"]["error"], LEFT["job"].result(30)):
        assert type(error).__name__ == "RefusedRequest", error
        assert error.reason == "outlived_test"
        assert "a thread started during test_outliving.py::test_a_leaves_work_running" in str(error)
    assert spectron_mock.attempts() == []
    # Work this test sends to the same (older) worker thread is this test's own.
    assert EXECUTOR.submit(chat, spectron_mock).result(30).status_code == 503
    spectron_mock.assert_attempts("chat", 1)
"""


def test_a_thread_that_outlives_its_test_is_refused_and_never_counted(
    pytester: pytest.Pytester,
) -> None:
    """A thread (or executor job) from test A requesting in test B is refused, naming A."""
    pytester.makepyfile(test_outliving=OUTLIVING_SUITE)
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=2)


OUTLIVING_TASKS_SUITE = """
import asyncio

import httpx
import pytest

LEFT = {}


async def chat(mock):
    async with httpx.AsyncClient() as client:
        return await client.post(
            mock.endpoint + "/api/v1/test-context/chat",
            headers={"Authorization": "Bearer " + mock.api_key},
            json={"message": "hi"},
        )


async def fire_and_forget(mock, go):
    await go.wait()
    return await chat(mock)


async def test_a_leaves_a_task_running(spectron_mock):
    go = asyncio.Event()
    LEFT.update(go=go, task=asyncio.create_task(fire_and_forget(spectron_mock, go)))


@pytest.mark.spectron_fault("chat", status=503, times=1)
async def test_b_is_never_credited(spectron_mock):
    LEFT["go"].set()
    with pytest.raises(AssertionError) as refused:
        await LEFT["task"]
    error = refused.value
    assert type(error).__name__ == "RefusedRequest", error
    assert error.reason == "outlived_test"
    assert "a task started during test_tasks.py::test_a_leaves_a_task_running" in str(error)
    assert "Await the task (or cancel it)" in str(error)
    assert spectron_mock.attempts() == []
    # A task this test creates is its own, and so is a job it sends to an executor.
    assert (await asyncio.create_task(chat(spectron_mock))).status_code == 503
    assert (await asyncio.to_thread(lambda: asyncio.run(chat(spectron_mock)))).status_code == 200
    spectron_mock.assert_attempts("chat", 2)
"""


@pytest.mark.parametrize("loop_scope", ["module", "session"])
def test_a_task_that_outlives_its_test_is_refused_and_never_counted(
    pytester: pytest.Pytester, loop_scope: str
) -> None:
    """An asyncio task from test A requesting in test B (one long-lived loop) is refused."""
    pytester.makepyfile(test_tasks=OUTLIVING_TASKS_SUITE)
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\n"
        f"asyncio_default_test_loop_scope = {loop_scope}\n"
        f"asyncio_default_fixture_loop_scope = {loop_scope}\n"
    )
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=2)


def test_a_task_that_outlives_its_test_under_anyio_is_refused_and_never_counted(
    pytester: pytest.Pytester,
) -> None:
    """Under anyio's plugin, whose one runner task runs every test, a stray task is still A's."""
    pytester.makepyfile(
        test_tasks=OUTLIVING_TASKS_SUITE
        + """
pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def anyio_backend():
    return "asyncio"


@pytest.fixture(scope="module", autouse=True)
async def connection():
    # A module-scoped async fixture keeps anyio's runner task (and its loop) across the tests.
    yield
"""
    )
    pytester.runpytest("-p", "no:randomly", "-p", "anyio", "-p", "no:asyncio").assert_outcomes(
        passed=2
    )


TASK_GROUP_SUITE = """
import anyio
import httpx
import pytest

pytestmark = pytest.mark.anyio
LEFT = {}


@pytest.fixture(scope="module", params=[BACKEND])
def anyio_backend(request):
    return request.param


@pytest.fixture(scope="module")
async def background():
    async with anyio.create_task_group() as group:
        yield group
        group.cancel_scope.cancel()


async def chat(mock):
    async with httpx.AsyncClient() as client:
        return await client.post(
            mock.endpoint + "/api/v1/test-context/chat",
            headers={"Authorization": "Bearer " + mock.api_key},
            json={"message": "hi"},
        )


async def fire_and_forget(mock):
    await LEFT["go"].wait()
    try:
        LEFT["sent"] = await chat(mock)
    except AssertionError as error:
        LEFT["error"] = error
    LEFT["done"].set()


async def test_a_leaves_a_task_running(background, spectron_mock):
    LEFT.update(go=anyio.Event(), done=anyio.Event())
    background.start_soon(fire_and_forget, spectron_mock)


@pytest.mark.spectron_fault("chat", status=503, times=1)
async def test_b_is_never_credited(background, spectron_mock):
    LEFT["go"].set()
    await LEFT["done"].wait()
    error = LEFT.get("error")
    assert type(error).__name__ == "RefusedRequest", LEFT
    assert "a task started during test_group.py::test_a_leaves_a_task_running" in str(error)
    assert spectron_mock.attempts() == []
    # A task this test starts in the same long-lived group is its own.
    LEFT.update(go=anyio.Event(), done=anyio.Event())
    background.start_soon(fire_and_forget, spectron_mock)
    LEFT["go"].set()
    await LEFT["done"].wait()
    assert LEFT["sent"].status_code == 503
    spectron_mock.assert_attempts("chat", 1)
"""


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_a_task_group_task_that_outlives_its_test_is_refused_and_never_counted(
    pytester: pytest.Pytester, backend: str
) -> None:
    """A task test A starts in a module fixture's task group, sending in test B, is refused."""
    pytester.makepyfile(test_group=TASK_GROUP_SUITE.replace("BACKEND", repr(backend)))
    result = pytester.runpytest("-p", "no:randomly", "-p", "anyio", "-p", "no:asyncio")
    result.assert_outcomes(passed=2)


def test_every_refusal_has_a_row_in_the_bad_input_inventory() -> None:
    """docs/bad-input.md lists one ``refused-`` row per reason a request can be refused."""
    inventory = (Path(__file__).resolve().parents[2] / "docs" / "bad-input.md").read_text()
    documented = set(re.findall(r"^\| `refused-([a-z-]+)` \|", inventory, re.M))
    assert documented == {reason.replace("_", "-") for reason in REFUSAL_REASONS}
