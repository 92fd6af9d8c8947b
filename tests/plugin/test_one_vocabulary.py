"""One fault vocabulary: the marker and ``fail()`` take the same arguments, with clear errors."""

from __future__ import annotations

import pytest


def test_marker_takes_positional_outcomes_and_spec_steps(pytester: pytest.Pytester) -> None:
    """``spectron_fault("state", 503)`` and ``spectron_fault("state", "503x2,reset")`` work."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.spectron_fault("state", 503)
        def test_int(spectron, spectron_mock):
            with pytest.raises(Exception):
                spectron.state()
            spectron_mock.assert_attempts("state", 4)

        @pytest.mark.spectron_fault("state", "503x2,reset")
        def test_steps(spectron, spectron_mock):
            spectron.state()
            assert [a.outcome for a in spectron_mock.attempts("state")] == [
                "503", "503", "reset", "200"
            ]
        """
    )
    pytester.runpytest().assert_outcomes(passed=2)


def test_fail_takes_the_markers_keywords(pytester: pytest.Pytester) -> None:
    """``fail("state", status=429, retry_after=2, times=1)`` is the marker's form, in a call."""
    pytester.makepyfile(
        """
        import pytest
        from pytest_spectron import SpectronRateLimitError

        def test_keywords(spectron, spectron_mock):
            spectron_mock.fail("state", status=429, retry_after=2, times=1)
            with pytest.raises(SpectronRateLimitError) as caught:
                spectron.state()
            assert caught.value.retry_after == 2
            spectron.state()

        def test_error_keyword(spectron, spectron_mock):
            spectron_mock.fail("chat", error="stream_cut", after=1)
            with pytest.raises(Exception, match="cut"):
                list(spectron.chat("hi", stream=True))
        """
    )
    pytester.runpytest().assert_outcomes(passed=2)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ('fail("state", status="503")', "*status must be an int such as 503, got '503' (str)*"),
        ('fail("state", 503, tiems=2)', "*unknown keyword 'tiems'; did you mean 'times'?*"),
        ('fail("stat", 503)', "*'stat' is not a Spectron operation*did you mean 'state'?*"),
        ('fail("state", 503, status=503)', "*not both*"),
    ],
)
def test_fail_errors_name_the_argument_not_internals(
    pytester: pytest.Pytester, call: str, message: str
) -> None:
    """Mistakes in ``fail()`` read like the marker's, and name no internal class."""
    pytester.makepyfile(
        f"""
        def test_mistake(spectron_mock):
            spectron_mock.{call}
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([message])
    result.stdout.no_fnmatch_line("*FaultsAndJournal*")
    result.stdout.no_fnmatch_line("*_fault()*")


def test_clear_faults_ends_an_outage_mid_test(pytester: pytest.Pytester) -> None:
    """Down, then back: ``clear_faults("state")`` ends that fault; ``clear_faults()`` all."""
    pytester.makepyfile(
        """
        import pytest
        from pytest_spectron import SpectronServerError

        def test_outage(spectron, spectron_mock):
            spectron_mock.fail("state", 503)
            spectron_mock.fail("whoami", 503)
            with pytest.raises(SpectronServerError):
                spectron.state()
            spectron_mock.clear_faults("state")
            spectron.state()
            with pytest.raises(SpectronServerError):
                spectron.whoami()
            spectron_mock.clear_faults()
            spectron.whoami()
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_journal_helpers_refuse_unknown_operations(pytester: pytest.Pytester) -> None:
    """``attempts("stat")`` is an error naming ``state``, never an empty list."""
    pytester.makepyfile(
        """
        import pytest

        def test_typo(spectron_mock):
            for helper in (
                lambda: spectron_mock.attempts("stat"),
                lambda: spectron_mock.assert_attempts("stat", 1),
                lambda: spectron_mock.assert_not_retried("stat"),
            ):
                with pytest.raises(ValueError, match="did you mean 'state'"):
                    helper()
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_idempotent_retries_of_a_write_is_explained(pytester: pytest.Pytester) -> None:
    """``assert_idempotent_retries("recall")`` says recall is a write, never retried."""
    pytester.makepyfile(
        """
        def test_recall(spectron, spectron_mock):
            spectron.recall("tea")
            spectron_mock.assert_idempotent_retries("recall")
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*'recall' is in the 'write' retry class: it is sent once and never retried*"]
    )


def test_a_failed_assertion_shows_the_ledger_once(pytester: pytest.Pytester) -> None:
    """The ledger is in the assertion's message, not repeated as a report section."""
    pytester.makepyfile(
        """
        def test_wrong(spectron, spectron_mock):
            spectron.state()
            spectron_mock.assert_attempts("state", 2)
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["E   *Spectron attempt ledger:", "E   *GET /api/v1/test-context/state*"]
    )
    result.stdout.no_fnmatch_line("*-- Spectron attempt ledger --*")  # no report section too


def test_matrix_op_keyword_targets_only_that_operation(pytester: pytest.Pytester) -> None:
    """``spectron_matrix(op="state")`` injects into ``state`` only, not every read."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.spectron_matrix(op="state", outcomes=[503])
        def test_only_state(spectron, spectron_mock, spectron_case):
            spectron.whoami()
            with pytest.raises(spectron_case.error):
                spectron.state()
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_matrix_of_a_streamed_call_has_a_cut_case(pytester: pytest.Pytester) -> None:
    """``spectron_matrix("chat", retry_class="stream")``: the stream cases, ``stream_cut`` too."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.spectron_matrix("chat", retry_class="stream")
        def test_stream(spectron, spectron_mock, spectron_case):
            with pytest.raises(spectron_case.error):
                list(spectron.chat("hi", stream=True))
            spectron_mock.assert_attempts("chat", spectron_case.attempts)
        """
    )
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=14)
    result.stdout.fnmatch_lines(["*test_stream?stream-stream_cut?*PASSED*"])


def test_matrix_typo_suggests_the_operation(pytester: pytest.Pytester) -> None:
    """``spectron_matrix("stat")`` errors its test, suggesting ``state``."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.spectron_matrix("stat")
        def test_typo(spectron_case):
            pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*did you mean 'state'?*"])
