"""Fault exploration: a suite's passing tests, re-run under every failure their calls can meet."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from typing import Any

import pytest

from pytest_spectron.client._catalogue import RetryClass
from pytest_spectron.plugin._explore import outcomes_to_explore

APP = '''
"""An app with three seeded resilience bugs, and resilient paths around them."""

from pytest_spectron import (
    SpectronAPIError,
    SpectronConnectionError,
    SpectronError,
    SpectronServerError,
    SpectronStreamError,
)


def search(client, query):
    """Bug 1: a connection error or timeout of recall escapes (only HTTP errors are caught)."""
    try:
        return [hit.text for hit in client.recall(query).hits]
    except SpectronAPIError:
        return []


def search_twice(client, query):
    """The first recall is guarded; the second one (call 2) is not."""
    try:
        client.recall(query)
    except SpectronError:
        pass
    return [hit.text for hit in client.recall(query).hits]


def drop(client, fact_id):
    """Bug 2: a 5xx of forget escapes (4xx and network failures are handled)."""
    try:
        client.forget(fact_id)
    except SpectronServerError:
        raise
    except (SpectronAPIError, SpectronConnectionError):
        return False
    return True


def ask_streaming(client, question):
    """Bug 3: a cut stream escapes (HTTP errors and network failures are handled)."""
    received = []
    try:
        with client.chat(question, stream=True) as stream:
            received.extend(chunk.delta for chunk in stream)
    except SpectronStreamError:
        raise
    except (SpectronAPIError, SpectronConnectionError):
        return "unavailable"
    return "".join(received)


def note(client, text):
    """Resilient: any failure of remember becomes a message."""
    try:
        client.remember(text)
    except SpectronError:
        return "not saved"
    return "saved"


def healthy(client):
    """Resilient: any failure of state means unavailable."""
    try:
        client.state()
    except SpectronError:
        return False
    return True


def lookup(client, query):
    """Resilient with a fallback: recall failing, state answers instead; both guarded."""
    try:
        return client.recall(query).hits
    except SpectronError:
        pass
    try:
        client.state()
    except SpectronError:
        return None
    return []
'''

SUITE = """
import app


def test_search(spectron):
    assert app.search(spectron, "boiler") == []


def test_search_twice(spectron):
    assert app.search_twice(spectron, "boiler") == []


def test_drop(spectron):
    assert app.drop(spectron, "fact-1") in (True, False)


def test_ask_streaming(spectron):
    assert isinstance(app.ask_streaming(spectron, "hello?"), str)


def test_note(spectron, spectron_mock):
    said = app.note(spectron, "the boiler code is 4821")
    # A transient failure (times=1) is absorbed by the client's retry.
    persistent = [f for f in spectron_mock.injected("remember") if f.times is None]
    assert said == ("not saved" if persistent else "saved")


def test_healthy(spectron):
    assert app.healthy(spectron) in (True, False)


def test_lookup(spectron):
    assert app.lookup(spectron, "boiler") in ([], None)


def test_no_spectron():
    assert 1 + 1 == 2
