"""A virtual clock: retry waits are recorded and time moves on, but nothing ever sleeps."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from pytest_spectron._shared._validators import check_seconds
from pytest_spectron.client._retry import use_sleep
from pytest_spectron.testing.service._sdk_waits import sdk_waits_on_the_hook

__all__ = ["VirtualClock"]


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

    @property
    def now(self) -> float:
        """The virtual time, in seconds since the clock started."""
        with self._lock:
            return self._now

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
            self._now += seconds

    async def sleep_async(self, seconds: float) -> None:
        """Record a wait and move time on by it, without giving up control or waiting.

        :param seconds: the wait, 0 or more.
        :raises ValueError: ``seconds`` is negative or not a finite number.
        """
        self.sleep(seconds)

    def advance(self, seconds: float) -> None:
        """Move time on without recording a wait (injected latency, a test's own steps).

        :param seconds: how far, 0 or more.
        :raises ValueError: ``seconds`` is negative or not a finite number.
        """
        seconds = _seconds("advance", seconds)
        with self._lock:
            self._now += seconds

    def reset(self) -> None:
        """Back to the start time, with no waits recorded."""
        with self._lock:
            self._now = self._start
            self._sleeps.clear()

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
        with self._lock:
            return f"<VirtualClock now={self._now:g}s sleeps={_format(self._sleeps)}>"


def _seconds(what: str, value: float, *, allow_negative: bool = False) -> float:
    return check_seconds(what, value, negative=allow_negative)


def _format(values: Sequence[float]) -> str:
    count = f"{len(values)} wait" + ("" if len(values) == 1 else "s")
    return "[" + ", ".join(f"{value:g}" for value in values) + f"] ({count})"
