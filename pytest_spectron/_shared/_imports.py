"""Run a function once a module is imported: at once if it is, else right after its import.

The interception of a library (requests, aiohttp, the official SDK's waits) must not import it:
a library the application never imports costs nothing. ``when_imported`` patches it at once when
the application has imported it already, and otherwise as soon as it does, from a finder placed
first on ``sys.meta_path`` only while some module is awaited. The finder finds nothing itself: it
asks the finders after it, and wraps the loader they return so the callbacks run once the module
has been executed (its submodules imported by then), before the import statement returns.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Sequence
from importlib.abc import MetaPathFinder
from importlib.machinery import ModuleSpec
from types import ModuleType

__all__ = ["forget", "when_imported"]

Callback = Callable[[ModuleType], None]

_lock = threading.RLock()
_pending: dict[str, list[Callback]] = {}
"""The callbacks waiting for each module's import, in the order they were added."""


def when_imported(name: str, callback: Callback) -> None:
    """Call ``callback(module)`` now if ``name`` is imported, else right after it is.

    :param name: the module's full dotted name.
    :param callback: called once, with the module.
    """
    module = sys.modules.get(name)
    if module is not None:
        callback(module)
        return
    with _lock:
        _pending.setdefault(name, []).append(callback)
        if _FINDER not in sys.meta_path:
            sys.meta_path.insert(0, _FINDER)


def forget(name: str, callback: Callback) -> None:
    """Drop a callback still waiting for ``name``'s import (nothing if it ran already)."""
    with _lock:
        waiting = _pending.get(name, [])
        if callback in waiting:
            waiting.remove(callback)
        if not waiting:
            _pending.pop(name, None)
        _drop_finder_if_idle()


def _drop_finder_if_idle() -> None:
    if not _pending and _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)


def _imported(name: str, module: ModuleType) -> None:
    with _lock:
        callbacks = _pending.pop(name, [])
        _drop_finder_if_idle()
    for callback in callbacks:
        callback(module)


class _AfterImport(MetaPathFinder):
    """Finds awaited modules with the other finders, and runs their callbacks once executed."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> ModuleSpec | None:
        if fullname not in _pending:
            return None
        for finder in list(sys.meta_path):
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec: ModuleSpec | None = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        execute = getattr(loader, "exec_module", None)
        if execute is None:
            return spec

        # The loader is this import's own object: its method is replaced on it alone.
        def exec_module(module: ModuleType) -> None:
            execute(module)
            _imported(fullname, module)

        loader.exec_module = exec_module  # type: ignore[method-assign,union-attr]
        return spec


_FINDER = _AfterImport()
