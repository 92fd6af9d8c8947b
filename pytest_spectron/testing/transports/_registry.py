"""The registry of running mocks, and the one decision every intercepted client asks of it.

``answer_for(url)`` says what becomes of a request to ``url``: the newest running mock on its
origin answers it; a request that must not leave the process gets a refusal (an answer that
raises ``RefusedRequest``); anything else gets None and goes on to the client's own transport.
Every interception path (httpx, httpx2, and any added later) asks it, so they fail closed alike.

A request is refused when, with no mock answering it:

* its origin is one the plugin guards (the configured endpoint's) for the session: no mock runs
  (a module-scoped fixture's teardown, a fixture set up before ``spectron_mock``) or the mock
  has stopped;
* its path is a Spectron route (``/api/v1/{context}/…``) on another origin than the guarded one
  (a near miss: wrong scheme, host or port), loopback hosts excepted;
* the network is blocked (``--spectron-block-network``), loopback hosts excepted;

and, with a mock answering it, when it comes from a thread started while an earlier mock ran,
which has stopped since (a thread that outlived its test): it is never answered, journalled or
counted for the test running now.

The first three only matter when the request would reach the network: a client whose own
transport is a mock (``httpx.MockTransport``, an ASGI app, pytest-httpx, respx below this
interception) is left to it; the caller says so with ``network=``.

A thread's owner is the mock that ran when it started (or its starter's owner); a task sent
to an executor (``loop.run_in_executor``, ``ThreadPoolExecutor.submit``) belongs to the code
that sent it, and an asyncio or trio task to the code that created it, whatever loop or thread
runs it. Threads and tasks are tracked while anything holds the registry (``tracking_threads``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import ipaddress
import sys
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any, NoReturn, Protocol

import httpx

from pytest_spectron._shared._imports import forget, when_imported

__all__ = [
    "REFUSAL_REASONS",
    "Answer",
    "Entry",
    "Origin",
    "RefusedRequest",
    "Tenure",
    "answer_for",
    "entry_for",
    "guarding",
    "registered",
]

Answer = Callable[[httpx.Request], httpx.Response]
"""A mock's answer to one request to its endpoint (or the exception the request raises)."""


REFUSAL_REASONS = ("no_mock", "mock_stopped", "outlived_test", "near_miss", "network_blocked")
"""Why a request was refused: ``RefusedRequest.reason``, one row each in docs/bad-input.md."""


class RefusedRequest(AssertionError):
    """A request the plugin stopped before it reached the network: a test bug, never retried away.

    An ``AssertionError``, so the application's retry logic (which catches httpx's errors) does
    not swallow it: it fails the test, or the fixture, that sent the request.

    :ivar method: the request's method.
    :ivar url: the request's URL.
    :ivar reason: one of ``REFUSAL_REASONS``: ``"no_mock"``, ``"mock_stopped"``,
        ``"outlived_test"``, ``"near_miss"`` or ``"network_blocked"``.
    """

    def __init__(self, message: str, *, method: str, url: str, reason: str) -> None:
        self.method = method
        self.url = url
        self.reason = reason
        super().__init__(message)


class _URL(Protocol):
    """What the registry reads of a URL; httpx's and httpx2's both have it."""

    @property
    def scheme(self) -> str: ...
    @property
    def host(self) -> str: ...
    @property
    def port(self) -> int | None: ...
    @property
    def path(self) -> str: ...
    @property
    def raw_path(self) -> bytes: ...


@dataclass(frozen=True)
class Origin:
    """Where a mock answers: a scheme and host, and a port unless any port will do."""

    scheme: str
    host: str
    port: int | None

    @classmethod
    def of(cls, url: httpx.URL) -> Origin:
        """The origin of an endpoint URL; no port in the URL means any port."""
        return cls(url.scheme, url.host, url.port)

    def matches(self, url: _URL, host: str | None = None) -> bool:
        """Whether a request to ``url`` is one for this origin (``host``: its host, if read)."""
        return (
            (url.host if host is None else host) == self.host
            and url.scheme == self.scheme
            and (self.port is None or url.port == self.port)
        )


class Tenure:
    """One mock's time answering, from its start to its stop: what a thread started in it owns."""

    __slots__ = ("alive", "label")

    def __init__(self, label: str) -> None:
        self.label = label
        self.alive = True


@dataclass(frozen=True, eq=False)
class Entry:
    """A mock answering now: where, how, and since when."""

    origin: Origin
    answer: Answer
    blocking: bool = False
    """The answer waits on the network (live mode): async clients run it in a worker thread."""
    tenure: Tenure | None = None


