"""Argument checks, with one wording for every layer: what was given, and what is accepted.

``True`` is an int to Python but never a count or a number of seconds to a user, so every check
here refuses a bool. Each check raises ``TypeError`` for a value of the wrong type and
``ValueError`` for one out of range, or the ``error`` class it is given for both (the fault
vocabulary raises its ``FaultError``).
"""

from __future__ import annotations

import math
from typing import TypeGuard

__all__ = ["check_int", "check_seconds", "is_int", "is_real"]


def is_int(value: object) -> TypeGuard[int]:
    """Whether ``value`` is an int and not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_real(value: object) -> TypeGuard[int | float]:
    """Whether ``value`` is an int or a float and not a bool (``inf`` and ``nan`` included)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_int(
    name: str,
    value: object,
    *,
    minimum: int | None = None,
    example: int | None = None,
    error: type[Exception] | None = None,
) -> int:
    """``value`` if it is an int (not a bool) of at least ``minimum``.

    :param name: how the message names the argument, such as ``"max_retries"``.
    :param value: what was given.
    :param minimum: the smallest value accepted, or None for any.
    :param example: a value the message shows (``status must be an int such as 503``).
    :param error: the exception class to raise instead of ``TypeError`` and ``ValueError``.
    :raises TypeError: ``NAME must be an int, got '3' (str)``.
    :raises ValueError: ``NAME must be an int of 0 or more, got -1``.
    :return: ``value``.
    """
    if not is_int(value):
        such_as = "" if example is None else f" such as {example}"
        raise (error or TypeError)(
            f"{name} must be an int{such_as}, got {value!r} ({type(value).__name__})"
        )
    if minimum is not None and value < minimum:
        raise (error or ValueError)(f"{name} must be an int of {minimum} or more, got {value!r}")
    return value


def check_seconds(
    name: str,
    value: object,
    *,
    above_zero: bool = False,
    negative: bool = False,
    error: type[Exception] | None = None,
    hint: str = "",
) -> float:
    """``value`` as a float if it is a finite number of seconds in range.

    :param name: how the message names the argument, such as ``"timeout"``.
    :param value: what was given.
    :param above_zero: refuse 0 too (a timeout of 0 would fail every request).
    :param negative: accept a negative number (a clock moved back).
    :param error: the exception class to raise instead of ``TypeError`` and ``ValueError``.
    :param hint: said after the range, such as ``"; None means no timeout"``.
    :raises TypeError: ``NAME must be a number of seconds (an int or a float), got '1' (str)``.
    :raises ValueError: ``NAME must be a finite number of seconds, 0 or more, got inf``.
    :return: ``float(value)``.
    """
    if not is_real(value):
        raise (error or TypeError)(
            f"{name} must be a number of seconds (an int or a float){hint}, "
            f"got {value!r} ({type(value).__name__})"
        )
    if negative:
        bound, ok = "", math.isfinite(value)
    elif above_zero:
        bound, ok = ", above 0", math.isfinite(value) and value > 0
    else:
        bound, ok = ", 0 or more", math.isfinite(value) and value >= 0
    if not ok:
        raise (error or ValueError)(
            f"{name} must be a finite number of seconds{bound}{hint}, got {value!r}"
        )
    return float(value)
