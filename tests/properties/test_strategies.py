"""The public Hypothesis strategies, used as the docs show: fuzz an app against random plans."""

from __future__ import annotations

import pytest
from hypothesis import given

from pytest_spectron import Spectron, SpectronError, SpectronMock
from pytest_spectron.testing import Fault, Outcome
from pytest_spectron.testing.strategies import fault_outcomes, fault_plans


def save_note(client: Spectron, text: str) -> str:
    """A tiny application handler: it must never raise, whatever Spectron does."""
    try:
        client.remember(text)
    except SpectronError:
        return "try again later"
    return "saved"


@given(plan=fault_plans(operations=["remember"]))
def test_handler_never_crashes_and_never_double_writes(plan: dict[str, list[Outcome]]) -> None:
    """Under any plan the handler answers, and the note is stored at most once."""
    with SpectronMock() as mock:
        for operation, script in plan.items():
            if script:
                mock.fail(operation, *script, times=1)
        answer = save_note(mock.client(), "buy milk")
        stored = mock.fake.facts(mock.context)
    assert answer in ("saved", "try again later")
    assert len(stored) <= 1
    if answer == "saved":
        assert [fact.text for fact in stored] == ["buy milk"]


@given(outcome=fault_outcomes())
def test_every_generated_outcome_is_accepted_by_the_engine(outcome: Outcome) -> None:
    """Strategies only produce outcomes a fault accepts."""
    assert Fault("state", outcome).script == (outcome,)


def test_plans_refuse_unknown_operations() -> None:
    """A typo in an operation name fails at once, naming it."""
    with pytest.raises(ValueError, match="remembr"):
        fault_plans(operations=["remembr"])