@dataclass(frozen=True, eq=False)
class _Guard:
    origin: Origin
    endpoint: str
    block_network: bool


_lock = threading.Lock()
_registry: tuple[Entry, ...] = ()
"""The mocks answering now, oldest first; replaced whole, so a lookup needs no lock."""
_guards: tuple[_Guard, ...] = ()
_blocking = False
"""Whether a guard blocks the network: read on every request no mock answers."""
_stopped: dict[Origin, str] = {}
"""The last mock to stop on each origin, by label: what a refusal names."""


def answer_for(url: _URL, *, network: bool | Callable[[], bool] = True) -> Answer | None:
    """The answer to a request to ``url``: a mock's, a refusal, or None to let it go on.

    :param url: the request's URL.
    :param network: whether, answered by no mock, the request would reach the network (or a
        function that tells, asked only when it matters); False leaves to the client's own
        transport (a mock of its own) what no running mock answers.
    """
    entry = entry_for(url, network=network)
    return None if entry is None else entry.answer


def entry_for(url: _URL, *, network: bool | Callable[[], bool] = True) -> Entry | None:
    """What ``answer_for`` answers, with how: the mock's entry, or a refusal's."""
    registry = _registry
    if not registry and not _guards:
        return None
    host = url.host  # read once: httpx decodes it on every read
    for entry in reversed(registry):
        if entry.origin.matches(url, host):
            owner = _owner()
            if owner is not None and not owner.alive:
                return _refusal(_outlived(owner, _kind_of_running_code()))
            return entry
    if not _guards:
        return None
    return _unanswered(url, host, network)


def _unanswered(url: _URL, host: str, network: bool | Callable[[], bool]) -> Entry | None:
    """The refusal of a request no mock answers, if it is one to refuse."""
    for guard in _guards:
        if guard.origin.matches(url, host):
            if not (network() if callable(network) else network):
                return None
            owner = _owner()
            if owner is not None and not owner.alive:
                return _refusal(_outlived(owner, _kind_of_running_code()))
            return _refusal(_no_mock(guard))
    # Cheapest first: most requests to other hosts are neither near misses nor blocked.
    candidate = b"/api/v1/" in url.raw_path
    if not (_blocking or candidate) or _is_loopback(host):
        return None
    near_miss = candidate and _is_spectron_route(url.path)
    if not (near_miss or _blocking):
        return None
    if not (network() if callable(network) else network):
        return None
    return _refusal(_near_miss(_guards[-1]) if near_miss else _blocked())


# -- Refusals ---------------------------------------------------------------------------------

_Explain = Callable[[httpx.Request], tuple[str, str]]
"""The reason and the message of a refusal, for the request refused."""


def _refusal(explain: _Explain) -> Entry:
    def refuse(request: httpx.Request) -> NoReturn:
        __tracebackhide__ = True
        reason, message = explain(request)
        shown = f"{request.method} {request.url}"
        raise RefusedRequest(
            f"pytest-spectron refused {shown}: {message}",
            method=request.method,
            url=str(request.url),
            reason=reason,
        )

    return Entry(Origin("", "", None), refuse)


def _no_mock(guard: _Guard) -> _Explain:
    stopped = _stopped.get(guard.origin)

    def explain(request: httpx.Request) -> tuple[str, str]:
        if stopped is not None:
            return "mock_stopped", (
                f"the spectron_mock answering {guard.endpoint} has already stopped (it stopped "
                f"when {stopped} ended), and no mock runs now, so the request would have gone "
                "to the real host, with its API key. A request sent after the test (a "
                "module-scoped fixture's teardown, a thread left running) is not answered: "
                "send it inside the test, or give that fixture spectron_mock."
            )
        return "no_mock", (
            f"no spectron_mock is running to answer {guard.endpoint}, so the request would "
            "have gone to the real host, with its API key. Request spectron_mock in the "
            "fixture or test that sends it (a fixture set up before spectron_mock, or a "
            "module-scoped fixture, runs outside any mock)."
        )

    return explain


def _outlived(owner: Tenure, kind: str) -> _Explain:
    if kind == "task":
        wait = "Await the task (or cancel it) before the test that created it ends."
    else:
        wait = (
            "Wait for the thread (join it, or shut its executor down) before the test that "
            "started it ends."
        )

    def explain(request: httpx.Request) -> tuple[str, str]:
        return "outlived_test", (
            f"it comes from a {kind} started during {owner.label}, whose spectron_mock has "
            f"stopped: a {kind} that outlives its test is never answered, journalled or counted "
            f"for another test. {wait}"
        )

    return explain


