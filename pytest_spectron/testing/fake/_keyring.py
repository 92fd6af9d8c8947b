"""The keys the fake accepts: the ones a test configured, and the ones it minted itself."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable, Mapping

from pytest_spectron.testing.fake._auth import copy_grants
from pytest_spectron.testing.fake._store import Grants

__all__ = ["Keyring"]


class Keyring:
    """Configured keys (or "any key"), minted secrets by context, and secrets revoked since."""

    def __init__(self) -> None:
        self.configured: dict[str, Grants] | None = None
        """Key → grants when ``set_api_keys`` restricted the fake; None: any key, every grant."""
        self._minted: dict[str, tuple[str, str]] = {}
        self._revoked: set[str] = set()
        self._generations = itertools.count(1)

    def restrict(self, keys: Mapping[str, Mapping[str, Iterable[str]] | None] | None) -> None:
        """Accept only ``keys`` (each with its grants, None for all); None accepts any key."""
        self.configured = (
            None if keys is None else {key: copy_grants(grants) for key, grants in keys.items()}
        )

    def new_secret(self, key_id: str) -> str:
        """A fresh secret for key ``key_id``, in Spectron's ``sp-{id}-{secret}`` shape."""
        seed = f"{key_id}/{next(self._generations)}".encode()
        return f"sp-{key_id}-{hashlib.sha256(seed).hexdigest()[:32]}"

    def register(self, secret: str, context_id: str, key_name: str) -> None:
        """Accept ``secret`` from now on as key ``key_name`` of ``context_id``."""
        self._minted[secret] = (context_id, key_name)

    def revoke(self, secret: str) -> None:
        """Stop accepting a minted secret, even where any key would do."""
        if self._minted.pop(secret, None) is not None:
            self._revoked.add(secret)

    def minted(self, secret: str) -> tuple[str, str] | None:
        """(context, key name) of a minted secret still in force."""
        return self._minted.get(secret)

    def is_revoked(self, secret: str) -> bool:
        """Whether ``secret`` was minted, then rotated away or deleted."""
        return secret in self._revoked
