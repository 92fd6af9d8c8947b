"""The retry policy of Spectron's SDKs, and the one sleep hook every retry wait goes through.

The documented policy, to the letter:

- reads (every GET) and idempotent writes (``remember``, ``remember_many``) are retried on
  connection errors, timeouts and 5xx answers;
- every other write, and every streamed chat, is sent exactly once;
- no 4xx answer is ever retried, 429 included;
- the waits before retries 1, 2 and 3 are 0.25 s, 0.5 s and 1.0 s, and 1.0 s for any further one.

The documentation's "Max attempts: 3" counts *retries*: ``max_retries=3`` (the default) allows up to
four attempts in all.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

from pytest_spectron.client._catalogue import RetryClass

__all__ = [
    "BACKOFF",
    "DEFAULT_MAX_RETRIES",
    "RETRIED_CLASSES",
    "async_sleep",
    "backoff",
    "is_retryable_status",
    "retries_allowed",
    "sleep",
    "use_sleep",
]

DEFAULT_MAX_RETRIES = 3
BACKOFF: tuple[float, ...] = (0.25, 0.5, 1.0)
"""Seconds to wait before the first, second and third retry; later retries wait the last value."""
RETRIED_CLASSES: frozenset[RetryClass] = frozenset({"read", "idempotent_write"})


def backoff(retry_number: int) -> float:
    """Seconds to wait before retry number ``retry_number`` (1 for the first retry)."""
    if retry_number < 1:
        raise ValueError(f"retry numbers start at 1, got {retry_number}")
    return BACKOFF[min(retry_number, len(BACKOFF)) - 1]


def retries_allowed(retry_class: RetryClass, max_retries: int) -> int:
    """How many retries a call of ``retry_class`` may make under ``max_retries``."""
    return max_retries if retry_class in RETRIED_CLASSES else 0


def is_retryable_status(status_code: int) -> bool:
    """Whether an answer with this status may be retried (5xx only; never a 4xx)."""
    return 500 <= status_code <= 599


SyncSleep = Callable[[float], None]
AsyncSleep = Callable[[float], Awaitable[None]]

_sync_sleep: SyncSleep = time.sleep
_async_sleep: AsyncSleep = asyncio.sleep


def sleep(seconds: float) -> None:
    """Wait before a retry, through the installed hook (``time.sleep`` unless swapped)."""
    _sync_sleep(seconds)


async def async_sleep(seconds: float) -> None:
    """Wait before a retry in async code, through the installed hook (``asyncio.sleep``)."""
    await _async_sleep(seconds)


@contextmanager
def use_sleep(sync: SyncSleep, async_: AsyncSleep) -> Iterator[None]:
    """Route every Spectron client's retry waits to ``sync`` / ``async_`` inside the block.

    The hook is module-wide, so it also catches the waits of clients an application builds for
    itself. The previous hooks are restored on exit, even if the block raises.
    """
    global _sync_sleep, _async_sleep
    previous = _sync_sleep, _async_sleep
    _sync_sleep, _async_sleep = sync, async_
    try:
        yield
    finally:
        _sync_sleep, _async_sleep = previous
