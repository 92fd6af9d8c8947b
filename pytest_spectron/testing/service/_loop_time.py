"""An async test's event loop on a ``VirtualClock``'s time, under asyncio or trio.

The technique of the ``looptime`` plugin and of trio's ``MockClock(autojump_threshold=0)``: the
loop reads the clock as its time, and when every task waits it jumps the clock to its next timer
at once, so ``asyncio.sleep``, ``wait_for``/``timeout`` deadlines, ``call_later`` and the
clients' retry waits all move one clock, in the order production would meet them.

asyncio: the running loop's ``time`` and its selector's ``select`` are replaced on the instance
for the test's duration (timers already scheduled move to the clock's time and back). What only
real time can deliver is waited for in real time, never in virtual time:

- a thread started by ``run_in_executor``/``to_thread`` still running: the loop waits for it;
- a socket or pipe open on the loop, with a timer due: the loop waits ``IO_GRACE`` real seconds
  for it to speak (a reply from a loopback server) before it jumps to the timer;
- no timer due at all: the loop waits for a thread, a socket, a subprocess or a signal.

Any such real wait that lasts ``limit`` real seconds fails the test with ``RealTimeWaitError``,
naming what every task waits on, instead of hanging.

trio: the run's clock is a ``MockClock(autojump_threshold=0)`` reading the virtual clock (the
plugin gives it to anyio's trio runner); it jumps whenever every task is blocked, and fails the
test the same way when nothing is due and nothing happens for ``limit`` real seconds.
"""

from __future__ import annotations

import asyncio
import functools
import selectors
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from pytest_spectron.testing.service._clock import VirtualClock
from pytest_spectron.testing.service._waits import (
    RealTimeWaitError,
    describe_await_chain,
    failure_message,
)

__all__ = ["IO_GRACE", "RealTimeWaitError", "run_on_clock"]

T = TypeVar("T")

IO_GRACE = 1.0
"""Real seconds an asyncio loop with a socket or pipe open waits for it before a timer jump."""


async def run_on_clock(
    clock: VirtualClock,
    limit: float,
    test: Callable[..., Awaitable[T]],
    *args: Any,
    **kwargs: Any,
) -> T:
    """Run ``test(*args, **kwargs)`` with the running loop (asyncio or trio) on ``clock``'s time.

    :param clock: the test's virtual clock; ``clock.now`` is the loop's time inside.
    :param limit: real seconds a wait that only real time can end may last.
    :raises RealTimeWaitError: such a wait lasted ``limit`` real seconds.
    :raises RuntimeError: under trio, the run's clock is not the plugin's.
    """
    __tracebackhide__ = True
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        from pytest_spectron.testing.service._trio_time import run_on_trio_clock

        return await run_on_trio_clock(clock, limit, test, *args, **kwargs)
    return await _run_on_asyncio_clock(clock, limit, loop, test, *args, **kwargs)


async def _run_on_asyncio_clock(
    clock: VirtualClock,
    limit: float,
    loop: asyncio.AbstractEventLoop,
    test: Callable[..., Awaitable[T]],
    *args: Any,
    **kwargs: Any,
) -> T:
    __tracebackhide__ = True
    task = asyncio.current_task()
    if not isinstance(loop, asyncio.BaseEventLoop) or task is None:
        raise RuntimeError(
            f"virtual time needs one of asyncio's own event loops, and this test runs on "
            f"{type(loop).__module__}.{type(loop).__qualname__}: give the test asyncio's default "
            "loop, or leave spectron_clock out of it"
        )
    on_clock = _AsyncioOnClock(clock, loop, task, limit)
    with on_clock.installed(), clock.loop_time(on_clock):
        try:
            return await test(*args, **kwargs)
        except asyncio.CancelledError:
            if on_clock.failure is None:
                raise
            raise RealTimeWaitError(on_clock.failure) from None


