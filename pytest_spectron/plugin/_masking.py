"""Mask the configured API keys in every report pytest writes, as CI systems mask secrets.

A report carries all a test's output: its traceback (the locals of every frame under
``--showlocals``, the application's and httpx's included, the assertion's explanation), its
captured stdout, stderr and logs. The terminal, ``-rA``, junitxml and pytest-xdist's controller
all write from it, so a key replaced here is replaced everywhere.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

import pytest

from pytest_spectron._shared._defaults import DEFAULT_API_KEY

__all__ = ["MASK", "mask_report", "secrets_of"]

MASK = "***"
_SHORTEST_SECRET = 6
"""A shorter key is a placeholder ("key", "x"): masking it would mangle every report."""


def secrets_of(keys: Iterable[str | None]) -> tuple[str, ...]:
    """The keys to mask: given, not the fake's public default, and long enough to be secret."""
    return tuple(
        sorted(
            {
                key
                for key in keys
                if key and key != DEFAULT_API_KEY and len(key) >= _SHORTEST_SECRET
            },
            key=len,
            reverse=True,
        )
    )


def mask_report(report: pytest.TestReport, secrets: tuple[str, ...]) -> None:
    """Replace each secret with ``***`` in the report's traceback and output sections."""
    if not secrets:
        return
    report.sections = [(title, _mask(content, secrets)) for title, content in report.sections]
    longrepr = report.longrepr
    if isinstance(longrepr, str):
        report.longrepr = _mask(longrepr, secrets)
    elif isinstance(longrepr, tuple):
        path, line, message = longrepr
        report.longrepr = (path, line, _mask(message, secrets))
    elif longrepr is not None:
        _mask_fields(longrepr, secrets)


def _mask(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def _masked(value: Any, secrets: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        return _mask(value, secrets)
    if isinstance(value, list):
        return [_masked(item, secrets) for item in value]
    if isinstance(value, tuple):
        return tuple(_masked(item, secrets) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        _mask_fields(value, secrets)
    return value


def _mask_fields(representation: Any, secrets: tuple[str, ...]) -> None:
    """Mask every text of a traceback's representation (pytest's ``TerminalRepr`` dataclasses)."""
    for name, value in list(vars(representation).items()):
        masked = _masked(value, secrets)
        if masked is not value:
            object.__setattr__(representation, name, masked)