def _near_miss(guard: _Guard) -> _Explain:
    def explain(request: httpx.Request) -> tuple[str, str]:
        return "near_miss", (
            f"its path is a Spectron route, but the mock answers {guard.endpoint} "
            f"(scheme, host and port), not {request.url.scheme}://{request.url.netloc.decode()}. "
            "Point the client at spectron_mock.endpoint (or set --spectron-endpoint to where "
            "it sends)."
        )

    return explain


def _blocked() -> _Explain:
    def explain(request: httpx.Request) -> tuple[str, str]:
        return "network_blocked", (
            "no mock answers it and the network is blocked (--spectron-block-network). "
            "Mock it (respx, pytest-httpx), or send it to a loopback server."
        )

    return explain


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _is_spectron_route(path: str) -> bool:
    from pytest_spectron.testing.http._routing import is_route

    return is_route(path[path.index("/api/v1/") :])


# -- Registration -----------------------------------------------------------------------------


@contextmanager
def registered(entry: Entry) -> Iterator[None]:
    """Let ``entry`` answer requests to its origin while the block runs; the newest answers."""
    global _registry
    with tracking_threads():
        with _lock:
            _registry = (*_registry, entry)
        try:
            yield
        finally:
            with _lock:
                _registry = tuple(other for other in _registry if other is not entry)
                if entry.tenure is not None:
                    entry.tenure.alive = False
                    _stopped[entry.origin] = entry.tenure.label


@contextmanager
def guarding(origin: Origin, endpoint: str, *, block_network: bool = False) -> Iterator[None]:
    """Refuse what must not leave the process while the block runs (see the module docstring).

    :param origin: the origin no request may reach unless a mock answers it.
    :param endpoint: the endpoint, as refusals name it.
    :param block_network: refuse every request no mock answers, loopback hosts excepted.
    """
    global _guards, _blocking
    guard = _Guard(origin, endpoint, block_network)
    with tracking_threads():
        with _lock:
            _guards = (*_guards, guard)
            _blocking = any(other.block_network for other in _guards)
        try:
            yield
        finally:
            with _lock:
                _guards = tuple(other for other in _guards if other is not guard)
                _blocking = any(other.block_network for other in _guards)
                if all(other.origin != origin for other in _guards):
                    # What stopped on an origin is told only while that origin is guarded.
                    _stopped.pop(origin, None)


# -- Owners: the test a thread or task belongs to -------------------------------------------

_THREAD_OWNER = "_spectron_tenure"
_submitted: contextvars.ContextVar[Tenure | None] = contextvars.ContextVar(
    "spectron_submitted_by", default=None
)
"""The owner of an executor's work item while it runs (its worker thread may be older)."""
_task_owners: weakref.WeakKeyDictionary[object, Tenure] = weakref.WeakKeyDictionary()
"""The owner of each asyncio and trio task created while tracked: its creator's.

Kept beside the task, not in its context: pytest-asyncio copies what an async fixture's task
sets in its context into the test's, which would hand a fixture's owner to the main thread.
"""
_NOBODY = Tenure("no test")
"""Owns code sent from outside any mock: always current."""
_TEST_RUNNERS = ("TestRunner._run_tests_and_fixtures",)
"""Tasks that run every test's code in turn (anyio's pytest plugin): owned by no one test."""


def _owner() -> Tenure | None:
    """The tenure the running code belongs to; None for the main thread and unknown code."""
    owner = _submitted.get()
    if owner is None:
        owner = _task_owner()
        if owner is None:
            owner = getattr(threading.current_thread(), _THREAD_OWNER, None)
    return owner


def _task_owner() -> Tenure | None:
    """The owner of the asyncio or trio task running now, if it was created while tracked."""
    if not _task_owners:
        return None
    task: object = None
    if asyncio._get_running_loop() is not None:
        task = asyncio.current_task()
    else:
        trio = sys.modules.get("trio")
        if trio is not None and trio.lowlevel.in_trio_task():
            task = trio.lowlevel.current_task()
    return None if task is None else _task_owners.get(task)


def _kind_of_running_code() -> str:
    """What runs the code asking, as a refusal names it: ``"task"`` or ``"thread"``."""
    return "task" if _submitted.get() is None and _task_owner() is not None else "thread"


def _owner_for_new_code() -> Tenure:
    """The owner of a thread, work item or task started now: its starter's, else newest mock's."""
    owner = _owner()
    if owner is not None:
        return owner
    for entry in reversed(_registry):
        if entry.tenure is not None:
            return entry.tenure
    return _NOBODY


