"""requests, aiohttp and the official SDK are intercepted only once the application imports them.

Each script runs in a fresh interpreter, so what it imports is its own.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

INTERCEPTORS = "pytest_spectron.testing.transports._intercept_"


def run(script: str) -> list[str]:
    """Run ``script`` in a fresh interpreter; the lines it printed."""
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout.splitlines()


def test_importing_the_client_loads_neither_requests_nor_aiohttp() -> None:
    """``import pytest_spectron.client`` imports no module of requests', aiohttp's or the SDK's."""
    lines = run(
        "import sys\n"
        "import pytest_spectron.client\n"
        "roots = {name.partition('.')[0] for name in sys.modules}\n"
        "print(sorted(roots & {'requests', 'aiohttp', 'urllib3', 'surrealdb_memory'}))\n"
    )
    assert lines == ["[]"]


@pytest.mark.parametrize("missing", ["requests", "aiohttp"])
def test_where_a_library_is_not_installed_nothing_of_it_is_looked_for(missing: str) -> None:
    """With the library unimportable, the mock answers httpx, imports nothing of it or for it."""
    lines = run(
        "import sys\n"
        f"sys.modules[{missing!r}] = None\n"
        "from pytest_spectron.testing import SpectronMock\n"
        "with SpectronMock() as mock, mock.client() as client:\n"
        "    client.state()\n"
        "mock.assert_attempts('state', 1)\n"
        f"print(sorted(name for name, module in sys.modules.items()\n"
        f"             if module and (name.startswith({missing!r})\n"
        f"                            or name == {INTERCEPTORS + missing!r})))\n"
    )
    assert lines == ["[]"]


def test_a_mock_started_before_the_app_imports_requests_and_aiohttp_still_answers_them() -> None:
    """Nothing is imported up front; an import while the mock runs is intercepted at once."""
    lines = run(
        "import asyncio, sys\n"
        "from pytest_spectron.testing import SpectronMock\n"
        "with SpectronMock() as mock:\n"
        "    print('requests' in sys.modules, 'aiohttp' in sys.modules)\n"
        "    import aiohttp, requests\n"
        "    url = mock.endpoint + '/api/v1/ctx/state'\n"
        "    auth = {'Authorization': 'Bearer k'}\n"
        "    print(requests.get(url, headers=auth).status_code)\n"
        "    async def main():\n"
        "        async with aiohttp.ClientSession() as session:\n"
        "            async with session.get(url, headers=auth) as answer:\n"
        "                return answer.status\n"
        "    print(asyncio.run(main()))\n"
        "mock.assert_attempts('state', 2)\n"
    )
    assert lines == ["False False", "200", "200"]


def test_the_sdk_imported_while_a_clock_runs_waits_on_it() -> None:
    """The SDK's waits reach the clock even when the SDK is imported after the mock started."""
    lines = run(
        "import sys, time\n"
        "from pytest_spectron.testing import SpectronMock\n"
        "real_sleep = time.sleep\n"
        "with SpectronMock() as mock:\n"
        "    print('surrealdb_memory' in sys.modules)\n"
        "    from surrealdb_memory import Memory\n"
        "    mock.fail('state', 503, times=2)\n"
        "    with Memory(mock.context, endpoint=mock.endpoint, api_key=mock.api_key) as memory:\n"
        "        memory.state()\n"
        "    print(mock.clock.sleeps, time.sleep is real_sleep)\n"
        "from surrealdb_memory import _transport\n"
        "print(_transport.time is time)\n"
    )
    assert lines == ["False", "[0.25, 0.5] True", "True"]


@pytest.mark.skipif(
    importlib.util.find_spec("httpx2") is None, reason="httpx2 is not installed (Python 3.11+)"
)
def test_httpx2_is_patched_only_once_the_application_imports_it() -> None:
    """A mock imports no httpx2; httpx2 imported while it runs is answered, and left once done."""
    lines = run(
        "import sys\n"
        "from pytest_spectron.testing import SpectronMock\n"
        "with SpectronMock() as mock:\n"
        "    print('httpx2' in sys.modules)\n"
        "    import httpx2\n"
        "    original = httpx2.Client._transport_for_url\n"
        "    with httpx2.Client() as client:\n"
        "        print(client.get(mock.endpoint + '/api/v1/ctx/state').status_code)\n"
        "print(original is not httpx2.Client._transport_for_url)\n"
        "mock.assert_attempts('state', 1)\n"
    )
    assert lines == ["False", "401", "True"]


def test_a_test_using_the_mock_loads_neither_the_loopback_server_nor_live_mode() -> None:
    """A mock answering a bound client imports no loopback server, forwarder or status matrix."""
    lines = run(
        "import sys\n"
        "from pytest_spectron.testing import SpectronMock\n"
        "with SpectronMock() as mock, mock.client() as client:\n"
        "    client.state()\n"
        "unused = ('transports.loopback', 'faults._matrix', 'transports._upstream')\n"
        "print([name for name in sys.modules\n"
        "       if name.startswith(tuple('pytest_spectron.testing.' + n for n in unused))])\n"
    )
    assert lines == ["[]"]


def test_trio_is_instrumented_while_tracked_and_everything_is_restored_after() -> None:
    """trio, imported before or while tracked, gets the owners' instrument; the last undoes it."""
    lines = run(
        "import asyncio, sys\n"
        "from pytest_spectron.testing.transports._registry import tracking_threads\n"
        "create_task = asyncio.BaseEventLoop.create_task\n"
        "with tracking_threads():\n"
        "    import trio, trio.lowlevel\n"
        "    from trio._core import _run\n"
        "    with tracking_threads():\n"
        "        pass\n"
        "    print(trio.run is _run.run, trio.lowlevel.start_guest_run is _run.start_guest_run,\n"
        "          asyncio.BaseEventLoop.create_task is create_task)\n"
        "print(trio.run is _run.run, trio.lowlevel.start_guest_run is _run.start_guest_run,\n"
        "      asyncio.BaseEventLoop.create_task is create_task)\n"
    )
    # Whether trio is imported before (an old httpcore imports it) or while tracked, it is patched.
    assert lines == ["False False False", "True True True"]
