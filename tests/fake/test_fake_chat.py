"""Chat and sessions: replies come from memory, turns are recorded, streams say the same."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from pytest_spectron import AsyncSpectron, FakeSpectron, Spectron, SpectronNotFoundError
from pytest_spectron.testing._cli import STREAM_FORMATS as CLI_STREAM_FORMATS
from pytest_spectron.testing._cli import _parser
from pytest_spectron.testing.fake._render import DEFAULT_STREAM_FORMAT, STREAM_FORMATS
from pytest_spectron.testing.fake.handlers._memory import NOTHING_REMEMBERED


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


# The official Python SDK (surrealdb_memory/_streaming.py) reads a frame as the end of the reply,
# keeping none of its text: `if event == "done" or data.get("done"): return ChatChunk(done=True,
# trace_id=trace_id, session_id=session_id, raw=data)`. So Spectron sends every piece of text on a
# `"done": false` frame and ends with an `event: done` frame that carries no delta.
SPECTRON_STREAM = [
    'data: {"delta": "I", "done": false, "traceId": "trc-000001", "sessionId": "sess-000001"}',
    'data: {"delta": " don\'t", "done": false, "traceId": "trc-000001", '
    '"sessionId": "sess-000001"}',
]


def _stream_frames(http: httpx.Client, message: str = "hi") -> list[str]:
    answer = http.post(
        "/api/v1/ctx/chat",
        json={"message": message, "stream": True},
        headers={"authorization": "Bearer key"},
    )
    assert answer.headers["content-type"] == "text/event-stream"
    return answer.text.split("\n\n")


def test_streamed_chat_ends_as_spectron_ends_it(http: httpx.Client) -> None:
    """Deltas with ``done: false``, then ``event: done`` with ids and reply, then ``[DONE]``."""
    frames = _stream_frames(http)
    reply = "I don't remember anything about that."
    ids = {"traceId": "trc-000001", "sessionId": "sess-000001"}

    deltas = [json.loads(frame.removeprefix("data: ")) for frame in frames[:-3]]

    assert frames[:2] == SPECTRON_STREAM
    assert [delta["done"] for delta in deltas] == [False] * len(deltas)
    assert "".join(delta["delta"] for delta in deltas) == reply
    assert frames[-3:] == [
        "event: done\ndata: " + json.dumps({**ids, "reply": reply}),
        "data: [DONE]",
        "",
    ]


def test_token_stream_format_sends_token_frames(http: httpx.Client, fake: FakeSpectron) -> None:
    """``stream_format="token"``: ``{"token": …}`` frames, then ``[DONE]``, for other parsers."""
    fake.stream_format = "token"

    frames = _stream_frames(http)

    assert frames[0] == 'data: {"token": "I", "traceId": "trc-000001", "sessionId": "sess-000001"}'
    assert frames[-2:] == ["data: [DONE]", ""]
    assert not any("event:" in frame or '"done"' in frame for frame in frames)


def test_done_flag_stream_format_ends_on_the_last_delta(
    http: httpx.Client, fake: FakeSpectron
) -> None:
    """``stream_format="done_flag"``: the last piece of text rides on ``"done": true``."""
    fake.stream_format = "done_flag"

    frames = _stream_frames(http)

    assert frames[-3:] == [
        'data: {"delta": " that.", "done": true, "traceId": "trc-000001", '
        '"sessionId": "sess-000001"}',
        "data: [DONE]",
        "",
    ]


def test_every_stream_format_reads_back_as_the_reply(fake: FakeSpectron, client: Spectron) -> None:
    """Our client reads each stream format back as the whole reply, ending with one done chunk."""
    for stream_format in STREAM_FORMATS:
        fake.stream_format = stream_format
        with client.chat("anything?", stream=True) as stream:
            chunks = list(stream)
        assert "".join(chunk.delta for chunk in chunks) == NOTHING_REMEMBERED, stream_format
        assert [chunk.done for chunk in chunks].count(True) == 1, stream_format


def test_unknown_stream_format_names_the_accepted_ones(fake: FakeSpectron) -> None:
    """A bad stream format is refused at once with every accepted name."""
    with pytest.raises(ValueError, match="'sse'") as caught:
        fake.stream_format = "sse"  # type: ignore[assignment]

    assert all(f"'{name}'" in str(caught.value) for name in STREAM_FORMATS)


def test_cli_offers_the_fakes_stream_formats() -> None:
    """``serve --stream-format`` offers exactly the fake's formats, with the fake's default."""
    parsed = _parser().parse_args(["serve"])

    assert (CLI_STREAM_FORMATS, parsed.stream_format) == (STREAM_FORMATS, DEFAULT_STREAM_FORMAT)


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
