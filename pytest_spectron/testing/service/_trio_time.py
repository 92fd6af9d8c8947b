"""trio's side of virtual time: the run's ``MockClock(autojump_threshold=0)`` keeps the time.

A trio run's clock is fixed when the run starts, so the plugin gives anyio's trio runner a
``MockClock(autojump_threshold=0)`` (``new_trio_clock``) before the test's fixtures start it;
the test then runs with its ``spectron_clock`` reading and moving that clock's time
(``run_on_trio_clock``), and trio jumps it to the next deadline whenever every task is blocked.
Loaded only when a test runs under trio.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import trio
import trio.testing

from pytest_spectron.testing.service._clock import VirtualClock
from pytest_spectron.testing.service._waits import (
    RealTimeWaitError,
    describe_frames,
    failure_message,
)

__all__ = ["new_trio_clock", "run_on_trio_clock"]

T = TypeVar("T")

_IDLE_POLL = 0.05
"""Real seconds between looks while nothing is due and every task waits on the outside."""


def new_trio_clock() -> trio.testing.MockClock:
    """A clock for a trio run whose tests may run on virtual time: it jumps when all wait."""
    return trio.testing.MockClock(autojump_threshold=0)


async def run_on_trio_clock(
    clock: VirtualClock,
    limit: float,
    test: Callable[..., Awaitable[T]],
    *args: Any,
    **kwargs: Any,
) -> T:
    """Run ``test`` in the current trio run, ``clock`` keeping its time in the run's clock.

    :raises RealTimeWaitError: nothing was due and no task ran for ``limit`` real seconds.
    :raises RuntimeError: the run's clock is not an autojumping ``MockClock``.
    """
    __tracebackhide__ = True
    run_clock = trio.lowlevel.current_clock()
    if not isinstance(run_clock, trio.testing.MockClock) or run_clock.rate != 0:
        raise RuntimeError(
            "virtual time under trio needs the trio run to use a MockClock with rate 0, and "
            f"this run started with {run_clock!r} (given in anyio_backend's options, or by an "
            "async fixture of a wider scope that started the run before this test): let the "
            "plugin start the run (no clock in the options, function-scoped async fixtures)"
        )
    with trio.CancelScope() as scope:
        on_clock = _TrioOnClock(run_clock, scope, limit)
        with on_clock.installed(), clock.loop_time(on_clock, source=run_clock):
            result = await test(*args, **kwargs)
    # A wait trio cannot cancel (a thread) may end on its own after the limit: still a failure.
    if on_clock.failure is not None:
        raise RealTimeWaitError(on_clock.failure)
    if scope.cancelled_caught:
        raise RuntimeError("the test was cancelled while on virtual time")
    return result


class _TrioOnClock(trio.abc.Instrument):
    """One test's run on virtual time: the autojump, and the limit on waits for the outside."""

    def __init__(self, run_clock: trio.testing.MockClock, scope: trio.CancelScope, limit: float):
        self._run_clock = run_clock
        self._scope = scope
        self._limit = limit
        self._idle_since: float | None = None
        self.failure: str | None = None

    def is_current(self) -> bool:
        try:
            return trio.lowlevel.current_clock() is self._run_clock
        except RuntimeError:
            return False

    async def sleep(self, seconds: float) -> None:
        await trio.sleep(seconds)

    @contextmanager
    def installed(self) -> Iterator[None]:
        """Jump whenever every task is blocked; count the real waits for the outside."""
        self._run_clock.autojump_threshold = 0
        trio.lowlevel.add_instrument(self)
        try:
            yield
        finally:
            trio.lowlevel.remove_instrument(self)
            self._run_clock.autojump_threshold = 0

    def before_task_step(self, task: trio.lowlevel.Task) -> None:
        if self._idle_since is not None:
            self._idle_since = None
            self._run_clock.autojump_threshold = 0

    def after_io_wait(self, timeout: float) -> None:
        # The clock autojumps to any deadline; with none, only the outside can wake a task.
        statistics = trio.lowlevel.current_statistics()
        if statistics.tasks_runnable or statistics.seconds_to_next_deadline < math.inf:
            return
        now = time.monotonic()
        if self._idle_since is None:
            self._idle_since = now
            # Look again in a while rather than spinning.
            self._run_clock.autojump_threshold = _IDLE_POLL
        elif now - self._idle_since >= self._limit and self.failure is None:
            self.failure = failure_message(self._limit, _waits())
            self._scope.cancel()


def _waits() -> list[str]:
    """Where each task that waits (a leaf of the task tree) is suspended."""
    waits: list[str] = []
    root = trio.lowlevel.current_root_task()
    pending = [] if root is None else [root]
    while pending:
        task = pending.pop()
        children = [child for nursery in task.child_nurseries for child in nursery.child_tasks]
        if children:
            pending.extend(children)
            continue
        if task.name.startswith("<"):
            continue  # trio's own system tasks
        chain = describe_frames(list(task.iter_await_frames()))
        waits.append(f"task {task.name!r}: {chain}")
    return waits
