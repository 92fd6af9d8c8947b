"""A small Spectron-backed application: a notes assistant that degrades gracefully."""

from notes_assistant.app import Answer, NotesAssistant, StatusLight

__all__ = ["Answer", "NotesAssistant", "StatusLight"]