"""

BUGS = [
    ("test_drop", "forget", 1, "503", False),
    ("test_search", "recall", 1, "connect", False),
    ("test_search", "recall", 1, "read_timeout", False),
    ("test_search_twice", "recall", 2, "503", False),
    ("test_search_twice", "recall", 2, "429", False),
    ("test_search_twice", "recall", 2, "401", False),
    ("test_search_twice", "recall", 2, "404", False),
    ("test_search_twice", "recall", 2, "422", False),
    ("test_search_twice", "recall", 2, "connect", False),
    ("test_search_twice", "recall", 2, "read_timeout", False),
    ("test_ask_streaming", "chat", 1, "stream_cut", False),
]
"""The seeded bugs, as ``(test, operation, call, outcome, transient)``, sorted as the JSON is."""


@dataclass(frozen=True)
class Explored:
    """One exploration of the seeded suite, shared by the tests that only read it."""

    ret: int
    stdout: str
    report: dict[str, Any]
    text: str
    """The JSON file, as written."""

    def fnmatch_lines(self, lines: list[str]) -> None:
        """Assert the lines appear in order in the output, as ``RunResult.stdout`` does."""
        pytest.LineMatcher(self.stdout.splitlines()).fnmatch_lines(lines)


@pytest.fixture(scope="module")
def explored(tmp_path_factory: pytest.TempPathFactory) -> Explored:
    """The seeded suite explored once, in a pytest of its own (the tests only read it)."""
    directory = tmp_path_factory.mktemp("seeded")
    (directory / "pytest.ini").write_text(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
    )
    (directory / "app.py").write_text(APP)
    (directory / "test_app.py").write_text(SUITE)
    command = [sys.executable, "-m", "pytest", "-p", "no:randomly", "-p", "no:cacheprovider"]
    command += ["--spectron-explore", "--spectron-explore-json=explore.json"]
    done = subprocess.run(command, cwd=directory, capture_output=True, text=True, check=False)
    text = (directory / "explore.json").read_text()
    return Explored(done.returncode, done.stdout, json.loads(text), text)


def write_suite(pytester: pytest.Pytester) -> None:
    """The app module and its suite."""
    pytester.makepyfile(app=APP, test_app=SUITE)


def explore(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, dict[str, Any]]:
    """Run the suite explored; the result and the JSON findings."""
    result = pytester.runpytest(
        "-p", "no:randomly", "--spectron-explore", "--spectron-explore-json=explore.json", *args
    )
    report: dict[str, Any] = json.loads((pytester.path / "explore.json").read_text())
    return result, report


def failed(report: dict[str, Any]) -> list[tuple[str, str, int, str, bool]]:
    """The failed findings' coordinates, in the JSON's order."""
    return [
        (
            finding["nodeid"].rpartition("::")[2],
            finding["operation"],
            finding["call"],
            finding["outcome"],
            finding["transient"],
        )
        for finding in report["findings"]
        if finding["verdict"] == "failed"
    ]


def test_exploration_reports_exactly_the_seeded_bugs(explored: Explored) -> None:
    """Every seeded bug is a failed finding; no resilient path has one."""
    report = explored.report
    assert sorted(failed(report)) == sorted(BUGS)
    assert failed(report) == sorted(BUGS, key=lambda bug: bug[0])  # by test id, then run order
    survived = {
        finding["nodeid"].rpartition("::")[2]
        for finding in report["findings"]
        if finding["verdict"] == "survived"
    }
    assert {"test_note", "test_healthy", "test_lookup"} <= survived
    assert explored.ret == pytest.ExitCode.TESTS_FAILED


def test_findings_have_the_documented_shape(explored: Explored) -> None:
    """The JSON has the version, test and run counts, and each finding every documented key."""
    report = explored.report
    assert set(report) == {"version", "tests", "runs", "findings"}
    assert report["version"] == 1
    assert report["tests"] == 7  # test_no_spectron calls nothing
    assert report["runs"] >= len(report["findings"]) > 0
    keys = {"nodeid", "operation", "call", "outcome", "transient", "verdict", "message"}
    for finding in report["findings"]:
        assert keys | {"reproduce", "under"} == set(finding)
    by_coordinates = {
        (
            f["nodeid"].rpartition("::")[2],
            f["operation"],
            f["call"],
            f["outcome"],
            f["transient"],
        ): f
        for f in report["findings"]
    }
    drop = by_coordinates["test_drop", "forget", 1, "503", False]
    assert drop["verdict"] == "failed"
    assert drop["message"].startswith("SpectronServerError: forget: HTTP 503")
    assert drop["reproduce"] == '@pytest.mark.spectron_fault("forget", 503)'
    second = by_coordinates["test_search_twice", "recall", 2, "404", False]
    assert second["reproduce"] == '@pytest.mark.spectron_fault("recall", 404, call=2)'
    transient = by_coordinates["test_healthy", "state", 1, "503", True]
    assert transient["transient"] is True
    assert transient["reproduce"] == '@pytest.mark.spectron_fault("state", 503, times=1)'


def test_each_reproduce_marker_fails_its_test_in_a_normal_run(
    pytester: pytest.Pytester, explored: Explored
) -> None:
    """Pasted above a copy of its test, each failed finding's marker fails it without exploring."""
    pytester.makepyfile(app=APP)
    report = explored.report
    bodies = {
        name: body
        for name, _, body in (
            chunk.partition("(")
            for chunk in SUITE.split("\ndef ")[1:]  # each test function, from its name on
        )
    }
    copies = ["import pytest", "import app"]
    findings = [finding for finding in report["findings"] if finding["verdict"] == "failed"]
    for number, finding in enumerate(findings):
        name = finding["nodeid"].rpartition("::")[2]
        copies.append(finding["reproduce"])
        copies.append(f"def {name}_{number}({bodies[name]}")
    pytester.makepyfile(test_app="\n".join(copies))
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(failed=len(findings))
    assert len(findings) == len(BUGS)


