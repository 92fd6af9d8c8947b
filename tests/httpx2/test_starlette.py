"""A FastAPI app that calls Spectron, tested through Starlette's TestClient with ``spectron_mock``.

Starlette's TestClient is an httpx2 client where httpx2 is installed, an httpx one otherwise:
either way its requests reach the app, and the app's requests to Spectron reach the fake.
"""

from __future__ import annotations

import importlib
import importlib.util
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any

import pytest

from pytest_spectron.client import Spectron, SpectronError
from pytest_spectron.testing import SpectronMock, VirtualClock

if TYPE_CHECKING:
    from fastapi import FastAPI

fastapi = pytest.importorskip(
    "fastapi", reason="FastAPI is not installed (Python 3.11+, test extra)"
)
HAS_HTTPX2 = importlib.util.find_spec("httpx2") is not None
NEEDS_HTTPX2 = pytest.mark.skipif(
    not HAS_HTTPX2, reason="httpx2 is not installed (Python 3.11+, test extra)"
)
with warnings.catch_warnings():
    # Where only httpx is installed, Starlette 1.2+ says once, as it is imported, that its
    # TestClient would rather have httpx2: Starlette's advice to the environment, not a fault.
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`", UserWarning)
    TestClient = importlib.import_module("starlette.testclient").TestClient

Connect = Callable[[], AbstractContextManager[Spectron]]
"""How the app opens its Spectron client, per request."""


def notes_app(connect: Connect) -> FastAPI:
    """A notes service: ``POST /notes?text=`` remembers, ``GET /notes?q=`` recalls."""
    app: FastAPI = fastapi.FastAPI()

    @app.post("/notes")
    def add_note(text: str) -> dict[str, str]:
        with connect() as spectron:
            spectron.remember(text)
        return {"status": "stored"}

    @app.get("/notes")
    def find_notes(q: str) -> dict[str, list[str]]:
        with connect() as spectron:
            hits = spectron.recall(q).hits
        return {"notes": [hit.text for hit in hits]}

    def memory_unavailable(request: Any, error: Exception) -> Any:
        return fastapi.responses.JSONResponse({"detail": "memory unavailable"}, status_code=503)

    app.add_exception_handler(SpectronError, memory_unavailable)
    return app


@pytest.fixture(params=["httpx", pytest.param("httpx2", marks=NEEDS_HTTPX2)])
def app_client(request: pytest.FixtureRequest, spectron_mock: SpectronMock) -> Iterator[Any]:
    """The app in Starlette's TestClient; its Spectron client sends with httpx, or with httpx2."""

    @contextmanager
    def connect() -> Iterator[Spectron]:
        if request.param == "httpx":
            with spectron_mock.client() as spectron:
                yield spectron
            return
        import httpx2

        with httpx2.Client() as http, spectron_mock.client(http_client=http) as spectron:
            yield spectron

    with TestClient(notes_app(connect)) as client:
        yield client


def test_notes_are_stored_and_found_through_the_mock(
    app_client: Any, spectron_mock: SpectronMock
) -> None:
    """The app's calls reach the fake: a note stored is found again."""
    assert app_client.post("/notes", params={"text": "tea at five"}).json() == {"status": "stored"}

    assert app_client.get("/notes", params={"q": "tea"}).json() == {"notes": ["tea at five"]}
    spectron_mock.assert_attempts("remember", 1)


def test_journal_holds_only_spectrons_requests(
    app_client: Any, spectron_mock: SpectronMock
) -> None:
    """The TestClient's own requests go to the app, untouched by the mock."""
    app_client.post("/notes", params={"text": "tea at five"})
    app_client.get("/notes", params={"q": "tea"})

    assert [attempt.operation for attempt in spectron_mock.attempts()] == ["remember", "recall"]


@pytest.mark.spectron_fault("recall", 503)
def test_outage_becomes_the_apps_own_503(app_client: Any, spectron_mock: SpectronMock) -> None:
    """A 503 from Spectron is not retried (recall is a write) and the app answers 503."""
    response = app_client.get("/notes", params={"q": "tea"})

    assert response.status_code == 503
    assert response.json() == {"detail": "memory unavailable"}
    spectron_mock.assert_not_retried("recall")


def test_retries_run_on_the_virtual_clock(
    app_client: Any, spectron_mock: SpectronMock, spectron_clock: VirtualClock
) -> None:
    """Two 503s on remember: retried with one idempotency key, waits on the virtual clock."""
    spectron_mock.fail("remember", 503, 503)

    assert app_client.post("/notes", params={"text": "tea"}).status_code == 200
    spectron_mock.assert_idempotent_retries("remember")
    assert spectron_clock.sleeps == [0.25, 0.5]


def test_test_client_sends_with_httpx2_where_installed() -> None:
    """Beside httpx2, Starlette's TestClient is an httpx2 client; with httpx alone, httpx's."""
    library = importlib.import_module("httpx2" if HAS_HTTPX2 else "httpx")

    assert issubclass(TestClient, library.Client)


@NEEDS_HTTPX2
def test_test_client_imports_without_a_warning_beside_httpx2() -> None:
    """With httpx2 installed, importing Starlette's TestClient warns of nothing."""
    completed = subprocess.run(
        [sys.executable, "-W", "error", "-c", "import starlette.testclient"],
        capture_output=True,
        text=True,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
