"""A second Spectron-backed application, on the official SDK (``surrealdb-memory``)."""

from sdk_notes.app import Journal, search_async

__all__ = ["Journal", "search_async"]