def test_two_explorations_write_the_same_json(
    pytester: pytest.Pytester, explored: Explored
) -> None:
    """Exploration is deterministic: the same findings, in the same order, byte for byte."""
    write_suite(pytester)
    explore(pytester)
    assert (pytester.path / "explore.json").read_text() == explored.text


def test_xdist_gives_the_same_findings_as_a_serial_run(
    pytester: pytest.Pytester, explored: Explored
) -> None:
    """Workers explore their own tests and send the findings: ``-n 2`` writes the serial JSON."""
    write_suite(pytester)
    result = pytester.runpytest(
        "-n", "2", "--spectron-explore", "--spectron-explore-json=explore.json"
    )
    result.stdout.fnmatch_lines(["created: 2/2 workers"])
    assert json.loads((pytester.path / "explore.json").read_text()) == explored.report
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_pytest_counts_only_the_normal_runs(explored: Explored) -> None:
    """The extra runs are no extra items: the outcome line is the normal run's."""
    explored.fnmatch_lines(["*= 8 passed in *"])
    assert "rerun" not in explored.stdout


def test_the_terminal_lists_each_failed_finding_with_its_marker(explored: Explored) -> None:
    """The summary names the test, call and outcome, the error's first line and the marker."""
    report = explored.report
    survived = len(report["findings"]) - len(BUGS)
    explored.fnmatch_lines(
        [
            "*= Spectron fault exploration =*",
            f"7 tests explored in {report['runs']} runs: {survived} survived, 11 failed.",
            "FAILED test_app.py::test_drop  forget call 1  503",
            "    SpectronServerError: forget: HTTP 503*",
            '    @pytest.mark.spectron_fault("forget", 503)',
        ]
    )
    explored.fnmatch_lines(
        [
            "FAILED test_app.py::test_search_twice  recall call 2  connect",
            "    SpectronConnectionError: recall: *",
            '    @pytest.mark.spectron_fault("recall", "connect", call=2)',
        ]
    )
    explored.fnmatch_lines(["*11 explored failures failed a test*--spectron-explore-fail=never*"])


def test_fail_never_only_reports(pytester: pytest.Pytester) -> None:
    """``--spectron-explore-fail=never``: the findings are listed, the exit status is 0."""
    pytester.makepyfile(app=APP)
    pytester.makepyfile(
        test_app="""
        import app

        def test_drop(spectron):
            assert app.drop(spectron, "fact-1") in (True, False)
        """
    )
    result, report = explore(pytester, "--spectron-explore-fail=never")
    assert failed(report) == [("test_drop", "forget", 1, "503", False)]
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["FAILED test_app.py::test_drop  forget call 1  503"])


def test_a_resilient_suite_passes_its_exploration(pytester: pytest.Pytester) -> None:
    """No failed finding: exit status 0, and every run survived."""
    pytester.makepyfile(app=APP)
    pytester.makepyfile(
        test_app="""
        import app

        def test_healthy(spectron):
            assert app.healthy(spectron) in (True, False)
        """
    )
    result, report = explore(pytester)
    assert result.ret == pytest.ExitCode.OK
    assert [finding["outcome"] for finding in report["findings"]] == [
        outcome for outcome, _ in outcomes_to_explore("read")
    ]
    assert {finding["verdict"] for finding in report["findings"]} == {"survived"}


