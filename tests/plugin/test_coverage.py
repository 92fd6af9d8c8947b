"""Fault coverage: which of the status matrix's failures passing tests injected, per operation."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from pytest_spectron.client import CATALOGUE
from pytest_spectron.testing.faults._matrix import MATRIX_OUTCOMES

SUITE = """
import pytest
from pytest_spectron import SpectronServerError


@pytest.mark.spectron_fault("state", status=503)
def test_state_gives_up(spectron):
    with pytest.raises(SpectronServerError):
        spectron.state()


@pytest.mark.spectron_fault("state", error="connect", times=1)
def test_state_retries_past_a_refused_connection(spectron):
    spectron.state()


def test_whoami_answers(spectron):
    spectron.whoami()
"""
"""Two operations called: ``state`` with a 503 covered (4 attempts, the call ends in it) and a
refused connection absorbed (2 attempts, the retry succeeds); ``whoami`` with nothing injected."""

READ_OUTCOMES = list(MATRIX_OUTCOMES)


def run_json(pytester: pytest.Pytester, *args: str) -> dict[str, Any]:
    """Run the test files written so far; return the JSON report, after checking none failed."""
    result = pytester.runpytest(
        "-p", "no:randomly", "--spectron-coverage-json=coverage.json", *args
    )
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    report: dict[str, Any] = json.loads((pytester.path / "coverage.json").read_text())
    return report


def covered(report: dict[str, Any]) -> dict[str, list[str]]:
    """``{operation: covered outcomes}``."""
    return {name: row["covered"] for name, row in report["operations"].items()}


def test_no_option_records_and_prints_nothing(pytester: pytest.Pytester) -> None:
    """Without a coverage option the plugin registers no coverage hooks and prints no section."""
    pytester.makepyfile(
        SUITE
        + """

def test_nothing_registered(request):
    assert request.config.pluginmanager.get_plugin("spectron-coverage") is None
