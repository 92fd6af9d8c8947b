"""A small Spectron-backed application: a notes assistant that degrades gracefully."""

from notes_assistant.app import Answer, NotesAssistant

__all__ = ["Answer", "NotesAssistant"]