def test_a_fallback_call_is_explored_under_the_fault_that_makes_it(explored: Explored) -> None:
    """``state`` is only called when recall fails: its failures are explored under that one."""
    report = explored.report
    fallbacks = [
        finding
        for finding in report["findings"]
        if finding["nodeid"].endswith("::test_lookup") and finding["under"]
    ]
    assert fallbacks, "no fallback explored"
    assert {finding["operation"] for finding in fallbacks} == {"state"}
    assert fallbacks[0]["under"] == [
        {"operation": "recall", "call": 1, "outcome": "503", "transient": False}
    ]
    assert [finding["outcome"] for finding in fallbacks] == [
        outcome for outcome, _ in outcomes_to_explore("read")
    ]
    assert fallbacks[0]["reproduce"] == (
        '@pytest.mark.spectron_fault("recall", 503)\n'
        '@pytest.mark.spectron_fault("state", 503, times=1)'
    )


def test_injected_is_empty_in_a_normal_run_and_lists_the_explored_fault(
    pytester: pytest.Pytester,
) -> None:
    """``spectron_mock.injected()`` lists what exploration injected, per operation if asked."""
    pytester.makepyfile(
        """
        SEEN = []

        def test_records(spectron, spectron_mock):
            spectron.whoami()
            SEEN.append(
                [(f.target, f.call, f.spec()) for f in spectron_mock.injected()]
                + [len(spectron_mock.injected("state"))]
            )

        def test_shows(request):
            print("SEEN", SEEN)
        """
    )
    result = pytester.runpytest("-p", "no:randomly", "-s", "--spectron-explore")
    assert "SEEN [[0], [('whoami', 1, 'whoami=503x1 call 1'), 0]" in result.stdout.str()


def test_the_budget_caps_the_runs_per_test(pytester: pytest.Pytester) -> None:
    """``--spectron-explore-budget=3``: three runs, and the summary says how many were left."""
    pytester.makepyfile(app=APP)
    pytester.makepyfile(
        test_app="""
        import app

        def test_healthy(spectron):
            assert app.healthy(spectron) in (True, False)
        """
    )
    result, report = explore(pytester, "--spectron-explore-budget=3")
    assert report["runs"] == 3
    left = len(outcomes_to_explore("read")) - 3
    result.stdout.fnmatch_lines(
        [f"test_app.py::test_healthy: {left} runs left unexplored (--spectron-explore-budget=3)"]
    )


def test_depth_two_tries_pairs_of_calls(pytester: pytest.Pytester) -> None:
    """``--spectron-explore-depth=2``: every pair of faults on two different calls runs too."""
    pytester.makepyfile(app=APP)
    pytester.makepyfile(
        test_app="""
        import app

        def test_two(spectron):
            assert app.note(spectron, "x") in ("saved", "not saved")
            assert app.healthy(spectron) in (True, False)
        """
    )
    _, single = explore(pytester)
    _, pairs = explore(pytester, "--spectron-explore-depth=2")
    remember, state = len(outcomes_to_explore("idempotent_write")), len(outcomes_to_explore("read"))
    assert single["runs"] == remember + state
    assert pairs["runs"] == remember + state + remember * state
    under = [finding for finding in pairs["findings"] if finding["under"]]
    assert len(under) == remember * state
    assert under[0]["under"][0]["operation"] == "remember"
    assert under[0]["operation"] == "state"


def test_explored_runs_that_survive_count_as_coverage(pytester: pytest.Pytester) -> None:
    """An outcome a test survived under exploration is covered; a transient one is not."""
    pytester.makepyfile(app=APP)
    pytester.makepyfile(
        test_app="""
        import app

        def test_healthy(spectron):
            assert app.healthy(spectron) in (True, False)
        """
    )
    pytester.runpytest("-p", "no:randomly", "--spectron-coverage-json=plain.json")
    plain = json.loads((pytester.path / "plain.json").read_text())
    assert plain["operations"]["state"]["covered"] == []
    explore(pytester, "--spectron-coverage-json=explored.json")
    explored = json.loads((pytester.path / "explored.json").read_text())
    assert explored["operations"]["state"]["covered"] == [
        "401",
        "404",
        "422",
        "429",
        "503",
        "connect",
        "read_timeout",
    ]
    assert explored["operations"]["state"]["calls"] == plain["operations"]["state"]["calls"]


