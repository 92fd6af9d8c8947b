"""The plugin's settings and markers: what pytest registers at start-up, kept import-light.

Command-line options win over ini values, which win over the defaults; each is validated once.
In live mode (``upstream``), a key given nowhere else comes from ``SPECTRON_API_KEY``.
Nothing here imports the client or the fake, so loading the plugin costs next to nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from pytest_spectron._shared._defaults import (
    API_KEY_ENVIRONMENT,
    DEFAULT_API_KEY,
    DEFAULT_CONTEXT,
    DEFAULT_ENDPOINT,
    DEFAULT_REAL_WAIT,
    DEFAULT_UPSTREAM_TIMEOUT,
)
from pytest_spectron._shared._endpoint import check_endpoint

__all__ = [
    "FAKE_ONLY_MARKER",
    "FAKE_ONLY_MARKER_DOC",
    "FAULT_MARKER",
    "FAULT_MARKER_DOC",
    "MATRIX_MARKER",
    "MATRIX_MARKER_DOC",
    "OPTIONS",
    "Option",
    "Settings",
    "SettingsError",
]

FAULT_MARKER = "spectron_fault"
MATRIX_MARKER = "spectron_matrix"
FAKE_ONLY_MARKER = "spectron_fake_only"
FAULT_MARKER_DOC = (
    "spectron_fault(target, *outcomes, status=None, error=None, latency=None, retry_after=None, "
    "body=None, headers=None, error_format=None, after=None, times=None, rate=None, seed=None, "
    "when=None, call=None, optional=False): make the Spectron fake fail `target` (an operation "
    "such as 'state' or 'documents.upload', a retry class such as 'read', or '*') with a script of "
    "`outcomes` (503, 'connect', '503x2,ok'), or one of an HTTP `status`, a network `error` "
    "(connect, connect_timeout, read_timeout, reset), a malformed body (truncated_json, html, "
    "empty), a cut stream (stream_cut with after=N frames) or `latency` seconds of virtual "
    "delay; `times=N` limits it to N attempts, `rate`/`seed` apply it at random, reproducibly, "
    "`when` to the requests a predicate accepts, `call=N` to the N-th call of the operation "
    "(its retries included). "
    "Markers stack: the closest applies first. The marker activates spectron_mock for the "
    "test; a fault that took effect on no attempt fails the test at teardown unless "
    "optional=True."
)
MATRIX_MARKER_DOC = (
    "spectron_matrix(op=None, *, retry_class=None, outcomes=None, max_retries=3): narrow the "
    "status matrix the `spectron_case` fixture parametrizes a test over, and name the operation "
    "its failure is injected into. An operation called two ways (chat, plain or streamed) gets "
    "the cases of both; a case for the call the test did not make is skipped."
)
FAKE_ONLY_MARKER_DOC = (
    "spectron_fake_only(reason=None): the test needs the Spectron fake (it seeds or inspects "
    "spectron_mock.fake): skip it in live mode (--spectron-upstream), where there is no fake."
)

T = TypeVar("T")

DEFAULT_EXPLORE_BUDGET = 100


class SettingsError(ValueError):
    """A setting has a value it cannot take; the message names the option and what it accepts."""


@dataclass(frozen=True)
class Option:
    """One setting, spelled ``--spectron-NAME`` on the command line and ``spectron_NAME`` in ini."""

    name: str
    help: str
    default: str
    accepts: str
    alone: str | None = None
    """The value the flag means when given without one (``--spectron-coverage``), if it may be."""

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
        "fail a test at teardown when one of its faults took effect on no attempt",
        "true",
        "true or false",
    ),
    Option(
        "unknown_fields",
        "what a request field the Spectron document does not name does: ignore (as Spectron "
        "does; the attempt ledger notes it) or error (the test fails at teardown)",
        "ignore",
        "ignore or error",
    ),
    Option(
        "report",
        "print each test's attempt ledger in the terminal summary",
        "false",
        "true or false",
    ),
    Option(
        "coverage",
        "print which of the status matrix's failures the passing tests injected into each "
        "operation they called",
        "false",
        "true or false",
        alone="true",
    ),
    Option(
        "coverage_json",
        "write the fault coverage report as JSON to this file",
        "none",
        "a file path, or none",
    ),
    Option(
        "coverage_html",
        "write the fault coverage report as one self-contained HTML page to this file",
        "none",
        "a file path, or none",
    ),
    Option(
        "coverage_fail_under",
        "fail the run when the fault coverage is below this percentage",
        "0",
        "a percentage from 0 to 100",
    ),
    Option(
        "block_network",
        "refuse every request of an intercepted client (httpx, httpx2) that no mock answers "
        "and that would reach the network; loopback hosts are allowed",
        "false",
        "true or false",
        alone="true",
    ),
    Option(
        "explore",
        "fault exploration: run each passing test that calls Spectron again once per call it "
        "makes and way that call can fail, and report the failures it does not survive",
        "false",
        "true or false",
        alone="true",
    ),
    Option(
        "explore_depth",
        "fault exploration: faults per run, 1 (each failure alone) or 2 (every pair too)",
        "1",
        "1 or 2",
    ),
    Option(
        "explore_budget",
        "fault exploration: the most runs per test, beyond its normal run",
        f"{DEFAULT_EXPLORE_BUDGET}",
        "a whole number of 1 or more, or none for no limit",
    ),
    Option(
        "explore_json",
        "fault exploration: write every finding as JSON to this file",
        "none",
        "a file path, or none",
    ),
    Option(
        "explore_fail",
        "fault exploration: fail the run when a test does not survive an explored failure "
        "(failed), or only report it (never)",
        "failed",
        "failed or never",
    ),
    Option(
        "upstream",
        "live mode: the fixtures forward every attempt no fault takes to the Spectron at this "
        "URL, with the same faults, clock and journal in front of it",
        "none",
        "none, or an absolute http(s) URL such as https://spectron.example.com",
    ),
    Option(
        "upstream_timeout",
        "live mode: seconds to wait for the upstream to connect and for each read; then 504",
        f"{DEFAULT_UPSTREAM_TIMEOUT:g}",
        "a number of seconds above 0",
    ),
    Option(
        "upstream_insecure",
        "live mode: accept any certificate from an https upstream (dangerous: anyone between "
        "can read the API key)",
        "false",
        "true or false",
        alone="true",
    ),
    Option(
        "real_wait",
        "real seconds an async test on virtual time may wait, with no timer due, for what only "
        "real time delivers (a thread, a subprocess, a socket); then it fails, naming the wait",
        f"{DEFAULT_REAL_WAIT:g}",
        "a number of seconds above 0",
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
    unknown_fields: str
    """``ignore`` or ``error``: whether a field Spectron would ignore fails the test."""
    report: bool
    coverage: bool
    coverage_json: str | None
    coverage_html: str | None
    coverage_fail_under: float
    """0 checks nothing."""
    block_network: bool
    explore: bool
    explore_depth: int
    explore_budget: int | None
    """None: no limit."""
    explore_json: str | None
    explore_fail: bool
    """Whether a failed finding fails the run (``failed``), or is only reported (``never``)."""
    upstream: str | None
    """The live mode's upstream Spectron; None for the fake."""
    upstream_timeout: float
    upstream_insecure: bool
    real_wait: float
    """Real seconds an async test on virtual time may wait for the outside."""

    @property
    def collects_coverage(self) -> bool:
        """Whether a fault coverage option is on, so each test's injected failures are recorded."""
        return (
            self.coverage
            or self.coverage_json is not None
            or self.coverage_html is not None
            or self.coverage_fail_under > 0
        )

    @property
    def explores(self) -> bool:
        """Whether fault exploration is on: ``explore``, or a file to write its findings to."""
        return self.explore or self.explore_json is not None

    @classmethod
    def resolve(cls, lookup: Callable[[Option], str | None]) -> Settings:
        """Validate each option's value.

        ``lookup`` gives the command line's value, else the ini file's, else None (the default).
        """
        named = {option.name: option for option in OPTIONS}

        def setting(name: str, parse: Callable[[str], T]) -> T:
            return _check(named[name], _value(named[name], lookup), parse)

        upstream = setting("upstream", _upstream)

        def key_lookup(option: Option) -> str | None:
            given = lookup(option)
            # Live mode sends the key to a real Spectron: keep it out of files.
            return os.environ.get(API_KEY_ENVIRONMENT) if given is None and upstream else given

        return cls(
            endpoint=setting("endpoint", _endpoint),
            context=setting("context", _non_empty),
            api_key=_check(named["api_key"], _value(named["api_key"], key_lookup), _api_key),
            strict=setting("strict", _boolean),
            assert_all_faults_used=setting("assert_all_faults_used", _boolean),
            unknown_fields=setting("unknown_fields", _unknown_fields),
            report=setting("report", _boolean),
            coverage=setting("coverage", _boolean),
            coverage_json=setting("coverage_json", _optional_path),
            coverage_html=setting("coverage_html", _optional_path),
            coverage_fail_under=setting("coverage_fail_under", _percentage),
            block_network=setting("block_network", _boolean),
            explore=setting("explore", _boolean),
            explore_depth=setting("explore_depth", _depth),
            explore_budget=setting("explore_budget", _budget),
            explore_json=setting("explore_json", _optional_path),
            explore_fail=setting("explore_fail", _explore_fail),
            upstream=upstream,
            upstream_timeout=setting("upstream_timeout", _seconds),
            upstream_insecure=setting("upstream_insecure", _boolean),
            real_wait=setting("real_wait", _seconds),
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
        alone = (
            ""
            if option.alone is None
            # argparse gives a bare flag the next argument, often a test path.
            else f" (alone, the flag means {option.alone}: put it after the test paths, "
            f"or write {option.flag}={option.alone})"
        )
        raise SettingsError(
            f"{option.flag} / {option.ini}: got {shown}; expected {option.accepts}{alone}"
        ) from None


def _endpoint(value: str) -> str:
    return check_endpoint(value, argument="--spectron-endpoint")


def _upstream(value: str) -> str | None:
    if value.strip().lower() == "none":
        return None
    return check_endpoint(value, argument="--spectron-upstream")


def _seconds(value: str) -> float:
    seconds = float(value)
    # Written so NaN fails too.
    if not 0 < seconds < float("inf"):
        raise ValueError(value)
    return seconds


def _non_empty(value: str) -> str:
    if not value.strip():
        raise ValueError(value)
    return value


def _api_key(value: str) -> str:
    if not value.strip() or any(character.isspace() for character in value):
        raise ValueError(value)
    return value


def _optional_path(value: str) -> str | None:
    if value.strip().lower() == "none":
        return None
    if not value.strip():
        raise ValueError(value)
    return value


def _percentage(value: str) -> float:
    number = float(value.strip().removesuffix("%"))
    # Written so NaN fails too.
    if not 0 <= number <= 100:
        raise ValueError(value)
    return number


def _unknown_fields(value: str) -> str:
    lowered = value.strip().lower()
    if lowered not in ("ignore", "error"):
        raise ValueError(value)
    return lowered


def _depth(value: str) -> int:
    if value.strip() not in ("1", "2"):
        raise ValueError(value)
    return int(value)


def _budget(value: str) -> int | None:
    if value.strip().lower() == "none":
        return None
    if not value.strip().isdigit() or int(value) < 1:
        raise ValueError(value)
    return int(value)


def _explore_fail(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered not in ("failed", "never"):
        raise ValueError(value)
    return lowered == "failed"


def _boolean(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "yes", "1", "on"):
        return True
    if lowered in ("false", "no", "0", "off"):
        return False
    raise ValueError(value)