"""
    )
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=4)
    result.stdout.no_fnmatch_line("*fault coverage*")


def test_terminal_table_has_a_row_per_called_operation(pytester: pytest.Pytester) -> None:
    """``--spectron-coverage`` prints calls, covered/total, percent, absorbed and missing."""
    pytester.makepyfile(SUITE)
    result = pytester.runpytest("-p", "no:randomly", "--spectron-coverage")
    missing_state = " ".join(outcome for outcome in READ_OUTCOMES if outcome != "503")
    result.stdout.fnmatch_lines(
        [
            "*= Spectron fault coverage =*",
            "operation  retry class  calls  covered  percent  absorbed  missing",
            "-*",
            f"state      read             6     1/13     7.6%  connect   {missing_state}",
            f"whoami     read             1     0/13     0.0%  -         {' '.join(READ_OUTCOMES)}",
            "-*",
            "TOTAL                       7     1/26     3.8%",
            f"{len(CATALOGUE) - 2} of the {len(CATALOGUE)} operations were never called "
            "and have no row.",
        ]
    )
    assert "\x1b[" not in result.stdout.str()


def test_terminal_table_is_coloured_when_the_terminal_is(pytester: pytest.Pytester) -> None:
    """With colour on, a partly covered row's percent is yellow and an uncovered one's red."""
    pytester.makepyfile(SUITE)
    result = pytester.runpytest("-p", "no:randomly", "--spectron-coverage", "--color=yes")
    output = result.stdout.str()
    assert "\x1b[33m     7.6%" in output
    assert "\x1b[31m     0.0%" in output


def test_ini_turns_the_table_on(pytester: pytest.Pytester) -> None:
    """``spectron_coverage = true`` in the ini file prints the table too."""
    pytester.makeini(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\nspectron_coverage = true\n"
    )
    pytester.makepyfile(SUITE)
    result = pytester.runpytest("-p", "no:randomly")
    result.stdout.fnmatch_lines(["*= Spectron fault coverage =*", "state  *1/13*"])


def test_json_report_has_the_documented_shape(pytester: pytest.Pytester) -> None:
    """Every called operation: its class, calls and the matrix ids covered, absorbed, missing."""
    pytester.makepyfile(SUITE)
    assert run_json(pytester) == {
        "version": 1,
        "operations": {
            "state": {
                "retry_class": "read",
                "calls": 6,
                "covered": ["503"],
                "absorbed": ["connect"],
                "missing": [outcome for outcome in READ_OUTCOMES if outcome != "503"],
            },
            "whoami": {
                "retry_class": "read",
                "calls": 1,
                "covered": [],
                "absorbed": [],
                "missing": READ_OUTCOMES,
            },
        },
        "covered": 1,
        "total": 26,
        "percent": 3.8,
    }


def test_a_suite_that_calls_nothing_has_no_rows(pytester: pytest.Pytester) -> None:
    """No operation called: the table says so, and there is nothing left to cover."""
    pytester.makepyfile("def test_elsewhere():\n    pass\n")
    result = pytester.runpytest("--spectron-coverage", "--spectron-coverage-json=coverage.json")
    result.stdout.fnmatch_lines(["No test called a Spectron operation."])
    report = json.loads((pytester.path / "coverage.json").read_text())
    assert report == {"version": 1, "operations": {}, "covered": 0, "total": 0, "percent": 100.0}


def test_json_report_creates_missing_directories(pytester: pytest.Pytester) -> None:
    """A relative path is taken from where pytest runs, and its directories are made."""
    pytester.makepyfile(SUITE)
    result = pytester.runpytest("--spectron-coverage-json=reports/spectron/coverage.json")
    result.stdout.fnmatch_lines(["Spectron fault coverage JSON written to *coverage.json"])
    assert json.loads((pytester.path / "reports/spectron/coverage.json").read_text())["total"] == 26


def test_an_unwritable_path_fails_the_run_and_says_why(pytester: pytest.Pytester) -> None:
    """A report that cannot be written is a failed run, naming the path, not a crash."""
    pytester.makepyfile(SUITE)
    pytester.makefile(".txt", blocker="a file, not a directory")
    result = pytester.runpytest("--spectron-coverage-json=blocker.txt/coverage.json")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        ["Could not write the Spectron fault coverage JSON to *blocker.txt*Pick a writable path."]
    )


def test_a_failing_test_covers_nothing(pytester: pytest.Pytester) -> None:
    """The failure a failing test injected stays missing; its attempts still count as calls."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.spectron_fault("state", status=503)
        def test_fails(spectron):
            spectron.state()
        """
    )
    pytester.runpytest("--spectron-coverage-json=coverage.json").assert_outcomes(failed=1)
    report = json.loads((pytester.path / "coverage.json").read_text())
    assert report["operations"]["state"]["calls"] == 4
    assert report["operations"]["state"]["covered"] == []


@pytest.mark.skipif(
    importlib.util.find_spec("_pytest.subtests") is None, reason="pytest has subtests from 9.0"
)
def test_a_test_with_a_failed_subtest_covers_nothing(pytester: pytest.Pytester) -> None:
    """pytest's ``subtests``: the test's final outcome counts: a failed subtest covers nothing."""
    pytester.makepyfile(
        """
        import pytest
        from pytest_spectron import SpectronNotFoundError

        @pytest.mark.spectron_fault("state", status=404)
        def test_with_subtests(spectron, subtests):
            with subtests.test("handled"):
                with pytest.raises(SpectronNotFoundError):
                    spectron.state()
            with subtests.test("fails"):
                assert False
        """
    )
    pytester.runpytest("-p", "no:randomly", "--spectron-coverage-json=coverage.json")
    report = json.loads((pytester.path / "coverage.json").read_text())
    assert covered(report) == {"state": []}


def test_a_test_that_errors_at_teardown_covers_nothing(pytester: pytest.Pytester) -> None:
    """A test whose unused fault fails it at teardown did not pass, so it covers nothing."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.spectron_fault("forget", status=500)
        @pytest.mark.spectron_fault("state", status=404, times=1)
        def test_never_forgets(spectron):
            with pytest.raises(Exception):
                spectron.state()
        """
    )
    pytester.runpytest("--spectron-coverage-json=coverage.json").assert_outcomes(passed=1, errors=1)
    report = json.loads((pytester.path / "coverage.json").read_text())
    assert covered(report) == {"state": []}


def test_a_fault_the_retries_absorbed_is_not_covered(pytester: pytest.Pytester) -> None:
    """``times=1`` on a read: the retry succeeds, the app never saw the 503: it is absorbed."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.spectron_fault("state", status=503, times=1)
        def test_state(spectron):
            spectron.state()
        """
    )
    row = run_json(pytester)["operations"]["state"]
    assert (row["calls"], row["covered"], row["absorbed"]) == (2, [], ["503"])


def test_each_call_is_judged_on_how_it_ended(pytester: pytest.Pytester) -> None:
    """Attempts group into calls: a 404 the app saw is covered, then a 503 retried past is not."""
    pytester.makepyfile(
        """
        import pytest
        from pytest_spectron import SpectronNotFoundError

        def test_state(spectron, spectron_mock):
            spectron_mock.fail("state", 404, "503", "reset")
            with pytest.raises(SpectronNotFoundError):
                spectron.state()
            spectron.state()  # 503 and reset, then the fake answers: the call succeeds
        """
    )
    row = run_json(pytester)["operations"]["state"]
    assert (row["calls"], row["covered"], row["absorbed"]) == (4, ["404"], ["503", "connect"])


def test_class_and_star_targets_cover_the_operations_they_hit(pytester: pytest.Pytester) -> None:
    """A fault on a retry class or on ``"*"`` covers the operations whose attempts it failed."""
    pytester.makepyfile(
        """
        import pytest
        from pytest_spectron import SpectronAuthError, SpectronNotFoundError

        @pytest.mark.spectron_fault("read", status=404)
        def test_reads(spectron):
            with pytest.raises(SpectronNotFoundError):
                spectron.state()

        @pytest.mark.spectron_fault("*", status=401)
        def test_everything(spectron):
            with pytest.raises(SpectronAuthError):
                spectron.remember("a fact")
        """
    )
    assert covered(run_json(pytester)) == {"remember": ["401"], "state": ["404"]}


def test_spectron_case_covers_each_case(pytester: pytest.Pytester) -> None:
    """Each status matrix case a test runs covers its outcome on the operation called."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.spectron_matrix("forget", outcomes=[409, "connect"])
        def test_forget_fails_cleanly(spectron, spectron_case):
            with pytest.raises(spectron_case.error):
                spectron.forget("a fact")
        """
    )
    assert covered(run_json(pytester)) == {"forget": ["409", "connect"]}


@pytest.mark.parametrize(
    ("fault", "matrix_id"),
    [
        ('error="reset"', ["connect"]),
        ('error="connect_timeout"', ["read_timeout"]),
        ("latency=45", ["read_timeout"]),
        ('error="html"', ["502"]),
        ('"empty:503"', ["503"]),
        ("latency=1", []),
        ("status=200", []),
    ],
)
def test_journal_outcomes_map_to_matrix_ids(
    pytester: pytest.Pytester, fault: str, matrix_id: list[str]
) -> None:
    """Resets are connection errors, slow answers timeouts, malformed bodies their status."""
    pytester.makepyfile(
        f"""
        import pytest
        from pytest_spectron import SpectronError

        @pytest.mark.spectron_fault("forget", {fault})
        def test_forget(spectron):
            try:
                spectron.forget("a fact")
            except SpectronError:
                pass
        """
    )
    assert covered(run_json(pytester)) == {"forget": matrix_id}


def test_a_streamed_call_has_its_own_row(pytester: pytest.Pytester) -> None:
    """A streamed chat is in the ``stream`` class, whose outcomes include ``stream_cut``."""
    pytester.makepyfile(
        """
        import pytest
        from pytest_spectron import SpectronStreamError

        @pytest.mark.spectron_fault("chat", "stream_cut:1")
        def test_cut_stream(spectron):
            with pytest.raises(SpectronStreamError):
                list(spectron.chat("hello", stream=True))
        """
    )
    row = run_json(pytester)["operations"]["chat (stream)"]
    assert row == {
        "retry_class": "stream",
        "calls": 1,
        "covered": ["stream_cut"],
        "absorbed": [],
        "missing": READ_OUTCOMES,
    }


def test_keyword_selection_reports_what_ran(pytester: pytest.Pytester) -> None:
    """With ``-k`` only the selected tests' operations have rows."""
    pytester.makepyfile(SUITE)
    assert list(run_json(pytester, "-k", "whoami")["operations"]) == ["whoami"]


