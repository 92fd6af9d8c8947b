"""The canary: a failing suite's output, under every traceback flag, never shows the API key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CANARY = "sk-canary-5f1e0b7d"

FAILING_SUITE = """
import httpx
import pytest
from pytest_spectron import Spectron


@pytest.fixture
def app_http(spectron_mock):
    # The application's own httpx client, authenticated the usual way.
    with httpx.Client(
        base_url=spectron_mock.endpoint,
        headers={"Authorization": "Bearer " + spectron_mock.api_key},
    ) as client:
        yield client


def test_unroutable(app_http):
    app_http.get("/api/v1/ctx/no-such-operation")


def test_exhausted_retries(spectron, spectron_mock):
    spectron_mock.fail("state", 503)
    spectron.state()


def test_connection_error(spectron, spectron_mock):
    spectron_mock.fail("whoami", "reset")
    spectron.whoami()


def test_plain_assert(spectron, spectron_mock):
    spectron.remember("a fact")
    assert spectron_mock.attempts("remember") == []


def test_app_client_on_the_loopback_server(spectron_server, spectron_mock):
    spectron_mock.fail("state", 500)
    with Spectron("ctx", spectron_server.url, spectron_mock.api_key, max_retries=0) as client:
        client.state()


@pytest.mark.spectron_fault("profile", status=503)
def test_unused_fault(spectron):
    spectron.state()
"""


@pytest.mark.parametrize(
    "flags",
    [
        [],
        ["--showlocals"],
        ["-l", "--tb=long", "-vv"],
        ["--full-trace"],
        ["--spectron-report=true", "-rA"],
        ["--junitxml=report.xml", "-l"],
    ],
    ids=["default", "showlocals", "long-vv", "full-trace", "report", "junitxml"],
)
def test_the_api_key_appears_in_no_output(pytester: pytest.Pytester, flags: list[str]) -> None:
    """stdout, stderr and the JUnit XML of six failing tests hold the key 0 times."""
    pytester.makepyfile(FAILING_SUITE)
    result = pytester.runpytest(f"--spectron-api-key={CANARY}", "-p", "no:randomly", *flags)
    result.assert_outcomes(failed=5, passed=1, errors=1)
    outputs = {"stdout": result.stdout.str(), "stderr": result.stderr.str()}
    xml = Path(pytester.path, "report.xml")
    if xml.exists():
        outputs["junitxml"] = xml.read_text()
    leaks = {name: text.count(CANARY) for name, text in outputs.items() if CANARY in text}
    assert leaks == {}, f"the API key leaked: {leaks}"
    assert "Bearer ***" in outputs["stdout"] or flags == []


APP_HEADERS_SUITE = """
import logging

import httpx
import pytest


def fetch_state(endpoint, key):
    # The app builds its own headers, so httpx's frames hold the key as a plain dict.
    headers = {"Authorization": "Bearer " + key}
    print("calling Spectron with", key)
    logging.getLogger("app").warning("using key %s", key)
    return httpx.get(endpoint + "/api/v1/test-context/state", headers=headers)


@pytest.mark.spectron_fault("state", error="reset")
def test_app_sends_its_own_headers(spectron_mock):
    fetch_state(spectron_mock.endpoint, spectron_mock.api_key)


def test_assertion_names_the_key(spectron_mock):
    key = spectron_mock.api_key
    assert key == "something else"


def test_passing_test_prints_the_key(spectron_mock):
    print("the key is", spectron_mock.api_key)
"""


@pytest.mark.parametrize(
    "flags",
    [
        ["--showlocals"],
        ["-l", "--tb=long", "-vv"],
        ["--full-trace"],
        ["--junitxml=report.xml", "-l", "-o", "junit_logging=all"],
        ["-rA", "-l"],
    ],
    ids=["showlocals", "long-vv", "full-trace", "junitxml", "all-outputs"],
)
def test_a_key_the_app_passes_itself_is_masked_in_every_report(
    pytester: pytest.Pytester, flags: list[str]
) -> None:
    """Locals of the app's and httpx's frames, captured output, logs and junitxml mask the key."""
    pytester.makepyfile(APP_HEADERS_SUITE)
    result = pytester.runpytest(f"--spectron-api-key={CANARY}", "-p", "no:randomly", *flags)
    result.assert_outcomes(failed=2, passed=1)
    outputs = {"stdout": result.stdout.str(), "stderr": result.stderr.str()}
    xml = Path(pytester.path, "report.xml")
    if xml.exists():
        outputs["junitxml"] = xml.read_text()
        assert "calling Spectron with ***" in outputs["junitxml"]
    leaks = {name: text.count(CANARY) for name, text in outputs.items() if CANARY in text}
    assert leaks == {}, f"the API key leaked: {leaks}"
    # Every long traceback shows the app's frame's arguments; locals (-l) show its headers too
    # (pytest 9 also prints keyword-only arguments, so httpx's frames show them without -l).
    assert re.search(r"\bkey += '\*\*\*'", outputs["stdout"])
    if {"-l", "--showlocals"} & set(flags):
        assert re.search(r"headers += \{'Authorization': 'Bearer \*\*\*'\}", outputs["stdout"])
