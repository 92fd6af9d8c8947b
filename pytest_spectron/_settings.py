"""The plugin's settings and markers: what pytest registers at start-up, kept import-light.

Command-line options win over ini values, which win over the defaults; each is validated once.
Nothing here imports the client or the fake, so loading the plugin costs next to nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from pytest_spectron._endpoint import check_endpoint

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_CONTEXT",
    "DEFAULT_ENDPOINT",
    "FAULT_MARKER",
    "FAULT_MARKER_DOC",
    "MATRIX_MARKER",
    "MATRIX_MARKER_DOC",
    "OPTIONS",
    "Option",
    "Settings",
    "SettingsError",
]

DEFAULT_ENDPOINT = "http://spectron.test"
DEFAULT_CONTEXT = "test-context"
DEFAULT_API_KEY = "sk-spectron-test-key"

FAULT_MARKER = "spectron_fault"
MATRIX_MARKER = "spectron_matrix"
FAULT_MARKER_DOC = (
    "spectron_fault(op, *, status=None, error=None, latency=None, times=None, retry_after=None, "
    "body=None, headers=None, after=None, rate=None, seed=None, optional=False): make the "
    "Spectron fake fail `op` (an operation such as 'state' or 'documents.upload', a retry "
    "class such as 'read', or '*') with an HTTP `status`, a network `error` (connect, "
    "connect_timeout, read_timeout, reset), a malformed body (truncated_json, html, empty), "
    "a cut stream (stream_cut with after=N frames) or `latency` seconds of virtual delay; "
    "`times=N` limits it to N attempts, `rate`/`seed` apply it at random, reproducibly. "
    "Markers stack: the closest applies first. The marker activates spectron_mock for the "
    "test; a fault no attempt matched fails the test at teardown unless optional=True."
)
MATRIX_MARKER_DOC = (
    "spectron_matrix(op=None, *, retry_class=None, outcomes=None, max_retries=3): narrow the "
    "status matrix the `spectron_case` fixture parametrizes a test over, and name the operation "
    "its failure is injected into."
)

T = TypeVar("T")


class SettingsError(ValueError):
    """A setting has a value it cannot take; the message names the option and what it accepts."""


@dataclass(frozen=True)
class Option:
    """One setting, spelled ``--spectron-NAME`` on the command line and ``spectron_NAME`` in ini."""

    name: str
    help: str
    default: str
    accepts: str

    @property
    def flag(self) -> str:
        """The command-line spelling."""
        return "--spectron-" + self.name.replace("_", "-")

    @property
    def ini(self) -> str:
        """The ini-file spelling."""
        return "spectron_" + self.name


OPTIONS = (
    Option(
        "endpoint",
        "base URL the spectron_mock fixture answers",
        DEFAULT_ENDPOINT,
        "an absolute http(s) URL such as http://spectron.test, with an optional path prefix "
        "(http://spectron.test/spectron)",
    ),
    Option(
        "context",
        "context id of the clients the fixtures build",
        DEFAULT_CONTEXT,
        "a non-empty context id",
    ),
    Option(
        "api_key",
        "API key the fixtures' clients send, and the fake accepts",
        DEFAULT_API_KEY,
        "a non-empty key without spaces",
    ),
    Option(
        "strict",
        "fail a test whose request to the endpoint matches no Spectron operation",
        "true",
        "true or false",
    ),
    Option(
        "assert_all_faults_used",
        "fail a test at teardown when one of its faults matched no attempt",
        "true",
        "true or false",
    ),
    Option(
        "report",
        "print each test's attempt ledger in the terminal summary",
        "false",
        "true or false",
    ),
)


@dataclass(frozen=True)
class Settings:
    """The validated settings the fixtures use."""

    endpoint: str
    context: str
    api_key: str = field(repr=False)
    strict: bool
    assert_all_faults_used: bool
    report: bool

    @classmethod
    def resolve(cls, lookup: Callable[[Option], str | None]) -> Settings:
        """Validate each option's value.

        ``lookup`` gives the command line's value, else the ini file's, else None (the default).
        """
        named = {option.name: option for option in OPTIONS}

        def setting(name: str, parse: Callable[[str], T]) -> T:
            return _check(named[name], _value(named[name], lookup), parse)

        return cls(
            endpoint=setting("endpoint", _endpoint),
            context=setting("context", _non_empty),
            api_key=setting("api_key", _api_key),
            strict=setting("strict", _boolean),
            assert_all_faults_used=setting("assert_all_faults_used", _boolean),
            report=setting("report", _boolean),
        )


def _value(option: Option, lookup: Callable[[Option], str | None]) -> str:
    # None means "not given": an empty value given on purpose is checked like any other.
    value = lookup(option)
    return option.default if value is None else value


def _check(option: Option, value: str, parse: Callable[[str], T]) -> T:
    try:
        return parse(value)
    except ValueError:
        shown = "***" if option.name == "api_key" else repr(value)
        raise SettingsError(
            f"{option.flag} / {option.ini}: got {shown}; expected {option.accepts}"
        ) from None


def _endpoint(value: str) -> str:
    return check_endpoint(value, argument="--spectron-endpoint")


def _non_empty(value: str) -> str:
    if not value.strip():
        raise ValueError(value)
    return value


def _api_key(value: str) -> str:
    if not value.strip() or any(character.isspace() for character in value):
        raise ValueError(value)
    return value


def _boolean(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "yes", "1", "on"):
        return True
    if lowered in ("false", "no", "0", "off"):
        return False
    raise ValueError(value)
