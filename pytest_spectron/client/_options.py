"""Client options: validated once, at construction, so a bad argument fails before any request."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Final

import httpx

__all__ = ["DEFAULT_TIMEOUT", "NOT_GIVEN", "ClientOptions", "NotGiven", "TimeoutTypes"]

DEFAULT_TIMEOUT: Final = httpx.Timeout(30.0)

TimeoutTypes = float | httpx.Timeout | None
"""Seconds for every phase, an ``httpx.Timeout`` for finer control, or None for no timeout."""


class NotGiven:
    """Sentinel for "use the client's own setting" (None is a real value for ``timeout``)."""

    _instance: NotGiven | None = None

    def __new__(cls) -> NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __bool__(self) -> bool:
        return False


NOT_GIVEN: Final = NotGiven()


class _Secret(str):
    """An API key: usable as a string, never shown by ``repr``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'***'"


@dataclass(frozen=True)
class ClientOptions:
    """Everything a client needs besides its HTTP connection pool."""

    context: str
    endpoint: httpx.URL
    api_key: str
    timeout: httpx.Timeout
    max_retries: int

    @classmethod
    def create(
        cls,
        context: str,
        endpoint: str | httpx.URL,
        api_key: str,
        *,
        timeout: TimeoutTypes,
        max_retries: int,
    ) -> ClientOptions:
        """Validate the constructor's arguments; a TypeError or ValueError names a bad one."""
        return cls(
            context=_check_context(context),
            endpoint=_check_endpoint(endpoint),
            api_key=_check_api_key(api_key),
            timeout=_check_timeout(timeout),
            max_retries=_check_max_retries(max_retries),
        )

    def with_changes(
        self,
        *,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> ClientOptions:
        """A copy with the given settings changed, each validated like the constructor's."""
        changed = self
        if not isinstance(timeout, NotGiven):
            changed = replace(changed, timeout=_check_timeout(timeout))
        if not isinstance(max_retries, NotGiven):
            changed = replace(changed, max_retries=_check_max_retries(max_retries))
        return changed

    def __repr__(self) -> str:
        return (
            f"ClientOptions(context={self.context!r}, endpoint={str(self.endpoint)!r}, "
            f"api_key='***', timeout={self.timeout!r}, max_retries={self.max_retries})"
        )


def _check_context(context: object) -> str:
    if not isinstance(context, str):
        raise TypeError(f"context must be a str, got {type(context).__name__}")
    if not context.strip():
        raise ValueError("context must be a non-empty context id, got an empty string")
    return context


def _check_endpoint(endpoint: object) -> httpx.URL:
    if not isinstance(endpoint, str | httpx.URL):
        raise TypeError(f"endpoint must be a str or httpx.URL, got {type(endpoint).__name__}")
    try:
        url = httpx.URL(endpoint)
    except httpx.InvalidURL as exc:
        raise ValueError(f"endpoint {str(endpoint)!r} is not a valid URL: {exc}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(
            f"endpoint must be an absolute http(s) URL such as 'https://spectron.example.com', "
            f"got {str(endpoint)!r}"
        )
    if url.query or url.fragment:
        raise ValueError(f"endpoint must not carry a query or fragment, got {str(endpoint)!r}")
    return url.copy_with(path=url.path.rstrip("/"))


def _check_api_key(api_key: object) -> str:
    if not isinstance(api_key, str):
        raise TypeError(f"api_key must be a str, got {type(api_key).__name__}")
    if not api_key.strip():
        raise ValueError("api_key must be a non-empty API key, got an empty string")
    if any(character in api_key for character in "\r\n"):
        raise ValueError("api_key must not contain line breaks")
    return _Secret(api_key)


def _check_timeout(timeout: object) -> httpx.Timeout:
    if isinstance(timeout, httpx.Timeout):
        phases = (timeout.connect, timeout.read, timeout.write, timeout.pool)
        for phase in phases:
            _check_seconds(phase)
        return timeout
    if timeout is None:
        return httpx.Timeout(None)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise TypeError(
            f"timeout must be seconds (a number), an httpx.Timeout or None, "
            f"got {type(timeout).__name__}"
        )
    return httpx.Timeout(_check_seconds(float(timeout)))


def _check_seconds(seconds: float | None) -> float | None:
    if seconds is not None and (not math.isfinite(seconds) or seconds <= 0):
        raise ValueError(f"timeout must be a positive number of seconds, got {seconds!r}")
    return seconds


def _check_max_retries(max_retries: object) -> int:
    if isinstance(max_retries, bool) or not isinstance(max_retries, int):
        raise TypeError(f"max_retries must be an int, got {type(max_retries).__name__}")
    if max_retries < 0:
        raise ValueError(f"max_retries must be 0 (no retries) or more, got {max_retries}")
    return max_retries
