"""The notes assistant's test suite: every pytest-spectron fixture, marker and assertion at work.

It runs against the embedded fake (``pytest``), or in live mode in front of a real Spectron
(``pytest --spectron-upstream=URL``, see docs/live.md): the same faults, clock and assertions,
with the state kept upstream. The one test that seeds the fake is marked ``spectron_fake_only``,
so live mode skips it.

Explored (``make explore``, docs/explore.md), each passing test runs again under each failure of
each Spectron call it makes. The tests that check the app's results make them conditional on the
failure explored (``failed_for_good``); those that check the retry mechanics under a fault of
their own skip the explored runs.
"""

from __future__ import annotations

import json
import urllib.request

import pytest
from notes_assistant import NotesAssistant, StatusLight

from pytest_spectron import AsyncSpectron, MatrixCase, Spectron, SpectronMock, VirtualClock
from pytest_spectron.testing import LoopbackServer


def failed_for_good(spectron_mock: SpectronMock, op: str | None = None) -> bool:
    """Whether exploration failed a call (of ``op``) for good: not once, which a retry absorbs."""
    return any(fault.times is None for fault in spectron_mock.injected(op))


def skip_when_explored(spectron_mock: SpectronMock) -> None:
    """This test checks the retry mechanics under its own fault: another fault changes them."""
    if spectron_mock.injected():
        pytest.skip("checks the client's retries under its own fault only")


@pytest.fixture
def assistant(spectron_mock: SpectronMock) -> NotesAssistant:
    """The application, wired the way production wires it: its own client, our endpoint."""
    client = Spectron(
        context=spectron_mock.context,
        endpoint=spectron_mock.endpoint,
        api_key=spectron_mock.api_key,
    )
    return NotesAssistant(client)


def test_notes_are_saved_and_found(assistant: NotesAssistant, spectron_mock: SpectronMock) -> None:
    """The happy path runs against the embedded fake: no server needed."""
    saved = assistant.add_note("The wifi password is on the fridge")
    found = assistant.find("wifi password")
    if not failed_for_good(spectron_mock):
        assert saved == "Saved."
        assert found == ["The wifi password is on the fridge"]


@pytest.mark.spectron_fault("state", status=503, times=2)
def test_a_flaky_spectron_is_retried_without_waiting(
    assistant: NotesAssistant, spectron_mock: SpectronMock, spectron_clock: VirtualClock
) -> None:
    """Two 503s are absorbed by the client's retries; the backoff runs on the virtual clock."""
    skip_when_explored(spectron_mock)
    assert assistant.is_available()
    spectron_mock.assert_attempts("state", 3)
    assert spectron_clock.sleeps == [0.25, 0.5]


@pytest.mark.spectron_fault("state", status=503)
def test_a_spectron_that_stays_down_is_reported(
    assistant: NotesAssistant, spectron_mock: SpectronMock, spectron_clock: VirtualClock
) -> None:
    """Four attempts, three waits, then the app says Spectron is unavailable."""
    assert not assistant.is_available()
    spectron_mock.assert_attempts("state", 4)
    spectron_clock.assert_backoff([0.25, 0.5, 1.0])


@pytest.mark.asyncio
@pytest.mark.spectron_fault("state", status=503, times=1)
async def test_the_status_light_waits_out_a_short_outage(
    async_spectron: AsyncSpectron, spectron_clock: VirtualClock
) -> None:
    """One 503 and a 0.25 s backoff fit in the light's half second: it shows up."""
    assert await StatusLight(async_spectron).check() == "up"
    assert spectron_clock.now == 0.25


@pytest.mark.asyncio
@pytest.mark.spectron_fault("state", status=503, times=3)
async def test_the_status_light_shows_slow_when_retries_outlast_its_deadline(
    async_spectron: AsyncSpectron, spectron_mock: SpectronMock, spectron_clock: VirtualClock
) -> None:
    """Three 503s need 1.75 s of backoff: the deadline fires at 0.5 s, as in production.

    The event loop runs on the virtual clock, so the deadline and the backoff share one time
    and the test takes milliseconds.
    """
    assert await StatusLight(async_spectron).check() == "slow"
    assert spectron_clock.now == 0.5
    spectron_mock.assert_attempts("state", 2)