def test_last_failed_reports_what_ran(pytester: pytest.Pytester) -> None:
    """With ``--lf`` only the re-run tests' operations have rows."""
    pytester.makepyfile(
        """
        def test_state(spectron):
            spectron.state()

        def test_whoami(spectron):
            spectron.whoami()
            assert False
        """
    )
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=1, failed=1)
    pytester.runpytest("-p", "no:randomly", "--lf", "--spectron-coverage-json=coverage.json")
    report = json.loads((pytester.path / "coverage.json").read_text())
    assert list(report["operations"]) == ["whoami"]


def test_xdist_gives_the_same_figures_as_a_serial_run(pytester: pytest.Pytester) -> None:
    """Workers send their tallies to the controller: ``-n 2`` writes the serial run's JSON."""
    pytester.makepyfile(
        test_reads=SUITE,
        test_writes="""
        import pytest

        @pytest.mark.spectron_fault("remember", "connect", "503")
        def test_remember_is_retried(spectron):
            spectron.remember("a fact")

        @pytest.mark.spectron_matrix("forget", outcomes=[404, 409, 500])
        def test_forget(spectron, spectron_case):
            with pytest.raises(spectron_case.error):
                spectron.forget("a fact")
        """,
    )
    serial = run_json(pytester)
    result = pytester.runpytest(
        "-p", "no:randomly", "-n", "2", "--spectron-coverage-json=coverage.json"
    )
    result.stdout.fnmatch_lines(["created: 2/2 workers"])
    assert result.ret == pytest.ExitCode.OK
    assert json.loads((pytester.path / "coverage.json").read_text()) == serial
    assert serial["covered"] == 4
    assert serial["operations"]["remember"]["absorbed"] == ["503", "connect"]


