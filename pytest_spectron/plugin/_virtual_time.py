"""An async test that uses ``spectron_clock`` runs its event loop on the clock's time.

pytest-asyncio and anyio both run ``item.obj``: for the call, it becomes a coroutine function
that puts the running loop on the clock (``testing.service._loop_time``) around the test. A trio
run's clock is fixed when it starts, so a trio test's anyio runner is started with trio's
``MockClock(autojump_threshold=0)`` before its fixtures, or at the latest before the test.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Any

import pytest

from pytest_spectron.plugin._stash import MOCK, SETTINGS

if TYPE_CHECKING:
    from pytest_spectron.testing.service._clock import VirtualClock

__all__ = ["TRIO_RUNNER", "on_virtual_time_during", "start_trio_runner", "stop_trio_runner"]

TRIO_RUNNER = pytest.StashKey[ExitStack]()
"""anyio's trio runner, held with the plugin's clock from the test's setup to its teardown."""


def _clock(item: pytest.Item) -> VirtualClock | None:
    funcargs: dict[str, Any] = getattr(item, "funcargs", {})
    clock = funcargs.get("spectron_clock")
    if clock is None:
        mock = item.stash.get(MOCK, None)
        clock = None if mock is None else mock.clock
    return clock


@contextmanager
def on_virtual_time_during(item: pytest.Item) -> Iterator[None]:
    """Inside the block, an async test with the clock runs on the clock's time."""
    clock = _clock(item)
    original = getattr(item, "obj", None)
    if (
        clock is None
        or not isinstance(item, pytest.Function)
        or not inspect.iscoroutinefunction(original)
        or hasattr(original, "hypothesis")
    ):
        yield
        return
    from pytest_spectron.testing.service._loop_time import run_on_clock

    limit = item.config.stash[SETTINGS].real_wait

    @functools.wraps(original)
    async def on_virtual_time(*args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        return await run_on_clock(clock, limit, original, *args, **kwargs)

    with ExitStack() as stack:
        # A trio test its setup could not give a runner yet (its backend was not a parameter).
        stack.enter_context(_trio_runner(item, getattr(item, "funcargs", {}).get("anyio_backend")))
        item.obj = on_virtual_time
        try:
            yield
        finally:
            item.obj = original


def start_trio_runner(item: pytest.Item) -> None:
    """Before a trio test's fixtures start anyio's runner, start it with the plugin's clock."""
    fixtures = getattr(item, "fixturenames", ())
    if "anyio_backend" not in fixtures:
        return
    # A fault marker adds spectron_mock alone; it brings the clock with it.
    uses_clock = "spectron_clock" in fixtures or "spectron_mock" in fixtures
    callspec = getattr(item, "callspec", None)
    if not uses_clock or callspec is None or "anyio_backend" not in callspec.params:
        return
    stack = ExitStack()
    stack.enter_context(_trio_runner(item, callspec.params["anyio_backend"]))
    item.stash[TRIO_RUNNER] = stack


def stop_trio_runner(item: pytest.Item) -> None:
    """Let go of the runner ``start_trio_runner`` started, once the fixtures have ended."""
    stack = item.stash.get(TRIO_RUNNER, None)
    if stack is not None:
        del item.stash[TRIO_RUNNER]
        stack.close()


@contextmanager
def _trio_runner(item: pytest.Item, backend: object) -> Iterator[None]:
    if backend is None:
        yield
        return
    from anyio.pytest_plugin import extract_backend_and_options, get_runner

    name, options = extract_backend_and_options(backend)
    if name != "trio" or "clock" in options:
        yield
        return
    from pytest_spectron.testing.service._trio_time import new_trio_clock

    # An anyio runner already running (a wider-scoped async fixture's) is reused as it is.
    with get_runner(name, {**options, "clock": new_trio_clock()}):
        yield
