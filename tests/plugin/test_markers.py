"""The markers: stacking, activation, late markers, and a clear error for every mistake."""

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
    result.stdout.fnmatch_lines(["*spectron_fault(target, *outcomes, status=None, error=None*"])
    result.stdout.fnmatch_lines(["*spectron_matrix(op=None*"])
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.spectron_fault("state", status=503, optional=True)
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
        ('"state"', "*give at least one outcome*"),
        (
            '"state", status=503, error="reset"',
            "*give one of status=, error= or latency=; got status and error*",
        ),
        (
            '"state", 503, status=503',
            "*positionally*or one of status=, error= or latency=, not both*",
        ),
        ("", "*give the operation (or retry class, or '*') to fail first*"),
        ('"GET /api/v1/{context_id}/state", 503', "*that is the route of the operation 'state'*"),
        ('"stat", 503', "*did you mean 'state'?*"),
        ('"state", status=700', "*status=700)*700*HTTP status 200-599*"),
        ('"state", status="503"', "*status must be an int such as 503, got '503' (str)*"),
        ('"state", status=503.0', "*status must be an int such as 503, got 503.0 (float)*"),
        ('"state", error="rest"', "*error='rest' is not a fault kind; did you mean 'reset'*"),
        ('"state", status=503, times=0', "*times=0)*times must be*1 or more*"),
        ('"state", status=503, times=1.5', "*times=1.5)*times must be*1.5*"),
        ('"state", latency=-1', "*latency=-1)*atency must be a finite number of seconds, above 0*"),
        ('"state", status=503, rate=2', "*rate must be a probability in (0, 1], got 2*"),
        ('"state", status=503, seed=3', "*seed only goes with rate*"),
        ('"state", error="reset", retry_after=3', "*retry_after= only goes with status=*"),
        ('"state", status=503, retry_after=-1', "*retry_after=-1)*retry_after must be*"),
        ('"state", status=503, headers={"a": 1}', "*headers=*headers must*str*"),
        ('"state", status=503, after=2', "*after= only goes with error='stream_cut'*"),
        ('"state", status=503, tiems=2', "*unknown keyword 'tiems'; did you mean 'times'?*"),
        ('"state", status=503, optional="yes"', "*optional must be True or False, got 'yes'*"),
        ('"state", 503, call=0', "*call=0)*call must be an int of 1 or more*got 0*"),
        ('"state", "503x²"', "*503x²*"),
    ],
)
def test_bad_marker_arguments_error_that_test_only(
    pytester: pytest.Pytester, arguments: str, message: str
) -> None:
    """Each mistake errors its test at setup, naming the argument, the value and what fits."""
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.spectron_fault({arguments})
        def test_marked(spectron):
            pass

        def test_neighbour():
            pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*ERROR at setup of test_marked*", message])
    result.stdout.no_fnmatch_line("*During handling*")


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


def test_bad_matrix_marker_errors_that_test_only(pytester: pytest.Pytester) -> None:
    """An unknown retry class in ``spectron_matrix`` errors its test; the module still runs."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.spectron_matrix(retry_class="reads")
        def test_matrix(spectron_case):
            pass

        def test_neighbour():
            pass
        """
    )
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        ["*test_matrix?bad-spectron_matrix?*ERROR*", "*retry_class='reads' is not one of read*"]
    )


def test_fault_marker_activates_the_mock_for_a_test_without_fixtures(
    pytester: pytest.Pytester,
) -> None:
    """A marked test's own client is answered by the fake, never the network."""
    pytester.makepyfile(
        """
        import pytest
        from pytest_spectron import Spectron, SpectronServerError

        @pytest.mark.spectron_fault("state", status=503)
        def test_app_client():
            client = Spectron("ctx", "http://spectron.test", "sk-spectron-test-key")
            with pytest.raises(SpectronServerError):
                client.state()
        """
    )
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=1)


def test_activated_mock_answers_fixtures_that_call_spectron_while_setting_up(
    pytester: pytest.Pytester,
) -> None:
    """The marker's mock is set up before the test's other fixtures, so they are answered too."""
    pytester.makepyfile(
        """
        import pytest
        from pytest_spectron import Spectron

        @pytest.fixture
        def warmed():
            return Spectron("ctx", "http://spectron.test", "sk-spectron-test-key").state()

        @pytest.mark.spectron_fault("remember", status=503, optional=True)
        def test_app(warmed):
            assert warmed.knowledge is not None
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_matrix_marker_without_spectron_case_is_an_error(pytester: pytest.Pytester) -> None:
    """``spectron_matrix`` on a test that does not request ``spectron_case`` would do nothing."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.spectron_matrix("state")
        def test_forgot_the_case(spectron):
            spectron.state()
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*spectron_matrix narrows the cases of the spectron_case*"])


def test_markers_added_after_collection_apply(pytester: pytest.Pytester) -> None:
    """A marker another plugin adds in ``pytest_collection_modifyitems`` is read at setup."""
    pytester.makeconftest(
        """
        import pytest

        def pytest_collection_modifyitems(items):
            for item in items:
                item.add_marker(pytest.mark.spectron_fault("state", status=503, times=1))
        """
    )
    pytester.makepyfile(
        """
        def test_late(spectron, spectron_mock):
            spectron.state()
            assert [a.outcome for a in spectron_mock.attempts("state")] == ["503", "200"]
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_bad_marker_added_after_collection_names_the_argument(
    pytester: pytest.Pytester,
) -> None:
    """A late marker is validated like any other, with the nearest accepted value."""
    pytester.makeconftest(
        """
        import pytest

        def pytest_collection_modifyitems(items):
            for item in items:
                item.add_marker(pytest.mark.spectron_fault("stat", status=503))
        """
    )
    pytester.makepyfile(
        """
        def test_late():
            pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*'stat' is not a Spectron operation*did you mean 'state'*"])