def test_a_failing_or_spectron_free_test_is_not_explored(pytester: pytest.Pytester) -> None:
    """Only passing tests that called Spectron are re-run."""
    pytester.makepyfile(
        """
        def test_fails(spectron):
            spectron.whoami()
            assert False

        def test_no_calls(spectron_mock):
            pass

        def test_nothing():
            pass
        """
    )
    result, report = explore(pytester)
    assert (report["tests"], report["runs"], report["findings"]) == (0, 0, [])
    result.assert_outcomes(passed=2, failed=1)


def test_each_run_has_fresh_function_fixtures(pytester: pytest.Pytester) -> None:
    """Each run sets function-scoped fixtures up and tears them down again; modules once."""
    pytester.makepyfile(
        """
        import pytest

        EVENTS = []

        @pytest.fixture(scope="module")
        def shared():
            EVENTS.append("module")
            yield

        @pytest.fixture
        def fresh(spectron_mock):
            assert len(spectron_mock.attempts()) == 0
            EVENTS.append("function")
            yield

        def test_reads(shared, fresh, spectron):
            try:
                spectron.whoami()
            except Exception:
                pass

        def test_count():
            print("EVENTS", EVENTS.count("module"), EVENTS.count("function"))
        """
    )
    result = pytester.runpytest("-p", "no:randomly", "-s", "--spectron-explore")
    runs = len(outcomes_to_explore("read"))
    assert f"EVENTS 1 {1 + runs}" in result.stdout.str()


@pytest.mark.parametrize(
    ("option", "value", "accepts"),
    [
        ("--spectron-explore-depth", "3", "1 or 2"),
        ("--spectron-explore-budget", "0", "a whole number of 1 or more, or none for no limit"),
        ("--spectron-explore-fail", "sometimes", "failed or never"),
        ("--spectron-explore", "maybe", "true or false"),
    ],
)
def test_a_bad_exploration_option_is_a_usage_error(
    pytester: pytest.Pytester, option: str, value: str, accepts: str
) -> None:
    """A bad value stops the run before any test, naming the option and what it accepts."""
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest(f"{option}={value}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    ini = option.removeprefix("--").replace("-", "_")
    result.stderr.fnmatch_lines([f"*{option} / {ini}: got '{value}'; expected {accepts}*"])


def test_the_ini_setting_turns_exploration_on(pytester: pytest.Pytester) -> None:
    """``spectron_explore = true`` in the ini file explores as the flag does."""
    pytester.makeini(
        textwrap.dedent(
            """
            [pytest]
            asyncio_default_fixture_loop_scope = function
            spectron_explore = true
            spectron_explore_json = explore.json
            """
        )
    )
    pytester.makepyfile("def test_reads(spectron):\n    spectron.whoami()\n")
    result = pytester.runpytest("-p", "no:randomly")
    report = json.loads((pytester.path / "explore.json").read_text())
    assert report["tests"] == 1
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # whoami's failures escape the test


@pytest.mark.parametrize(
    ("retry_class", "expected"),
    [
        ("read", ["503 once", "503", "429", "401", "404", "422", "connect", "read_timeout"]),
        (
            "idempotent_write",
            ["503 once", "503", "429", "401", "404", "422", "connect", "read_timeout"],
        ),
        ("write", ["503", "429", "401", "404", "422", "connect", "read_timeout"]),
        ("stream", ["503", "429", "401", "404", "422", "connect", "read_timeout", "stream_cut"]),
    ],
)
def test_each_class_is_explored_with_one_outcome_per_way_the_policy_fails_it(
    retry_class: RetryClass, expected: list[str]
) -> None:
    """Transient only where the policy retries; stream_cut only for streams; in this order."""
    explored = outcomes_to_explore(retry_class)
    assert [f"{outcome} once" if once else outcome for outcome, once in explored] == expected
