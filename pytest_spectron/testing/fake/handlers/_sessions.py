"""Sessions and their turns: opened on demand by writes and chats, or created explicitly."""

from __future__ import annotations

import dataclasses
from typing import Any

from pytest_spectron.client import models as m
from pytest_spectron.testing.fake._auth import filed_region
from pytest_spectron.testing.fake._call import (
    NO_CONTENT,
    Answer,
    Call,
    handles,
    invalid,
    ok,
)
from pytest_spectron.testing.fake._context import ContextState
from pytest_spectron.testing.fake._scoping import freeze_scopes
from pytest_spectron.testing.fake._store import (
    Ids,
    Scopes,
    StoredSession,
    StoredTurn,
)
from pytest_spectron.testing.fake._text import best_first

__all__ = ["append_turn", "open_session"]

TURN_LIMIT = 100
"""Turns listed when ``limit`` is not given."""
MAX_TURN_LIMIT = 500
"""The document's cap on ``limit``; a larger one is served as 500."""


def open_session(
    state: ContextState,
    ids: Ids,
    now: str,
    session_id: str | None = None,
    *,
    field_name: str = "session_id",
    scopes: Scopes = (),
    region: Scopes = (),
    metadata: Any = None,
) -> StoredSession:
    """The session a body names in ``field_name``, or a new one (``scopes``, filed in
    ``region``) when it names none.

    An unknown session is a 400: the operations that take one in their body list no 404. A
    session outside the caller's region is unknown to it, as to every read.
    """
    if session_id is not None:
        session = state.sessions.get(session_id)
        if session is None:
            raise invalid(
                field_name,
                f"no session {session_id!r} in this context: leave it out to open a new session, "
                "or create one first with sessions.create",
            )
        return session
    session = StoredSession(ids.next("sess"), now, scopes=scopes, region=region, metadata=metadata)
    state.sessions[session.id] = session
    return session


def append_turn(
    state: ContextState, ids: Ids, now: str, session: StoredSession, role: str, content: str
) -> StoredTurn:
    """Record a turn at the end of ``session``, which the call already holds (so past the gate:
    a key that may write but not read still adds to the session it opened)."""
    current = state.sessions.stored(session.id)
    turn = StoredTurn(ids.next("turn"), session.id, role, content, len(current.turns) + 1, now)
    state.sessions[session.id] = dataclasses.replace(current, turns=(*current.turns, turn))
    return turn


def _session(call: Call) -> StoredSession:
    """The session the path names; a 404, as ``sessions.delete`` and ``sessions.turns`` list,
    for one outside the caller's region too (the official SDK: "404 — addressed entity /
    document / session does not exist")."""
    return call.named(call.state.sessions, "session_id", "session")


@handles("sessions.create")
def create(call: Call) -> Answer:
    """Open a session (201) with its scopes and metadata."""
    body = call.body_as(m.CreateSessionRequest)
    scopes = freeze_scopes(body.scopes)
    session = open_session(
        call.state,
        call.ids,
        call.now,
        scopes=scopes,
        region=filed_region(scopes, call.caller.grants),
        metadata=body.metadata,
    )
    return ok(
        m.SessionResponse(
            id=session.id,
            created_at=session.created_at,
            scopes=[list(clause) for clause in session.scopes],
        ),
        201,
    )


@handles("sessions.delete")
def delete(call: Call) -> Answer:
    """Delete a session and its turns (204)."""
    del call.state.sessions[_session(call).id]
    return NO_CONTENT


@handles("sessions.turns")
def turns(call: Call) -> Answer:
    """A session's turns, oldest first, paged by offset and limit."""
    session = _session(call)
    offset = call.integer("offset", 0)
    limit = call.integer("limit", TURN_LIMIT, maximum=MAX_TURN_LIMIT)
    return ok(
        m.TurnListResponse(
            turns=[
                m.TurnResponse(
                    id=turn.id,
                    session=turn.session_id,
                    role=turn.role,
                    content=turn.content,
                    seq=turn.seq,
                    created_at=turn.created_at,
                )
                for turn in session.turns[offset : offset + limit]
            ]
        )
    )


@handles("sessions.context")
def context(call: Call) -> Answer:
    """The session's turns that match the query, in the order they happened.

    An unknown session has no turns, so no context: the document lists no 404 here. Nor has
    a session outside the caller's region, which is unknown to it.
    """
    body = call.body_as(m.SessionContextRequest)
    session = call.state.sessions.get(call.path["session_id"])
    turns = session.turns if session is not None else ()
    ranked = best_first(body.query, ((turn.content, turn) for turn in turns))
    # The matching turns, told in the order they happened.
    chosen = sorted((turn for _, turn in ranked), key=lambda turn: turn.seq)
    return ok(m.SessionContextResponse(context="\n".join(f"{t.role}: {t.content}" for t in chosen)))
