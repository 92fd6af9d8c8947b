"""One home for argument checks: ``_shared/_validators.py``, with one wording everywhere."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from pytest_spectron._shared._validators import check_int, check_seconds, is_int, is_real

PACKAGE = Path(__file__).resolve().parents[1] / "pytest_spectron"


@pytest.mark.parametrize("value", [True, False, 1.0, "1", None])
def test_is_int_refuses_bools_floats_and_strings(value: object) -> None:
    """``True`` is an int to Python, never a count to a user."""
    assert not is_int(value)


@pytest.mark.parametrize("value", [True, "1.5", None, [1]])
def test_is_real_refuses_bools_and_non_numbers(value: object) -> None:
    """A number of seconds is an int or a float, and not a bool."""
    assert not is_real(value)


def test_check_int_names_the_argument_the_value_and_its_type() -> None:
    """A wrong type says what was given and what it is."""
    with pytest.raises(TypeError, match=re.escape("times must be an int, got True (bool)")):
        check_int("times", True)


def test_check_int_states_the_minimum() -> None:
    """A value below the minimum says the range."""
    with pytest.raises(ValueError, match=re.escape("times must be an int of 1 or more, got 0")):
        check_int("times", 0, minimum=1)
    assert check_int("times", 1, minimum=1) == 1


def test_a_given_error_class_replaces_both() -> None:
    """The fault vocabulary raises its own error for a wrong type and a wrong value alike."""

    class OwnError(Exception):
        pass

    with pytest.raises(OwnError, match="an int, got '2'"):
        check_int("seed", "2", error=OwnError)
    with pytest.raises(OwnError, match="0 or more"):
        check_seconds("latency", -1, error=OwnError)


@pytest.mark.parametrize(
    ("value", "options", "message"),
    [
        (-1, {}, "delay must be a finite number of seconds, 0 or more, got -1"),
        (0, {"above_zero": True}, "delay must be a finite number of seconds, above 0, got 0"),
        (math.inf, {}, "delay must be a finite number of seconds, 0 or more, got inf"),
        (math.nan, {"negative": True}, "delay must be a finite number of seconds, got nan"),
    ],
)
def test_check_seconds_states_the_range(
    value: float, options: dict[str, bool], message: str
) -> None:
    """Out-of-range and non-finite durations say the range they missed."""
    with pytest.raises(ValueError, match=re.escape(message)):
        check_seconds(
            "delay",
            value,
            above_zero=options.get("above_zero", False),
            negative=options.get("negative", False),
        )


def test_check_seconds_gives_a_float_and_takes_a_hint() -> None:
    """An int comes back a float; the hint follows the range."""
    assert check_seconds("delay", 2) == 2.0
    assert check_seconds("delay", -2, negative=True) == -2.0
    with pytest.raises(TypeError, match=re.escape("(an int or a float), or None, got '1' (str)")):
        check_seconds("delay", "1", hint=", or None")


def test_no_module_writes_the_strict_int_check_by_hand() -> None:
    """The bool-excluding type test lives in ``_validators`` alone (``is_int``, ``is_real``)."""
    by_hand = re.compile(
        r"isinstance\(\w+, bool\) or not isinstance|and not isinstance\(\w+, bool\)"
    )
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if path.name != "_validators.py" and by_hand.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_check_int_shows_an_example_when_given_one() -> None:
    """``example`` puts a value that would do in the message, and only then."""
    with pytest.raises(TypeError) as with_example:
        check_int("status", "503", example=503)
    with pytest.raises(TypeError) as without:
        check_int("status", "503")
    assert str(with_example.value) == "status must be an int such as 503, got '503' (str)"
    assert str(without.value) == "status must be an int, got '503' (str)"
