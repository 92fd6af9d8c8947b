"""The ``spectron_fault`` marker: stacking, and a clear collection error for every mistake."""

from __future__ import annotations

import pytest


def test_markers_stack_across_module_class_and_function(pytester: pytest.Pytester) -> None:
    """Module, class and function markers all apply; the closest one is consulted first."""
    pytester.makepyfile(
        """
        import pytest

        pytestmark = pytest.mark.spectron_fault("whoami", status=502, times=1)

        @pytest.mark.spectron_fault("read", error="reset", times=1)
        class TestStack:
            @pytest.mark.spectron_fault("state", status=503, times=1)
            def test_stack(self, spectron, spectron_mock):
                spectron.state()
                assert [a.outcome for a in spectron_mock.attempts("state")] == [
                    "503", "reset", "200"
                ]
                spectron.whoami()
                assert [a.outcome for a in spectron_mock.attempts("whoami")] == ["502", "200"]
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_marker_is_documented_and_accepted_by_strict_markers(pytester: pytest.Pytester) -> None:
    """``pytest --markers`` shows the full signature; ``--strict-markers`` accepts it."""
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["*spectron_fault(op, *, status=None, error=None*"])
    result.stdout.fnmatch_lines(["*spectron_matrix(op=None*"])
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.spectron_fault("state", status=503)
        def test_ok():
            pass
        """
    )
    pytester.runpytest("--strict-markers").assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ('"stat", status=503', "*'stat' is not a Spectron operation*did you mean 'state'*"),
        ("42, status=503", "*42 is not a Spectron operation*"),
        ('"state"', "*give exactly one of status=, error= or latency=; got none of them*"),
        ('"state", status=503, error="reset"', "*exactly one of*got status and error*"),
        ('"state", status=700', "*status=700)*700*HTTP status 100-599*"),
        ('"state", status="503"', "*status='503')*'503'*HTTP status*"),
        ('"state", error="rest"', "*error='rest' is not a fault kind; did you mean 'reset'*"),
        ('"state", status=503, times=0', "*times=0)*times must be*1 or more*"),
        ('"state", status=503, times=1.5', "*times=1.5)*times must be*1.5*"),
        ('"state", latency=-1', "*latency=-1)*atency must be more than 0*"),
        ('"state", status=503, rate=2', "*rate must be a probability in (0, 1], got 2*"),
        ('"state", status=503, seed=3', "*seed only goes with rate*"),
        ('"state", error="reset", retry_after=3', "*retry_after= only goes with status=*"),
        ('"state", status=503, retry_after=-1', "*retry_after=-1)*retry_after must be*"),
        ('"state", status=503, headers={"a": 1}', "*headers=*headers must*str*"),
        ('"state", status=503, after=2', "*after= only goes with error='stream_cut'*"),
        ('"state", status=503, tiems=2', "*unexpected keyword argument 'tiems'*signature*"),
    ],
)
def test_bad_marker_arguments_fail_at_collection(
    pytester: pytest.Pytester, arguments: str, message: str
) -> None:
    """Each mistake is a collection error naming the argument, the value and what is accepted."""
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.spectron_fault({arguments})
        def test_marked(spectron):
            pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*ERROR collecting*", message])


def test_status_matrix_parametrizes_a_users_test(pytester: pytest.Pytester) -> None:
    """``spectron_case`` runs the test once per matrix case, with the failure injected."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.spectron_matrix("state")
        def test_matrix(spectron, spectron_mock, spectron_clock, spectron_case):
            with pytest.raises(spectron_case.error):
                spectron.state()
            spectron_mock.assert_attempts("state", spectron_case.attempts)
            assert spectron_clock.sleeps == list(spectron_case.sleeps)
        """
    )
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=13)
    result.stdout.fnmatch_lines(["*test_matrix?read-503?*PASSED*"])


def test_bad_matrix_marker_fails_at_collection(pytester: pytest.Pytester) -> None:
    """An unknown retry class in ``spectron_matrix`` is a collection error."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.spectron_matrix(retry_class="reads")
        def test_matrix(spectron_case):
            pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*retry_class='reads' is not one of read*"])