_ORIGINAL_START = threading.Thread.start
_ORIGINAL_SUBMIT = concurrent.futures.ThreadPoolExecutor.submit
_ORIGINAL_CREATE_TASK = asyncio.BaseEventLoop.create_task


def _start(self: threading.Thread) -> None:
    setattr(self, _THREAD_OWNER, _owner_for_new_code())
    _ORIGINAL_START(self)


def _submit(
    self: concurrent.futures.ThreadPoolExecutor,
    fn: Callable[..., Any],
    /,
    *args: Any,
    **kwargs: Any,
) -> concurrent.futures.Future[Any]:
    owner = _owner_for_new_code()

    def owned() -> Any:
        token = _submitted.set(owner)
        try:
            return fn(*args, **kwargs)
        finally:
            _submitted.reset(token)

    return _ORIGINAL_SUBMIT(self, owned)


def _create_task(
    self: asyncio.BaseEventLoop, coro: Any, /, *args: Any, **kwargs: Any
) -> asyncio.Task[Any]:
    # An eager task's first step runs before the owner is recorded: it runs within its
    # creator's step, while the creator's mock runs.
    task = _ORIGINAL_CREATE_TASK(self, coro, *args, **kwargs)
    _stamp(task, coro)
    return task


def _stamp(task: object, coro: object) -> None:
    """Record ``task``'s owner, which its creator (running now) gives it."""
    # A task that runs every test's code in turn belongs to none: its steps are the test's.
    if getattr(coro, "__qualname__", "") not in _TEST_RUNNERS:
        _task_owners[task] = _owner_for_new_code()


_TRIO_RUNS = ("run", "lowlevel.start_guest_run")
"""trio's entry points, given an instrument that records each task's owner as it spawns."""
_trio_originals: dict[str, tuple[Callable[..., Any], Callable[..., Any]]] = {}
"""Each of ``_TRIO_RUNS`` patched: trio's own, and what replaced it."""


def _track_trio(trio: ModuleType) -> None:
    """Give every trio run started from now on an instrument that records tasks' owners."""

    class Owners(trio.abc.Instrument):  # type: ignore[name-defined,misc]
        def task_spawned(self, task: Any) -> None:
            _stamp(task, task.coro)

    def instrumented(run: Callable[..., Any]) -> Callable[..., Any]:
        def run_owned(*args: Any, **kwargs: Any) -> Any:
            kwargs["instruments"] = (*kwargs.get("instruments", ()), Owners())
            return run(*args, **kwargs)

        return run_owned

    with _lock:
        if _trio_originals or not _trackers:
            return
        for name in _TRIO_RUNS:
            holder, _, attribute = f"trio.{name}".rpartition(".")
            module = sys.modules[holder]
            original = getattr(module, attribute)
            _trio_originals[name] = original, instrumented(original)
            setattr(module, attribute, _trio_originals[name][1])


def _untrack_trio() -> None:
    for name, (original, patched) in _trio_originals.items():
        holder, _, attribute = f"trio.{name}".rpartition(".")
        if getattr(sys.modules[holder], attribute) is patched:
            setattr(sys.modules[holder], attribute, original)
    _trio_originals.clear()


_trackers = 0


@contextmanager
def tracking_threads() -> Iterator[None]:
    """Record the owner of every thread, executor work item and asyncio task started meanwhile."""
    global _trackers
    with _lock:
        if not _trackers:
            threading.Thread.start = _start  # type: ignore[method-assign]
            concurrent.futures.ThreadPoolExecutor.submit = _submit  # type: ignore[method-assign,assignment]
            asyncio.BaseEventLoop.create_task = _create_task  # type: ignore[method-assign,assignment]
        _trackers += 1
        first = _trackers == 1
    if first:
        when_imported("trio", _track_trio)
    try:
        yield
    finally:
        with _lock:
            _trackers -= 1
            last = not _trackers
            if last:
                if threading.Thread.start is _start:
                    threading.Thread.start = _ORIGINAL_START  # type: ignore[method-assign]
                if concurrent.futures.ThreadPoolExecutor.submit is _submit:
                    concurrent.futures.ThreadPoolExecutor.submit = _ORIGINAL_SUBMIT  # type: ignore[method-assign]
                if asyncio.BaseEventLoop.create_task is _create_task:
                    asyncio.BaseEventLoop.create_task = _ORIGINAL_CREATE_TASK  # type: ignore[method-assign]
                _untrack_trio()
        if last:
            forget("trio", _track_trio)
