"""Shared fixtures of the project's own test suite."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

# _intercept_httpx is imported here so pytester's in-process runs find it loaded and never
# import it again: respx allows one mocker class per name, and a second import would define
# "spectron" twice.
import pytest_spectron.testing.transports._intercept_httpx  # noqa: F401
from pytest_spectron.testing.transports.loopback import is_loopback_host

# Property tests: a fast, derandomized profile for `make test`; `--hypothesis-profile=deep` for
# thousands of examples.
settings.register_profile(
    "fast",
    max_examples=40,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("deep", max_examples=2000, deadline=None)
settings.load_profile("fast")

OPENAPI_DOCUMENT = Path(__file__).resolve().parent.parent / "shared" / "spectron" / "openapi.json"


@pytest.fixture(scope="session")
def openapi_path() -> Path:
    """Where Spectron's official OpenAPI document is, in ../shared.

    Where it is absent the tests that need it skip, except under ``CI=true``: CI must check
    against the document, so its absence fails the run there.
    """
    if not OPENAPI_DOCUMENT.is_file():
        message = (
            f"Spectron's OpenAPI document is not at {OPENAPI_DOCUMENT}: the tests that check "
            "against it need the shared/ folder beside this checkout"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (CI=true: required)", pytrace=False)
        pytest.skip(message)
    return OPENAPI_DOCUMENT


@pytest.fixture(scope="session")
def openapi_document(openapi_path: Path) -> dict[str, Any]:
    """Spectron's official OpenAPI document, parsed (see ``openapi_path``)."""
    document: dict[str, Any] = json.loads(openapi_path.read_text())
    return document


def _is_loopback(address: object) -> bool:
    # A tuple is an IP address and port; anything else is a Unix socket path.
    return not isinstance(address, tuple) or is_loopback_host(str(address[0]))


@pytest.fixture(autouse=True, scope="session")
def _loopback_only() -> Iterator[None]:
    """Fail any connection beyond the loopback interface while the suite runs."""
    connect, connect_ex = socket.socket.connect, socket.socket.connect_ex

    def guard(address: object) -> None:
        if not _is_loopback(address):
            raise AssertionError(f"the test suite tried to reach {address!r}: loopback only")

    def guarded_connect(self: socket.socket, address: Any) -> None:
        guard(address)
        connect(self, address)

    def guarded_connect_ex(self: socket.socket, address: Any) -> int:
        guard(address)
        return connect_ex(self, address)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", guarded_connect)
        patch.setattr(socket.socket, "connect_ex", guarded_connect_ex)
        yield
