"""Numbers read from text a user or a peer sent: ASCII digits only.

``str.isdigit``, ``int`` and ``float`` also take other scripts' digits (``'²'``, ``'٣'``), signs,
surrounding spaces and ``_`` separators; ``int`` then raises on some of them (``int('²')``) and
on numbers longer than 4300 digits. A protocol number, a port or a fault spec count is none of
those, so every such number is read here, and a text that is not one gives ``None``.
"""

from __future__ import annotations

import math
import re

__all__ = ["decimal_number", "whole_number"]

_WHOLE = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_MAX_DIGITS = 4000
"""Longer numbers are refused: ``int`` raises past 4300 digits, and slows down well before."""


def whole_number(text: str) -> int | None:
    """``text`` as an int if it is ASCII digits ``0-9`` only (leading zeros allowed), else None."""
    significant = text.lstrip("0")
    if _WHOLE.fullmatch(text) is None or len(significant) > _MAX_DIGITS:
        return None
    return int(significant or "0")


def decimal_number(text: str) -> float | None:
    """``text`` as a finite float if it is an ASCII decimal (``2``, ``-0.5``, ``1e3``), else None.

    ``inf``, ``nan``, ``1e999``, ``1_0`` and other scripts' digits are not decimals here.
    """
    if len(text) > _MAX_DIGITS or _DECIMAL.fullmatch(text) is None:
        return None
    value = float(text)
    return value if math.isfinite(value) else None
