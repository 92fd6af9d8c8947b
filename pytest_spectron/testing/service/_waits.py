"""What an async test on virtual time was waiting on, when a real wait lasted too long."""

from __future__ import annotations

import linecache
import os
import sys
import sysconfig
from types import FrameType

__all__ = [
    "RealTimeWaitError",
    "describe_await_chain",
    "describe_frames",
    "failure_message",
    "frame_text",
]


class RealTimeWaitError(AssertionError):
    """An async test on virtual time waited too long for something only real time delivers."""


def failure_message(limit: float, waits: list[str]) -> str:
    """The failure of a test whose real wait lasted ``limit`` seconds, listing ``waits``."""
    listed = "".join(f"\n  - {wait}" for wait in waits) or "\n  - (no task or thread found)"
    return (
        f"the test waited {limit:g} s of real time for something virtual time cannot deliver "
        "(a thread, a subprocess, a socket), with no timer due; it was waiting on:"
        f"{listed}\n"
        "Under spectron_clock, sleeps, timeouts and retry waits take no real time, but work "
        "outside the event loop does. Make that work finish (or answer), or raise the limit "
        "with --spectron-real-wait=SECONDS (ini spectron_real_wait)."
    )


def describe_await_chain(coro: object) -> str:
    """Where a suspended coroutine waits: the code's own frames of its ``await`` chain."""
    frames: list[tuple[FrameType, int]] = []
    current: object = coro
    while current is not None and len(frames) < 50:
        frame: FrameType | None = (
            getattr(current, "cr_frame", None)
            or getattr(current, "gi_frame", None)
            or getattr(current, "ag_frame", None)
        )
        if frame is None:
            break
        frames.append((frame, frame.f_lineno))
        current = getattr(current, "cr_await", None) or getattr(current, "gi_yieldfrom", None)
    return describe_frames(frames)


def describe_frames(frames: list[tuple[FrameType, int]]) -> str:
    """The frames of an await chain that are not a library's, and the innermost one."""
    shown = [(frame, lineno) for frame, lineno in frames if not _library(frame)]
    if frames and (not shown or shown[-1][0] is not frames[-1][0]):
        shown.append(frames[-1])
    return " -> ".join(frame_text(frame, lineno) for frame, lineno in shown) or "(not started)"


_LIBRARY_ROOTS = tuple(
    {sysconfig.get_paths()[name] for name in ("stdlib", "platstdlib", "purelib", "platlib")}
)
_OWN_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _library(frame: FrameType) -> bool:
    filename = frame.f_code.co_filename
    return filename.startswith(_LIBRARY_ROOTS) or filename.startswith(_OWN_ROOT)


def frame_text(frame: FrameType, lineno: int) -> str:
    """``function (file:line): source`` for one frame of an await chain."""
    filename = frame.f_code.co_filename
    source = linecache.getline(filename, lineno).strip()
    shown = f": {source}" if source else ""
    return f"{frame.f_code.co_name} ({_short_path(filename)}:{lineno}){shown}"


def _short_path(filename: str) -> str:
    try:
        relative = os.path.relpath(filename)
    except ValueError:  # another drive, on Windows
        return filename
    if relative.startswith(".."):
        for root in sorted(sys.path, key=len, reverse=True):
            if root and filename.startswith(root + os.sep):
                return filename[len(root) + 1 :]
        return filename
    return relative