class _AsyncioOnClock:
    """The asyncio side: a running ``BaseEventLoop`` whose time is the clock's."""

    def __init__(
        self,
        clock: VirtualClock,
        loop: asyncio.BaseEventLoop,
        task: asyncio.Task[Any],
        limit: float,
    ) -> None:
        self._clock = clock
        self._loop = loop
        self._task = task
        self._limit = limit
        self._threads: dict[asyncio.Future[Any], str] = {}
        self.failure: str | None = None
        """Why the test was cancelled, when a real wait lasted too long."""

    def is_current(self) -> bool:
        try:
            return asyncio.get_running_loop() is self._loop
        except RuntimeError:
            return False

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    @contextmanager
    def installed(self) -> Iterator[None]:
        """Put the loop on the clock's time inside the block; back on real time after it."""
        loop = self._loop
        selector: selectors.BaseSelector = loop._selector  # type: ignore[attr-defined]
        real_select = selector.select
        real_run_in_executor = loop.run_in_executor

        def select(timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
            return self._select(real_select, selector, timeout)

        def run_in_executor(executor: Any, func: Callable[..., T], *args: Any) -> Any:
            future = real_run_in_executor(executor, func, *args)
            self._threads[future] = _function_name(func, args)
            future.add_done_callback(self._threads.pop)
            return future

        self._shift_timers(self._clock.now - loop.time())
        loop.time = lambda: self._clock.now  # type: ignore[method-assign]
        selector.select = select  # type: ignore[method-assign]
        loop.run_in_executor = run_in_executor  # type: ignore[method-assign,assignment]
        try:
            yield
        finally:
            del loop.run_in_executor
            selector.select = real_select  # type: ignore[method-assign]
            del loop.time
            self._shift_timers(loop.time() - self._clock.now)
            self._threads.clear()

    def _shift_timers(self, seconds: float) -> None:
        # Every timer moves by the same amount, so the heap stays a heap: a timer due in 30 real
        # seconds when the test starts is due in 30 virtual ones, and the other way at its end.
        for handle in self._loop._scheduled:  # type: ignore[attr-defined]
            handle._when += seconds

    def _select(
        self,
        real_select: Callable[[float | None], list[tuple[selectors.SelectorKey, int]]],
        selector: selectors.BaseSelector,
        timeout: float | None,
    ) -> list[tuple[selectors.SelectorKey, int]]:
        # asyncio asks for 0 when callbacks are ready, the seconds to the next timer when one is
        # scheduled (on the clock's time), None when nothing is.
        if timeout is not None and timeout <= 0:
            return real_select(0)
        events = real_select(0)
        if events:
            return events
        if timeout is not None and not self._threads_running():
            if self._io_open(selector):
                events = real_select(min(timeout, IO_GRACE))
                if events:
                    return events
            # Every task waits for a timer: jump to the next one.
            self._clock.advance(timeout)
            return []
        return self._wait_real(real_select, selector)

    def _wait_real(
        self,
        real_select: Callable[[float | None], list[tuple[selectors.SelectorKey, int]]],
        selector: selectors.BaseSelector,
    ) -> list[tuple[selectors.SelectorKey, int]]:
        # Only something outside the loop can move it on; virtual time stands still meanwhile.
        deadline = time.monotonic() + self._limit
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._give_up(selector)
                return []
            events = real_select(remaining)
            if events:
                return events

    def _threads_running(self) -> bool:
        return any(not future.done() for future in self._threads)

    def _io_open(self, selector: selectors.BaseSelector) -> bool:
        return bool(self._own_io(selector))

    def _own_io(self, selector: selectors.BaseSelector) -> list[int]:
        wakeup = getattr(self._loop, "_ssock", None)
        wakeup_fd = wakeup.fileno() if wakeup is not None else -1
        return [key.fd for key in selector.get_map().values() if key.fd != wakeup_fd]

    def _give_up(self, selector: selectors.BaseSelector) -> None:
        if self.failure is not None:
            return
        waits = [
            f"task {task.get_name()!r}: {describe_await_chain(task.get_coro())}"
            for task in asyncio.all_tasks(self._loop)
            if not task.done()
        ]
        waits += [
            f"a thread running {name} (run_in_executor / to_thread)"
            for future, name in self._threads.items()
            if not future.done()
        ]
        io = len(self._own_io(selector))
        if io:
            waits.append(f"{io} socket(s) or pipe(s) open on the loop")
        self.failure = failure_message(self._limit, waits)
        self._task.cancel()


def _function_name(func: Callable[..., Any], args: tuple[Any, ...]) -> str:
    # asyncio.to_thread passes functools.partial(context.run, func, *args).
    while isinstance(func, functools.partial):
        if func.args and getattr(func.func, "__name__", "") == "run" and callable(func.args[0]):
            func = func.args[0]
        else:
            func = func.func
    if getattr(func, "__name__", "") == "run" and args and callable(args[0]):
        func = args[0]
    name = getattr(func, "__qualname__", None) or repr(func)
    return f"{name}()"