def test_fail_under_fails_the_run_below_the_threshold(pytester: pytest.Pytester) -> None:
    """Passing tests but too little coverage: exit status 1, with both percentages."""
    pytester.makepyfile(SUITE)
    result = pytester.runpytest("--spectron-coverage-fail-under=50")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "Spectron fault coverage is 3.8% (1 of 26 outcomes), below the required 50% "
            "(--spectron-coverage-fail-under / spectron_coverage_fail_under)*",
            "*3 passed*",
        ]
    )


def test_fail_under_passes_at_or_above_the_threshold(pytester: pytest.Pytester) -> None:
    """A run that reaches the threshold exits 0 and says so."""
    pytester.makepyfile(SUITE)
    result = pytester.runpytest("--spectron-coverage-fail-under=3.8")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["Required Spectron fault coverage of 3.8% reached: 3.8%."])


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (
            "--spectron-coverage-fail-under=abc",
            "*--spectron-coverage-fail-under / spectron_coverage_fail_under: got 'abc'; "
            "expected a percentage from 0 to 100",
        ),
        ("--spectron-coverage-fail-under=101", "*spectron_coverage_fail_under: got '101'*"),
        (
            "--spectron-coverage-json=",
            "*--spectron-coverage-json / spectron_coverage_json: got ''*",
        ),
        ("--spectron-coverage=maybe", "*spectron_coverage: got 'maybe'; expected true or false*"),
    ],
)
def test_bad_coverage_options_are_usage_errors(
    pytester: pytest.Pytester, option: str, message: str
) -> None:
    """A bad value stops the run before any test, naming the option and what it accepts."""
    result = pytester.runpytest(option)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_a_bare_flag_before_a_test_path_explains_itself(pytester: pytest.Pytester) -> None:
    """argparse hands ``--spectron-coverage`` the path after it; the error says how to avoid it."""
    pytester.makepyfile(SUITE)
    result = pytester.runpytest(
        "--spectron-coverage", "test_a_bare_flag_before_a_test_path_explains_itself.py"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*got 'test_a_bare*.py'; expected true or false (alone, the flag means true: put it "
            "after the test paths, or write --spectron-coverage=true)"
        ]
    )


def test_collect_only_writes_no_report(pytester: pytest.Pytester) -> None:
    """``--collect-only`` runs nothing, so there is nothing to report."""
    pytester.makepyfile(SUITE)
    result = pytester.runpytest("--collect-only", "--spectron-coverage-json=coverage.json")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    result.stdout.fnmatch_lines(["*3 tests collected*"])
    assert not (pytester.path / "coverage.json").exists()


class Page(HTMLParser):
    """The report's tags, and its table's rows as ``(section, [(tag, attributes, text)])``."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.rows: list[tuple[str, list[tuple[str, dict[str, str | None], str]]]] = []
        self.section = ""
        self.cell: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in ("thead", "tbody", "tfoot"):
            self.section = tag
        elif tag == "tr":
            self.rows.append((self.section, []))
        elif tag in ("th", "td"):
            self.rows[-1][1].append((tag, dict(attrs), ""))
            self.cell = []

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("th", "td") and self.cell is not None:
            cells = self.rows[-1][1]
            name, attributes, _ = cells[-1]
            cells[-1] = (name, attributes, "".join(self.cell).strip())
            self.cell = None

    def section_rows(self, section: str) -> list[list[tuple[str, dict[str, str | None], str]]]:
        return [cells for where, cells in self.rows if where == section]


def html_report(pytester: pytest.Pytester) -> Path:
    """Run ``SUITE`` plus a streamed chat with ``--spectron-coverage-html``; the page's path."""
    pytester.makepyfile(
        SUITE
        + """

def test_streamed_chat(spectron):
    list(spectron.chat("hello", stream=True))
"""
    )
    result = pytester.runpytest("--spectron-coverage-html=report/coverage.html")
    result.stdout.fnmatch_lines(["Spectron fault coverage HTML written to *coverage.html"])
    return pytester.path / "report/coverage.html"


