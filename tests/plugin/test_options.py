"""ini and command-line options: the command line wins, and bad values are usage errors."""

from __future__ import annotations

import pytest


def test_ini_options_configure_the_fixtures(pytester: pytest.Pytester) -> None:
    """Endpoint, context and key from the ini file reach ``spectron_mock``."""
    pytester.makeini(
        """
        [pytest]
        asyncio_default_fixture_loop_scope = function
        spectron_endpoint = https://memory.internal:8443
        spectron_context = ini-context
        """
    )
    pytester.makepyfile(
        """
        def test_settings(spectron_mock, spectron):
            assert spectron_mock.endpoint == "https://memory.internal:8443"
            assert spectron.context == "ini-context"
            spectron.state()
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_command_line_wins_over_ini(pytester: pytest.Pytester) -> None:
    """``--spectron-context`` overrides ``spectron_context``."""
    pytester.makeini(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\nspectron_context = from-ini\n"
    )
    pytester.makepyfile(
        """
        def test_settings(spectron):
            assert spectron.context == "from-cli"
        """
    )
    pytester.runpytest("--spectron-context=from-cli").assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("--spectron-endpoint=spectron.test", "*--spectron-endpoint / spectron_endpoint*URL*"),
        (
            "--spectron-endpoint=http://h.test/base?x=1",
            "*spectron_endpoint: got 'http://h.test/base?x=1'*",
        ),
        ("--spectron-strict=maybe", "*--spectron-strict / spectron_strict: got 'maybe'*"),
        ("--spectron-report=2", "*--spectron-report / spectron_report*true or false*"),
        ("--spectron-context=", "*--spectron-context / spectron_context: got ''*non-empty*"),
        ("--spectron-endpoint=", "*--spectron-endpoint / spectron_endpoint: got ''*"),
        ("--spectron-api-key=has space", "*--spectron-api-key / spectron_api_key: got ***"),
        (
            "--spectron-assert-all-faults-used=maybe",
            "*--spectron-assert-all-faults-used / spectron_assert_all_faults_used: got 'maybe'*",
        ),
        (
            "--spectron-unknown-fields=warn",
            "*--spectron-unknown-fields / spectron_unknown_fields: got 'warn'; expected ignore "
            "or error*",
        ),
    ],
)
def test_bad_option_values_are_usage_errors(
    pytester: pytest.Pytester, option: str, message: str
) -> None:
    """A bad value stops the run with a message naming the option and what it accepts."""
    result = pytester.runpytest(option)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_lenient_mode_answers_unroutable_requests_with_404(pytester: pytest.Pytester) -> None:
    """With ``--spectron-strict=false`` an unknown path gets the fake's 404 problem."""
    pytester.makepyfile(
        """
        import httpx

        def test_lenient(spectron_mock):
            answer = httpx.get(spectron_mock.endpoint + "/api/v1/ctx/nothing")
            assert answer.status_code == 404
            assert answer.headers["content-type"] == "application/json"
        """
    )
    pytester.runpytest("--spectron-strict=false").assert_outcomes(passed=1)


def test_fixtures_and_options_are_documented(pytester: pytest.Pytester) -> None:
    """``--fixtures`` and ``--help`` describe what the plugin adds."""
    fixtures = pytester.runpytest("--fixtures")
    listed = fixtures.stdout.str()
    for name in (
        "spectron_mock",
        "spectron",
        "async_spectron",
        "spectron_clock",
        "spectron_server",
    ):
        assert f"{name} -- " in listed
    help_text = pytester.runpytest("--help")
    help_text.stdout.fnmatch_lines(["*--spectron-endpoint=ENDPOINT*", "*--spectron-report=REPORT*"])


def test_endpoint_with_a_path_prefix_is_answered_in_process_and_over_a_socket(
    pytester: pytest.Pytester,
) -> None:
    """``--spectron-endpoint=http://spectron.test/spectron``: as behind a gateway, both ways."""
    pytester.makepyfile(
        """
        import json
        import urllib.request

        def test_prefix(spectron, spectron_mock, spectron_server):
            assert spectron_mock.endpoint == "http://spectron.test/spectron"
            spectron.remember("behind a gateway")
            assert spectron_server.url.endswith("/spectron")
            request = urllib.request.Request(
                spectron_server.url + "/api/v1/test-context/state",
                headers={"Authorization": "Bearer " + spectron_mock.api_key},
            )
            with urllib.request.urlopen(request, timeout=5) as answer:
                assert answer.status == 200
            assert [a.path for a in spectron_mock.attempts()] == [
                "/api/v1/test-context/facts",
                "/api/v1/test-context/state",
            ]
        """
    )
    pytester.runpytest("--spectron-endpoint=http://spectron.test/spectron/").assert_outcomes(
        passed=1
    )


def test_an_app_that_drops_the_prefix_fails_as_behind_the_gateway(
    pytester: pytest.Pytester,
) -> None:
    """An app configured without the gateway's prefix gets 404s in process and over a socket.

    Answering it would be a false green: the app would pass here and fail in production.
    """
    pytester.makepyfile(
        """
        import urllib.error
        import urllib.request

        import pytest
        from pytest_spectron import Spectron, SpectronNotFoundError

        def test_prefix_dropped(spectron_mock, spectron_server):
            with Spectron("test-context", "http://spectron.test", spectron_mock.api_key) as app:
                with pytest.raises(SpectronNotFoundError, match="not under /spectron"):
                    app.state()
            root = spectron_server.url.removesuffix("/spectron")
            with pytest.raises(urllib.error.HTTPError) as raised:
                urllib.request.urlopen(root + "/api/v1/test-context/state", timeout=5)
            raised.value.close()
            assert raised.value.code == 404
            assert spectron_mock.attempts() == []
        """
    )
    pytester.runpytest("--spectron-endpoint=http://spectron.test/spectron").assert_outcomes(
        passed=1
    )
