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

import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import anyio

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
    """Seconds to wait before a retry, as the policy sets them.

    :param retry_number: which retry: 1 for the first, 2 for the second…
    :return: the wait in seconds: 0.25, 0.5, then 1.0 for the third retry and every later one.
    :raises ValueError: if ``retry_number`` is below 1.
    """
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


class _Hook:
    """One installation of ``use_sleep``: its two functions, and whether it is still in place."""

    __slots__ = ("active", "async_", "sync")

    def __init__(self, sync: SyncSleep, async_: AsyncSleep) -> None:
        self.sync = sync
        self.async_ = async_
        self.active = True


# Every installation, oldest first. A tuple replaced whole under the lock, so a reader on any
# thread sees a consistent snapshot without locking. The newest active one applies, and each
# installation removes only itself: stopping mocks in any order never resurrects a stale clock.
_installed: tuple[_Hook, ...] = ()
_installing = threading.Lock()
# The installations made in the current context (thread or asyncio task). They win over the
# process-wide list, so concurrent tasks that each install their own clock get their own waits;
# threads the application starts have a fresh context and fall back to the process-wide list.
_in_context: ContextVar[tuple[_Hook, ...]] = ContextVar("spectron_sleep_hooks", default=())


def _current() -> _Hook | None:
    for hooks in (_in_context.get(), _installed):
        for hook in reversed(hooks):
            if hook.active:
                return hook
    return None


def sleep(seconds: float) -> None:
    """Wait before a retry, through the installed hook (``time.sleep`` unless swapped)."""
    hook = _current()
    if hook is None:
        time.sleep(seconds)
    else:
        hook.sync(seconds)


async def async_sleep(seconds: float) -> None:
    """Wait before a retry in async code, through the installed hook (``anyio.sleep`` unless
    swapped: asyncio's or trio's sleep, whichever runs the code)."""
    hook = _current()
    if hook is None:
        await anyio.sleep(seconds)
    else:
        await hook.async_(seconds)


@contextmanager
def use_sleep(sync: SyncSleep, async_: AsyncSleep) -> Iterator[None]:
    """Route every Spectron client's retry waits to ``sync`` / ``async_`` inside the block.

    The hook is process-wide, so it also catches the waits of clients an application builds for
    itself, in any thread. Installations nest and may end in any order: on exit this one is
    removed wherever it stands, and the newest one still in place applies (``time.sleep`` /
    ``anyio.sleep`` when none is). In asyncio, a hook installed inside a task applies to that
    task first, so concurrent tasks with their own hooks do not see each other's waits.

    :param sync: called with the seconds of each wait of a sync client, instead of sleeping.
    :param async_: awaited with the seconds of each wait of an async client.
    :return: a context manager; the hook is in place inside its ``with`` block.
    """
    hook = _install(sync, async_)
    try:
        yield
    finally:
        _remove(hook)


def _install(sync: SyncSleep, async_: AsyncSleep) -> _Hook:
    """Put a new hook in place, process-wide and in the current context, newest of each."""
    global _installed
    hook = _Hook(sync, async_)
    with _installing:
        _installed = (*_installed, hook)
    _in_context.set((*_in_context.get(), hook))
    return hook


def _remove(hook: _Hook) -> None:
    """Take ``hook`` out wherever it stands, leaving every other installation in place."""
    global _installed
    # Marked first: a context that copied this installation (a task started inside the
    # block) keeps it in its own copy, where an inactive entry is skipped.
    hook.active = False
    with _installing:
        _installed = tuple(other for other in _installed if other is not hook)
    _in_context.set(tuple(other for other in _in_context.get() if other is not hook))
