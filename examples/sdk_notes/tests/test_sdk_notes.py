"""The SDK-based journal's tests: the official SDK answered in-process by the same fake.

The application builds the SDK's own client from the mock's endpoint, context and key; faults,
the journal's assertions, the clock (the SDK's backoff) and the status matrix work as they do
for pytest-spectron's client.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sdk_notes import Journal, search_async
from sdk_notes.app import FALLBACK
from surrealdb_memory import AsyncMemory, Memory

from pytest_spectron import MatrixCase, SpectronMock, VirtualClock


@pytest.fixture
def journal(spectron_mock: SpectronMock) -> Iterator[Journal]:
    """The application, wired as production wires it: the SDK's client, the mock's endpoint."""
    with Memory(
        spectron_mock.context, endpoint=spectron_mock.endpoint, api_key=spectron_mock.api_key
    ) as memory:
        yield Journal(memory)


def test_notes_are_saved_and_found(journal: Journal) -> None:
    """The happy path, through the SDK, in-process."""
    assert journal.write("The attic key hangs by the door") == "Saved."
    assert journal.search("attic key") == ["The attic key hangs by the door"]


@pytest.mark.spectron_fault("state", status=503, times=2)
def test_two_503s_are_retried_by_the_sdk_without_waiting(
    journal: Journal, spectron_mock: SpectronMock, spectron_clock: VirtualClock
) -> None:
    """The SDK's own retries absorb two 503s; its backoff lands on the virtual clock."""
    assert journal.is_up()
    spectron_mock.assert_attempts("state", 3)
    assert spectron_clock.sleeps == [0.25, 0.5]


@pytest.mark.spectron_fault("remember", status=401)
def test_a_rejected_key_says_what_to_check(journal: Journal, spectron_mock: SpectronMock) -> None:
    """The SDK's MemoryAuthError becomes a message naming the setting; a 401 is not retried."""
    assert journal.write("anything") == "Spectron rejected our key: check SPECTRON_API_KEY."
    spectron_mock.assert_attempts("remember", 1)


@pytest.mark.spectron_fault("remember", error="connect")
def test_an_unreachable_spectron_is_reported_after_the_retries(
    journal: Journal, spectron_clock: VirtualClock
) -> None:
    """A refused connection every time: the SDK retries remember three times, then reports."""
    assert journal.write("anything") == "Spectron is unreachable; your note was not saved."
    assert spectron_clock.sleeps == [0.25, 0.5, 1.0]


@pytest.mark.spectron_fault("chat", error="stream_cut", after=2)
def test_a_broken_stream_falls_back(journal: Journal) -> None:
    """A stream cut mid-answer raises requests' own error under the SDK; the journal falls back."""
    journal.write("The boiler code is 4711")
    assert journal.ask("What is the boiler code?") == FALLBACK


@pytest.mark.spectron_matrix("state")
def test_every_failure_of_a_read_is_survived(
    journal: Journal,
    spectron_mock: SpectronMock,
    spectron_clock: VirtualClock,
    spectron_case: MatrixCase,
) -> None:
    """Every case of the status matrix: the SDK makes the policy's attempts and waits."""
    assert not journal.is_up()
    spectron_mock.assert_attempts("state", spectron_case.attempts)
    assert tuple(spectron_clock.sleeps) == spectron_case.sleeps


@pytest.mark.asyncio
@pytest.mark.spectron_fault("recall", status=503, times=1)
async def test_the_async_sdk_retries_on_the_clock_too(
    spectron_mock: SpectronMock, spectron_clock: VirtualClock
) -> None:
    """The SDK's aiohttp client, in-process: one 503 on recall is sent once (recall is a write)."""
    async with AsyncMemory(
        spectron_mock.context, endpoint=spectron_mock.endpoint, api_key=spectron_mock.api_key
    ) as memory:
        await memory.remember("The cellar light switch is behind the shelf")
        assert await search_async(memory, "cellar switch") == []
        assert await search_async(memory, "cellar switch") == [
            "The cellar light switch is behind the shelf"
        ]
    spectron_mock.assert_attempts("recall", 2)
    assert spectron_clock.sleeps == []
