"""Methods replaced on another library's classes, and put back unless someone patched above."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["ClassPatches"]


class ClassPatches:
    """The methods one interceptor replaced: the class, the name, the original, the replacement."""

    def __init__(self) -> None:
        self._patches: list[tuple[type, str, Any, Any]] = []

    def __bool__(self) -> bool:
        return bool(self._patches)

    def patch(self, owner: type, name: str, make: Callable[[Any], Any]) -> None:
        """Replace ``owner.name`` with ``make(original)``."""
        original = owner.__dict__[name]
        replacement = make(original)
        setattr(owner, name, replacement)
        self._patches.append((owner, name, original, replacement))

    def undo(self) -> None:
        """Put back each original, newest first, unless another patch now sits on top of it.

        Left in place under another library's patch, a replacement answers only for running
        mocks and passes every other request on, so it does no harm until that one lets go.
        """
        while self._patches:
            owner, name, original, replacement = self._patches.pop()
            if owner.__dict__.get(name) is replacement:
                setattr(owner, name, original)
