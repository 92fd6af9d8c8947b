"""A virtual clock: retry waits are recorded and time moves on, but nothing ever sleeps.

An async test's event loop can run on the clock's time (``loop_time``): then ``now`` is the
loop's time, an async retry wait is a real wait on that loop, and the loop jumps the clock to its
next timer whenever every task is waiting.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Protocol

from pytest_spectron._shared._validators import check_seconds
from pytest_spectron.client._retry import use_sleep
from pytest_spectron.testing.service._sdk_waits import sdk_waits_on_the_hook

__all__ = ["LoopOnClock", "TimeSource", "VirtualClock"]


class LoopOnClock(Protocol):
    """An event loop (asyncio's, or a trio run) whose time is a ``VirtualClock``'s."""

    def is_current(self) -> bool:
        """Whether the code calling runs on this loop."""

    async def sleep(self, seconds: float) -> None:
        """Wait on the loop: the clock moves on when the loop reaches the wait's end."""


class TimeSource(Protocol):
    """Where the time is kept while a loop that keeps its own (trio's ``MockClock``) runs on it."""

    def current_time(self) -> float:
        """The time, in seconds."""

    def jump(self, seconds: float) -> None:
        """Move the time on by ``seconds``."""


class VirtualClock:
    """Virtual time for Spectron clients: ``.now`` in seconds, ``.sleeps`` the waits requested.

    ``install()`` routes every Spectron client's retry waits here (the official SDK's,
    ``surrealdb-memory``, included); injected latency moves the time with ``advance()`` without
    counting as a wait. Safe to share between threads.

    :param start: the virtual time to start at (and go back to on ``reset()``), in seconds.
    :raises ValueError: ``start`` is not a finite number.
    """

    def __init__(self, start: float = 0.0) -> None:
        self._start = _seconds("start", start, allow_negative=True)
        self._now = self._start
        self._sleeps: list[float] = []
        self._lock = threading.Lock()
        self._loop: LoopOnClock | None = None
        self._source: TimeSource | None = None

    @property
    def now(self) -> float:
        """The virtual time, in seconds since the clock started."""
        with self._lock:
            return self._now if self._source is None else self._source.current_time()

    @property
    def sleeps(self) -> list[float]:
        """The waits requested so far, in seconds, in order (a copy)."""
        with self._lock:
            return list(self._sleeps)

    def sleep(self, seconds: float) -> None:
        """Record a wait and move time on by it, at once.

        :param seconds: the wait, 0 or more.
        :raises ValueError: ``seconds`` is negative or not a finite number.
        """
        seconds = _seconds("sleep", seconds)
        with self._lock:
            self._sleeps.append(seconds)
            self._move(seconds)

    async def sleep_async(self, seconds: float) -> None:
        """Record a wait; on a loop that runs on this clock, wait on it, else move time at once.

        On such a loop (an async test's, under the plugin) other tasks run during the wait and
        the clock reaches its end when every task is waiting; elsewhere the wait returns at once,
        without giving up control, as ``sleep`` does.

        :param seconds: the wait, 0 or more.
        :raises ValueError: ``seconds`` is negative or not a finite number.
        """
        loop = self._loop
        if loop is None or not loop.is_current():
            self.sleep(seconds)
            return
        seconds = _seconds("sleep", seconds)
        with self._lock:
            self._sleeps.append(seconds)
        await loop.sleep(seconds)

    def advance(self, seconds: float) -> None:
        """Move time on without recording a wait (injected latency, a test's own steps).

        :param seconds: how far, 0 or more.
        :raises ValueError: ``seconds`` is negative or not a finite number.
        """
        seconds = _seconds("advance", seconds)
        with self._lock:
            self._move(seconds)

    def _move(self, seconds: float) -> None:
        if self._source is None:
            self._now += seconds
        else:
            self._source.jump(seconds)

    def reset(self) -> None:
        """Back to the start time, with no waits recorded.

        While a loop runs on the clock, time never goes back (its timers would stall): only the
        waits are forgotten.
        """
        with self._lock:
            if self._loop is None:
                self._now = self._start
            self._sleeps.clear()

    @contextmanager
    def loop_time(self, loop: LoopOnClock, source: TimeSource | None = None) -> Iterator[None]:
        """Let ``loop`` run on this clock inside the block: async retry waits then wait on it.

        :param loop: the loop; it reads ``now`` as its time and moves it with ``advance``.
        :param source: for a loop that keeps its own time: the clock reads and moves that
            time inside the block (first moving whichever of the two is behind to the other).
        :return: a context manager; the loop runs on this clock inside its ``with`` block.
        :raises RuntimeError: another loop already runs on this clock.
        """
        with self._lock:
            if self._loop is not None:
                raise RuntimeError("another event loop already runs on this virtual clock")
            self._loop = loop
            if source is not None:
                behind = self._now - source.current_time()
                if behind > 0:
                    source.jump(behind)
                self._source = source
        try:
            yield
        finally:
            with self._lock:
                if self._source is not None:
                    self._now = self._source.current_time()
                    self._source = None
                self._loop = None

    @contextmanager
    def install(self) -> Iterator[VirtualClock]:
        """Route every Spectron client's retry waits to this clock; restore the previous hook.

        The official SDK's waits come here too: the names its transport module sleeps with
        are swapped while a clock is installed (``time.sleep`` itself is left alone).

        :return: a context manager that gives this clock, and restores the hook on exit.
        """
        with use_sleep(self.sleep, self.sleep_async), sdk_waits_on_the_hook():
            yield self

    def assert_backoff(self, expected: Sequence[float]) -> None:
        """Assert the exact waits requested so far, in order (to within 1e-9 s each).

        :param expected: the waits, in seconds.
        :raises AssertionError: the waits differ; the message shows both lists.
        """
        __tracebackhide__ = True
        actual = self.sleeps
        wanted = [float(value) for value in expected]
        if len(actual) == len(wanted) and all(
            math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9)
            for got, want in zip(actual, wanted, strict=True)
        ):
            return
        raise AssertionError(
            f"retry waits differ:\n  expected: {_format(wanted)}\n  actual:   {_format(actual)}"
        )

    def __repr__(self) -> str:
        return f"<VirtualClock now={self.now:g}s sleeps={_format(self.sleeps)}>"


def _seconds(what: str, value: float, *, allow_negative: bool = False) -> float:
    return check_seconds(what, value, negative=allow_negative)


def _format(values: Sequence[float]) -> str:
    count = f"{len(values)} wait" + ("" if len(values) == 1 else "s")
    return "[" + ", ".join(f"{value:g}" for value in values) + f"] ({count})"