@pytest.mark.spectron_fault("remember", error="connect", times=1)
def test_a_dropped_connection_does_not_duplicate_a_note(
    assistant: NotesAssistant, spectron_mock: SpectronMock
) -> None:
    """``remember`` is retried under one Idempotency-Key, and the fake stores the note once."""
    skip_when_explored(spectron_mock)
    assert assistant.add_note("Buy oat milk") == "Saved."
    spectron_mock.assert_idempotent_retries("remember")
    assert assistant.find("oat milk") == ["Buy oat milk"]


@pytest.mark.spectron_fault("remember", status=429, retry_after=30)
def test_rate_limits_are_explained_not_retried(
    assistant: NotesAssistant, spectron_mock: SpectronMock
) -> None:
    """A 429 is never retried; the user is told when to try again."""
    assert assistant.add_note("too fast") == "Spectron is busy: try again in 30 s."
    spectron_mock.assert_not_retried("remember")


@pytest.mark.spectron_fault("*", status=401)
def test_a_bad_key_gets_a_useful_message(assistant: NotesAssistant) -> None:
    """Every call fails with 401; the message says what to fix."""
    assert "check SPECTRON_API_KEY" in assistant.add_note("anything")


def test_chat_falls_back_to_the_last_good_answer(
    assistant: NotesAssistant, spectron_mock: SpectronMock
) -> None:
    """A chat outage (sent once: chat is a write) repeats the cached answer."""
    skip_when_explored(spectron_mock)
    assistant.add_note("Standup is at 9:30")
    first = assistant.ask("When is standup?")
    assert first.source == "spectron"

    spectron_mock.fail("chat", 502)
    again = assistant.ask("When is standup?")

    assert again == type(first)(first.text, "cache")
    spectron_mock.assert_attempts("chat", 2)


@pytest.mark.spectron_fault("chat", error="stream_cut", after=1)
def test_a_cut_stream_keeps_what_arrived(assistant: NotesAssistant) -> None:
    """A stream cut after one frame keeps the partial answer and says it was cut."""
    assistant.add_note("The office closes at 6pm")
    assert assistant.ask_streaming("When does the office close?").endswith(
        "[…the answer was cut off]"
    )


@pytest.mark.spectron_matrix("chat", retry_class="write")  # ask() chats plainly: no stream_cut
def test_asking_never_crashes(assistant: NotesAssistant, spectron_case: MatrixCase) -> None:
    """Whatever way a plain ``chat`` fails, the assistant answers something and never raises."""
    answer = assistant.ask("Anything?")
    assert answer.source == "unavailable"
    assert answer.text


@pytest.mark.spectron_fake_only
def test_notes_seeded_in_the_fake_are_found(
    assistant: NotesAssistant, spectron_mock: SpectronMock
) -> None:
    """State seeded straight into the fake is found through the app (live mode has no fake)."""
    spectron_mock.fake.add_fact(spectron_mock.context, "The boiler code is 4821")
    found = assistant.find("boiler code")
    if not failed_for_good(spectron_mock, "recall"):
        assert found == ["The boiler code is 4821"]


def test_the_loopback_server_serves_other_languages(
    spectron_server: LoopbackServer, spectron_mock: SpectronMock
) -> None:
    """A client that is not httpx (here urllib) sees the same fake, over a real socket."""
    skip_when_explored(spectron_mock)
    request = urllib.request.Request(
        f"{spectron_server.url}/api/v1/{spectron_mock.context}/state",
        headers={"Authorization": f"Bearer {spectron_mock.api_key}"},
    )
    with urllib.request.urlopen(request, timeout=5) as answer:
        assert "knowledge" in json.loads(answer.read())
    spectron_mock.assert_attempts("state", 1)