def test_html_report_is_a_heat_map_of_operations_by_outcomes(pytester: pytest.Pytester) -> None:
    """One row per operation, one column per outcome, each cell covered, missing or n/a."""
    page = Page(html_report(pytester).read_text())
    (header,) = page.section_rows("thead")
    outcomes = [*READ_OUTCOMES, "stream_cut"]
    labels = ["operation", "retry class", "calls", "covered", "%", "absorbed", *outcomes]
    assert [text for _, _, text in header] == labels
    rows = {cells[0][2]: cells for cells in page.section_rows("tbody")}
    assert list(rows) == ["chat (stream)", "state", "whoami"]
    assert rows["state"][5][2] == "1"
    states = {
        outcome: cell[1]["class"] for outcome, cell in zip(outcomes, rows["state"][6:], strict=True)
    }
    assert states == {
        **dict.fromkeys(READ_OUTCOMES, "missing"),
        "503": "covered",
        "connect": "absorbed",
        "stream_cut": "na",
    }
    (footer,) = page.section_rows("tfoot")
    assert [text for _, _, text in footer[:6]] == ["Total", "", "8", "1/40", "2.5%", "1"]


def test_html_report_loads_nothing_from_elsewhere(pytester: pytest.Pytester) -> None:
    """Styles and script are inline; no tag points at another file or the network."""
    page = Page(html_report(pytester).read_text())
    assert not [tag for tag, _ in page.tags if tag in ("link", "img", "iframe", "object")]
    assert all("src" not in attributes for _, attributes in page.tags)
    assert {tag for tag, _ in page.tags} >= {"style", "script", "table"}


def chromium_dom(page: Path) -> tuple[str, str]:
    """The page's DOM after its scripts ran in headless Chromium, and the browser's log."""
    browser = next(
        filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None
    )
    if browser is None:
        pytest.skip("Chromium is not installed: the report's script runs in a browser only here")
    profile = page.parent / "chromium-profile"
    completed = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return completed.stdout, completed.stderr


def test_html_report_script_runs_without_console_errors(pytester: pytest.Pytester) -> None:
    """In a real browser the sorting script runs to its end and logs nothing."""
    dom, log = chromium_dom(html_report(pytester))
    assert 'data-sortable="ready"' in dom
    assert [line for line in log.splitlines() if ":CONSOLE" in line] == []


def test_html_report_sorts_rows_by_a_clicked_column(pytester: pytest.Pytester) -> None:
    """Clicking the calls header sorts the rows by calls, fewest first."""
    page = html_report(pytester)
    before = [cells[2][2] for cells in Page(page.read_text()).section_rows("tbody")]
    click = "<script>document.querySelectorAll('thead button')[2].click();</script>"
    page.write_text(page.read_text().replace("</body>", click + "</body>"))
    dom, _ = chromium_dom(page)
    after = [cells[2][2] for cells in Page(dom).section_rows("tbody")]
    assert (before, after) == (["1", "3", "1"], ["1", "1", "3"])


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
COVERAGE_DOCS = Path(__file__).resolve().parents[2] / "docs" / "coverage.md"


def console_sample(command: str) -> list[str]:
    """The lines docs/coverage.md shows after ``$ {command}`` and ``...``, to the block's end."""
    text = COVERAGE_DOCS.read_text(encoding="utf-8")
    start = text.index(f"```console\n$ {command}\n...\n") + len(f"```console\n$ {command}\n...\n")
    return text[start : text.index("```", start)].splitlines()


def test_the_docs_sample_is_what_the_example_suite_prints() -> None:
    """docs/coverage.md's table and threshold line are the example suite's real output.

    As ``make demo`` runs it (``cd examples && pytest``), with the options the docs show; the
    docs cannot drift from the report again.
    """
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:randomly",
            "--spectron-coverage",
            "--spectron-coverage-fail-under=80",
        ],
        cwd=EXAMPLES,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "80"},
        check=False,
    )
    printed = done.stdout.splitlines()
    table = console_sample("pytest --spectron-coverage")
    assert table[0] in printed, done.stdout + done.stderr
    start = printed.index(table[0])
    assert printed[start : start + len(table)] == table
    [threshold] = console_sample("pytest --spectron-coverage-fail-under=80")
    assert threshold in printed
