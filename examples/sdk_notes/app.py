"""A notes journal on the official SDK (``surrealdb-memory``), not on pytest-spectron's client.

Its retries are the SDK's own (reads and ``remember``, on 5xx answers and network failures);
the journal turns the SDK's exceptions into messages a user can act on, and answers questions
from a streamed chat, with a fallback when the stream breaks.
"""

from __future__ import annotations

from collections.abc import Iterator

import requests
from surrealdb_memory import AsyncMemory, ChatChunk, Memory, MemoryAPIError, MemoryAuthError

FALLBACK = "I cannot answer right now; please ask again in a minute."


class Journal:
    """Notes kept in Spectron through the SDK's blocking client."""

    def __init__(self, memory: Memory) -> None:
        self.memory = memory

    def write(self, text: str) -> str:
        """Remember a note; a message for the user."""
        try:
            self.memory.remember(text, labels=["kind=note"])
        except MemoryAuthError:
            return "Spectron rejected our key: check SPECTRON_API_KEY."
        except MemoryAPIError as error:
            if error.status_code == 0:
                return "Spectron is unreachable; your note was not saved."
            return f"Spectron failed ({error.status_code}); your note was not saved."
        return "Saved."

    def search(self, query: str) -> list[str]:
        """The notes that best match ``query``; empty when Spectron cannot answer."""
        try:
            return [hit.text for hit in self.memory.recall(query, k=5).hits]
        except MemoryAPIError:
            return []

    def is_up(self) -> bool:
        """Whether Spectron answers a read, after the SDK's retries."""
        try:
            self.memory.state()
        except MemoryAPIError:
            return False
        return True

    def ask(self, question: str) -> str:
        """Spectron's streamed answer, or the fallback when it fails or breaks off."""
        try:
            chunks = self.memory.chat(question, stream=True)
            assert isinstance(chunks, Iterator)
            return "".join(_deltas(chunks))
        except (MemoryAPIError, requests.RequestException):
            return FALLBACK


def _deltas(chunks: Iterator[ChatChunk]) -> Iterator[str]:
    for chunk in chunks:
        yield chunk.delta


async def search_async(memory: AsyncMemory, query: str) -> list[str]:
    """``Journal.search`` for the SDK's async client."""
    try:
        return [hit.text for hit in (await memory.recall(query, k=5)).hits]
    except MemoryAPIError:
        return []
