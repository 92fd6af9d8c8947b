"""Hypothesis strategies for Spectron failures: fuzz your own code against random fault plans.

Needs the ``hypothesis`` extra (``pip install pytest-spectron[hypothesis]``)::

    from hypothesis import given
    from pytest_spectron import SpectronMock
    from pytest_spectron.testing.strategies import fault_plans

    @given(plan=fault_plans(operations=["remember", "chat"]))
    def test_assistant_never_crashes(plan):
        with SpectronMock() as mock:
            for operation, script in plan.items():
                if script:
                    mock.fail(operation, *script, times=1)
            assistant = NotesAssistant(mock.client())
            assistant.add_note("milk")          # must not raise, whatever Spectron does
            assert len(mock.fake.facts(mock.context)) <= 1   # and never double-writes
"""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import strategies as st

from pytest_spectron.client._catalogue import CATALOGUE
from pytest_spectron.testing.faults._outcomes import PASS, Latency, Network, Outcome, Status
from pytest_spectron.testing.http._exchange import NETWORK_FAILURE_KINDS

__all__ = ["error_statuses", "fault_outcomes", "fault_plans", "fault_scripts"]


def error_statuses() -> st.SearchStrategy[int]:
    """HTTP statuses a failing Spectron answers with: 3xx (never followed), 4xx and 5xx.

    :return: a strategy for ints from 300 to 599.
    """
    return st.integers(min_value=300, max_value=599)


def fault_outcomes(
    *, latency: bool = True, max_latency: float = 60.0
) -> st.SearchStrategy[Outcome]:
    """One attempt's fate: the fake answers, an error status, a network failure, or latency.

    Latency is virtual; beyond the client's timeout (30 s by default) it is a read timeout.

    :param latency: whether ``Latency`` outcomes may be drawn.
    :param max_latency: the longest latency drawn, in virtual seconds (the shortest is 0.01).
    :return: a strategy for ``PASS``, ``Status``, ``Network`` and ``Latency`` outcomes.
    """
    choices: list[st.SearchStrategy[Outcome]] = [
        st.just(PASS),
        error_statuses().map(Status),
        st.sampled_from(NETWORK_FAILURE_KINDS).map(Network),
    ]
    if latency:
        seconds = st.floats(min_value=0.01, max_value=max_latency, allow_nan=False)
        choices.append(seconds.map(Latency))
    return st.one_of(choices)


def fault_scripts(*, max_size: int = 8, latency: bool = True) -> st.SearchStrategy[list[Outcome]]:
    """A script of outcomes for consecutive attempts of one operation (then the fake answers).

    :param max_size: the longest script drawn.
    :param latency: whether ``Latency`` outcomes may be drawn.
    :return: a strategy for lists of outcomes, the empty list included.
    """
    return st.lists(fault_outcomes(latency=latency), max_size=max_size)


def fault_plans(
    operations: Sequence[str] | None = None, *, max_size: int = 8, latency: bool = True
) -> st.SearchStrategy[dict[str, list[Outcome]]]:
    """A script per operation: ``{"remember": [Status(503), PASS], "chat": [...]}``.

    :param operations: the operations to script; None for every operation of the catalogue.
    :param max_size: the longest script drawn for one operation.
    :param latency: whether ``Latency`` outcomes may be drawn.
    :raises ValueError: an operation is not in the catalogue.
    :return: a strategy for dicts with a key per operation, each an outcome script.
    """
    names = list(operations) if operations is not None else sorted(CATALOGUE)
    unknown = [name for name in names if name not in CATALOGUE]
    if unknown:
        raise ValueError(f"not Spectron operations: {', '.join(unknown)}")
    return st.fixed_dictionaries(
        {name: fault_scripts(max_size=max_size, latency=latency) for name in names}
    )
