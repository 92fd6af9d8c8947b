"""A run keeps nothing of a finished test's mock and formats no ledger it does not show."""

from __future__ import annotations

import pytest


def test_a_finished_tests_mock_is_freed(pytester: pytest.Pytester) -> None:
    """Once a test ends, its mock (the fake, the journal) is garbage: its item holds none of it."""
    pytester.makepyfile(
        """
        import gc
        import weakref

        REFS = []

        def test_first(spectron, spectron_mock):
            spectron.state()
            REFS.append(weakref.ref(spectron_mock))

        def test_second():
            gc.collect()
            assert REFS[0]() is None
        """
    )
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=2)


def test_the_ledger_is_formatted_only_for_a_failing_test(pytester: pytest.Pytester) -> None:
    """A passing test's ledger is never formatted; a failing one's once, for its report."""
    pytester.makeconftest(
        """
        from pytest_spectron.testing._mock import SpectronMock

        FORMATTED = []
        _ledger = SpectronMock.ledger

        def ledger(self, *args, **kwargs):
            FORMATTED.append(1)
            return _ledger(self, *args, **kwargs)

        SpectronMock.ledger = ledger

        def pytest_terminal_summary(terminalreporter):
            terminalreporter.write_line(f"ledgers formatted: {len(FORMATTED)}")
        """
    )
    pytester.makepyfile(
        """
        def test_passes(spectron):
            spectron.state()

        def test_fails(spectron):
            spectron.state()
            assert False
        """
    )
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["ledgers formatted: 1"])
