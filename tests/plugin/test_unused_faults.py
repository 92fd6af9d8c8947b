"""A fault that took effect on no attempt fails its test at teardown: it was never tested."""

from __future__ import annotations

import importlib.util

import pytest

UNUSED_MARKER = """
import pytest

@pytest.mark.spectron_fault("remember", status=503, times=2)
def test_only_reads(spectron):
    spectron.state()
"""


def test_unused_marker_fault_fails_the_test_at_teardown(pytester: pytest.Pytester) -> None:
    """The error names the fault and says how to mark it optional or turn the check off."""
    pytester.makepyfile(UNUSED_MARKER)
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_only_reads*",
            "*1 Spectron fault(s) took effect on no attempt*",
            "*- remember=503x2: matched no attempt",
            "*optional=True*spectron_assert_all_faults_used = false*",
        ]
    )


def test_unused_fail_fault_fails_the_test_at_teardown(pytester: pytest.Pytester) -> None:
    """A fault scripted with ``fail()`` is checked the same way."""
    pytester.makepyfile(
        """
        def test_scripted(spectron, spectron_mock):
            spectron_mock.fail("recall", "connect")
            spectron.state()
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*- recall=connect*"])


def test_fault_taken_by_an_earlier_fault_counts_as_unused(pytester: pytest.Pytester) -> None:
    """Two faults on one operation where the first takes every attempt: the second is unused."""
    pytester.makepyfile(
        """
        import pytest
        from pytest_spectron import SpectronServerError

        def test_shadowed(spectron, spectron_mock):
            spectron_mock.fail("state", 503)
            spectron_mock.fail("read", "reset")
            with pytest.raises(SpectronServerError):
                spectron.state()
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*- read=reset*"])


def test_used_faults_pass(pytester: pytest.Pytester) -> None:
    """A fault that took at least one attempt, by rate included, is used."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.spectron_fault("state", status=503, times=1)
        def test_used(spectron):
            spectron.state()

        def test_drawn_by_rate(spectron, spectron_mock):
            # seed 1 draws 0.134 first: below the rate, so the first attempt fails.
            spectron_mock.fail("whoami", 503, rate=0.5, seed=1, times=1)
            spectron.whoami()
        """
    )
    pytester.runpytest().assert_outcomes(passed=2)


def test_a_rate_fault_its_draw_never_applied_fails_the_test(pytester: pytest.Pytester) -> None:
    """A ``rate=`` fault that matched attempts but applied to none is unused, and named."""
    pytester.makepyfile(
        """
        def test_lost_the_draw(spectron, spectron_mock):
            # seed 0 draws 0.844 first: above the rate, so the one attempt goes through.
            spectron_mock.fail("whoami", 503, rate=0.5)
            spectron.whoami()
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*1 Spectron fault(s) took effect on no attempt*",
            "*- whoami=503@0.5: matched 1 attempt(s), but at rate=0.5 the random draw (seed 0) "
            "applied it to none: make more attempts, raise the rate or pick another seed",
        ]
    )


@pytest.mark.parametrize(
    "how",
    [
        ("option", ["--spectron-assert-all-faults-used=false"], ""),
        ("ini", [], "spectron_assert_all_faults_used = false\n"),
    ],
    ids=lambda how: how[0],
)
def test_the_check_turns_off_by_option_and_ini(
    pytester: pytest.Pytester, how: tuple[str, list[str], str]
) -> None:
    """``--spectron-assert-all-faults-used=false`` or the ini value turns the check off."""
    _, arguments, ini = how
    pytester.makeini(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\n" + ini,
    )
    pytester.makepyfile(UNUSED_MARKER)
    pytester.runpytest(*arguments).assert_outcomes(passed=1)


def test_optional_faults_may_go_unused(pytester: pytest.Pytester) -> None:
    """``optional=True`` on the marker or on ``fail()`` exempts that fault only."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.spectron_fault("remember", status=503, optional=True)
        def test_marker(spectron):
            spectron.state()

        def test_method(spectron, spectron_mock):
            spectron_mock.fail("recall", "connect", optional=True)
            spectron_mock.fail("forget", 500)
            spectron.state()
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*- forget=500*"])
    result.stdout.no_fnmatch_line("*- recall=connect*")


def test_a_failing_test_is_not_blamed_twice(pytester: pytest.Pytester) -> None:
    """When the test itself failed, its unused faults are not reported on top."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.spectron_fault("remember", status=503)
        def test_fails(spectron):
            assert False, "the test's own failure"
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.no_fnmatch_line("*took effect on no attempt*")


def test_a_stream_cut_past_the_streams_end_fails_the_test(pytester: pytest.Pytester) -> None:
    """A ``stream_cut`` after more frames than the stream has cut nothing: it is unused."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.spectron_fault("chat", error="stream_cut", after=50)
        def test_short_stream(spectron):
            list(spectron.chat("hello", stream=True))
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*1 Spectron fault(s) took effect on no attempt*",
            "*- chat=stream_cut:50: taken 1 time(s), but did nothing: the stream had * frames, "
            "none after frame 50",
        ]
    )


def test_a_stream_cut_on_a_plain_chat_fails_the_test(pytester: pytest.Pytester) -> None:
    """A ``stream_cut`` on a chat that is not streamed cut nothing: it is unused."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.spectron_fault("chat", error="stream_cut", after=1)
        def test_plain_chat(spectron):
            spectron.chat("hello")
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*- chat=stream_cut:1: taken 1 time(s), but did nothing: the answer was not a stream "
            "(a stream_cut needs chat(stream=True))",
        ]
    )


@pytest.mark.skipif(
    importlib.util.find_spec("_pytest.subtests") is None, reason="pytest has subtests from 9.0"
)
def test_a_test_with_a_failed_subtest_is_not_blamed_twice(pytester: pytest.Pytester) -> None:
    """pytest's ``subtests``: a failed subtest fails the test; its unused faults are not added."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.spectron_fault("remember", status=503)
        def test_with_subtests(spectron, subtests):
            with subtests.test("reads"):
                spectron.state()
            with subtests.test("fails"):
                assert False, "the subtest's own failure"
        """
    )
    result = pytester.runpytest("-p", "no:randomly")
    result.stdout.fnmatch_lines(["*contains 1 failed subtest*"])
    result.stdout.no_fnmatch_line("*took effect on no attempt*")
    assert result.parseoutcomes().get("errors", 0) == 0


def test_the_unused_fault_error_is_short(pytester: pytest.Pytester) -> None:
    """The teardown error is the message and the ledger, not the fixture's source."""
    pytester.makepyfile(UNUSED_MARKER)
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=1, errors=1)
    output = result.stdout.str()
    section = output[output.index("ERROR at teardown") : output.index("short test summary")]
    assert "def spectron_mock" not in section
    assert "_fixtures.py" not in section
    assert len(section.splitlines()) <= 12, section
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_only_reads*",
            "1 Spectron fault(s) took effect on no attempt, so the failure they describe was "
            "never tested:",
            "  - remember=503x2: matched no attempt",
            "Spectron attempt ledger:",
        ]
    )
