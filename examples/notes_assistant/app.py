"""The notes assistant: remembers notes, finds them, answers questions, and never crashes on
Spectron's bad days.

- Retries are the client's business: reads and ``remember`` are retried by Spectron's own policy.
- 401, 403, 404 and 429 become a friendly message the user can act on.
- A 5xx or a network failure while answering falls back to the last good answer to the same
  question, if there is one.
- The status light (async) gives Spectron half a second: a Spectron still retrying by then
  shows as slow, never as a hung page.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Literal

from pytest_spectron import (
    AsyncSpectron,
    Spectron,
    SpectronAPIError,
    SpectronAuthError,
    SpectronConnectionError,
    SpectronError,
    SpectronNotFoundError,
    SpectronRateLimitError,
    SpectronScopeError,
    SpectronServerError,
    SpectronStreamError,
)

Source = Literal["spectron", "cache", "unavailable"]
Light = Literal["up", "slow", "down"]


@dataclass(frozen=True)
class Answer:
    """What the assistant says, and where it came from."""

    text: str
    source: Source


class NotesAssistant:
    """Notes on top of Spectron memory."""

    def __init__(self, client: Spectron) -> None:
        self.client = client
        self._answers: dict[str, str] = {}

    def add_note(self, text: str) -> str:
        """Remember a note; returns a message for the user."""
        try:
            self.client.remember(text, labels=["kind=note"])
        except SpectronError as error:
            return self._apology(error)
        return "Saved."

    def find(self, query: str) -> list[str]:
        """The notes that best match ``query``, best first; empty when Spectron is unavailable."""
        try:
            return [hit.text for hit in self.client.recall(query, k=5).hits]
        except (SpectronServerError, SpectronConnectionError):
            return []

    def ask(self, question: str) -> Answer:
        """Answer from memory; on an outage, repeat the last good answer to the same question."""
        try:
            reply = self.client.chat(question).reply
        except (SpectronServerError, SpectronConnectionError) as error:
            if question in self._answers:
                return Answer(self._answers[question], "cache")
            return Answer(self._apology(error), "unavailable")
        except SpectronError as error:
            return Answer(self._apology(error), "unavailable")
        self._answers[question] = reply
        return Answer(reply, "spectron")

    def ask_streaming(self, question: str) -> str:
        """The streamed answer as one string; a cut stream keeps what arrived and says so."""
        received: list[str] = []
        try:
            with self.client.chat(question, stream=True) as stream:
                received.extend(chunk.delta for chunk in stream)
        except SpectronStreamError:
            return "".join(received) + " […the answer was cut off]"
        except SpectronError as error:
            return self._apology(error)
        return "".join(received)

    def is_available(self) -> bool:
        """Whether Spectron answers (its reads are retried on 5xx by the client's policy)."""
        try:
            self.client.state()
        except SpectronError:
            return False
        return True

    @staticmethod
    def _apology(error: SpectronError) -> str:
        if isinstance(error, SpectronAuthError):
            return "Spectron did not accept the API key: check SPECTRON_API_KEY."
        if isinstance(error, SpectronScopeError):
            return "This key may not do that here: ask an admin for access."
        if isinstance(error, SpectronNotFoundError):
            return "This notebook does not exist on Spectron."
        if isinstance(error, SpectronRateLimitError):
            wait = f" in {error.retry_after:.0f} s" if error.retry_after is not None else " later"
            return f"Spectron is busy: try again{wait}."
        if isinstance(error, SpectronAPIError):
            return f"Spectron refused the request ({error.status_code})."
        return "Spectron is unreachable right now: try again in a moment."


class StatusLight:
    """The assistant's status light, for an async web page: Spectron's state within a deadline."""

    def __init__(self, client: AsyncSpectron, deadline: float = 0.5) -> None:
        self.client = client
        self.deadline = deadline

    async def check(self) -> Light:
        """``up``, ``slow`` (no answer within the deadline, retries included) or ``down``."""
        try:
            await asyncio.wait_for(self.client.state(), self.deadline)
        except asyncio.TimeoutError:  # TimeoutError itself from Python 3.11 on
            return "slow"
        except SpectronError:
            return "down"
        return "up"
