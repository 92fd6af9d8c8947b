"""The fake, driven as a user drives it: through the real client, in-process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pytest_spectron import AsyncSpectron, FakeSpectron, Spectron
from pytest_spectron.testing import ServiceTransport, SpectronService

ENDPOINT = "http://spectron.test"


@pytest.fixture
def fake() -> FakeSpectron:
    """A fresh fake."""
    return FakeSpectron()


@pytest.fixture
def service(fake: FakeSpectron) -> SpectronService:
    """The fake behind a service, with no faults."""
    return SpectronService(fake)


@pytest.fixture
def client(service: SpectronService) -> Iterator[Spectron]:
    """A sync client answered by the fake."""
    with Spectron("ctx", ENDPOINT, "key", transport=ServiceTransport(service)) as client:
        yield client


@pytest.fixture
def async_client(service: SpectronService) -> AsyncSpectron:
    """An async client answered by the fake."""
    return AsyncSpectron("ctx", ENDPOINT, "key", transport=ServiceTransport(service))
