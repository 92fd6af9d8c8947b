"""A request field Spectron's document does not name is ignored, as Spectron ignores it, and said.

Spectron reads ``dryRun``: a ``forget`` sending ``dry_run`` deletes. The fake does the same, notes
each such field on its attempt and in the ledger, and ``spectron_unknown_fields = error`` fails
the test instead.
"""

from __future__ import annotations

import pytest

SNAKE_CASE_DRY_RUN = """
import httpx

def test_dry_run_in_snake_case(spectron, spectron_mock):
    spectron.remember("the vpn password rotates monthly")
    answer = httpx.post(
        f"{spectron_mock.endpoint}/api/v1/{spectron_mock.context}/forget",
        json={"query": "vpn password", "dry_run": True},
        headers={"Authorization": f"Bearer {spectron_mock.api_key}"},
    )
    assert answer.status_code == 200
    assert spectron_mock.fake.facts(spectron_mock.context) == []
    [attempt] = spectron_mock.attempts("forget")
    assert attempt.notes == ("unknown field 'dry_run' ignored by Spectron",)
    assert "note: unknown field 'dry_run' ignored by Spectron" in spectron_mock.ledger()
"""


def test_an_unknown_field_is_ignored_and_noted_by_default(pytester: pytest.Pytester) -> None:
    """``{"dry_run": true}`` is no dry run: the fact is deleted, the attempt and ledger say why.

    The document (``ForgetRequestJson.dryRun``): "When omitted or ``false``, matching memories
    are soft-deleted immediately."
    """
    pytester.makepyfile(SNAKE_CASE_DRY_RUN)

    pytester.runpytest().assert_outcomes(passed=1)


def test_unknown_fields_error_fails_the_test_at_teardown(pytester: pytest.Pytester) -> None:
    """Under ``spectron_unknown_fields = error`` the same test errors, naming attempt and field."""
    pytester.makepyfile(SNAKE_CASE_DRY_RUN)

    result = pytester.runpytest("--spectron-unknown-fields=error")

    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_dry_run_in_snake_case*",
            "*1 request field(s) that Spectron's document does not name were sent*",
            "*- attempt 2 (forget): unknown field 'dry_run' ignored by Spectron*",
            "*spectron_unknown_fields = ignore*",
        ]
    )


def test_wire_names_pass_under_unknown_fields_error(pytester: pytest.Pytester) -> None:
    """The typed client sends only the document's names: the strict option finds nothing."""
    pytester.makeini(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\nspectron_unknown_fields = error\n"
    )
    pytester.makepyfile(
        """
        def test_typed_client(spectron):
            spectron.remember("the vpn password rotates monthly", session_id=None)
            assert spectron.forget("vpn password", dry_run=True).deleted == 1
        """
    )

    pytester.runpytest().assert_outcomes(passed=1)
