"""Chat and sessions: replies come from memory, turns are recorded, streams say the same."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from pytest_spectron import AsyncSpectron, FakeSpectron, Spectron, SpectronNotFoundError


def test_chat_answers_from_the_best_fact(client: Spectron) -> None:
    """The reply quotes the best matching fact."""
    client.remember("Standup is at 9:30")
    client.remember("Lunch is at noon")

    assert client.chat("when is standup?").reply == "Based on what I remember: Standup is at 9:30"


def test_chat_admits_when_nothing_matches(client: Spectron) -> None:
    """With no matching fact the reply says so."""
    assert client.chat("what is the wifi password?").reply == (
        "I don't remember anything about that."
    )


def test_chat_records_both_turns_in_its_session(client: Spectron) -> None:
    """A chat opens a session (or joins the one named) with a user and an assistant turn."""
    answer = client.chat("hello")
    client.chat("again", session_id=answer.session_id)

    turns = client.sessions.turns(answer.session_id).turns

    assert [(t.role, t.content) for t in turns][::2] == [("user", "hello"), ("user", "again")]
    assert [t.role for t in turns] == ["user", "assistant", "user", "assistant"]


def test_chat_leaves_a_response_trace(client: Spectron) -> None:
    """The trace id of a chat names a trace holding the message and the reply."""
    client.remember("The office closes at 6pm")
    answer = client.chat("when does the office close?")

    trace = client.traces.get(answer.trace_id)

    assert trace.query_text == "when does the office close?"
    assert trace.parent is not None
    assert trace.parent.response_text == answer.reply


def test_streamed_chat_sends_the_same_reply(client: Spectron) -> None:
    """The deltas of a streamed chat concatenate to the non-streamed reply; the last is done."""
    client.remember("The office closes at 6pm")
    reply = client.chat("when does the office close?").reply

    with client.chat("when does the office close?", stream=True) as stream:
        chunks = list(stream)

    assert "".join(chunk.delta for chunk in chunks) == reply
    assert [chunk.done for chunk in chunks] == [False] * (len(chunks) - 1) + [True]
    assert len(chunks) > 1
    assert stream.completed


def test_streamed_chat_is_server_sent_events(http: httpx.Client) -> None:
    """The stream is ``text/event-stream``: ``data:`` JSON frames, then ``data: [DONE]``."""
    answer = http.post(
        "/api/v1/ctx/chat",
        json={"message": "hi", "stream": True},
        headers={"authorization": "Bearer key"},
    )

    frames = answer.text.split("\n\n")

    assert answer.headers["content-type"] == "text/event-stream"
    assert frames[-2:] == ["data: [DONE]", ""]
    assert all(frame.startswith('data: {"delta": ') for frame in frames[:-2])


def test_async_streamed_chat_sends_the_same_reply(async_client: AsyncSpectron) -> None:
    """``async for`` over a streamed chat gives the non-streamed reply too."""

    async def main() -> tuple[str, str]:
        async with async_client:
            reply = (await async_client.chat("anything?")).reply
            stream = await async_client.chat("anything?", stream=True)
            deltas = [chunk.delta async for chunk in stream]
            return reply, "".join(deltas)

    reply, streamed = asyncio.run(main())
    assert streamed == reply


def test_created_session_keeps_its_scopes(client: Spectron, fake: FakeSpectron) -> None:
    """``sessions.create`` answers 201 with the normalised scopes, and stores them."""
    session = client.sessions.create(scopes="team/a")

    assert session.scopes == [["team/a"]]
    assert fake.sessions("ctx")[0].scopes == (("team/a",),)


def test_turns_page_with_offset_and_limit(client: Spectron) -> None:
    """``offset`` skips turns and ``limit`` caps them."""
    session = client.sessions.create()
    for number in range(5):
        client.remember(f"turn {number}", session_id=session.id)

    turns = client.sessions.turns(session.id, offset=1, limit=2).turns

    assert [turn.seq for turn in turns] == [2, 3]


def test_session_context_picks_the_matching_turns(client: Spectron) -> None:
    """The session context holds the turns that match the query, in the order they happened."""
    session = client.sessions.create()
    client.remember("we talked about tea", session_id=session.id)
    client.remember("then about the weather", session_id=session.id)
    client.remember("back to tea and biscuits", session_id=session.id)

    context = client.sessions.context(session.id, "tea").context

    assert context == "user: we talked about tea\nuser: back to tea and biscuits"


def test_deleted_session_is_gone(client: Spectron) -> None:
    """After ``sessions.delete`` its turns are a 404."""
    session = client.sessions.create()
    client.sessions.delete(session.id)

    with pytest.raises(SpectronNotFoundError):
        client.sessions.turns(session.id)


def test_context_of_an_unknown_session_is_empty(client: Spectron) -> None:
    """``sessions.context`` lists no 404: a session that does not exist has no context."""
    assert client.sessions.context("sess-999999", "tea").context == ""


def test_chat_in_an_unknown_session_is_a_400_naming_the_field(http: httpx.Client) -> None:
    """A ``sessionId`` that does not exist is an invalid request (chat lists no 404)."""
    answer = http.post(
        "/api/v1/ctx/chat",
        json={"message": "hi", "sessionId": "sess-404"},
        headers={"authorization": "Bearer key"},
    )

    assert (answer.status_code, answer.json()["errors"][0]["field"]) == (400, "sessionId")
