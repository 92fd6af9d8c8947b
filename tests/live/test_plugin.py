"""``pytest --spectron-upstream=URL``: every fixture in front of a real Spectron, via pytester."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from pytest_spectron.testing import SpectronService

if TYPE_CHECKING:
    from pytest_spectron.testing import FakeSpectron, LoopbackServer

FakeUpstream = tuple["FakeSpectron", "LoopbackServer"]
SECRET = "sk-env-secret-9876543210"


@pytest.fixture
def pytester(pytester: pytest.Pytester) -> pytest.Pytester:
    """A pytester whose inner runs see only the plugin's behaviour, not this project's config."""
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    return pytester


def live(fake_upstream: FakeUpstream) -> str:
    """The option that puts an inner run in live mode, in front of the fake upstream."""
    return f"--spectron-upstream={fake_upstream[1].url}"


def upstream_operations(fake_upstream: FakeUpstream) -> list[str | None]:
    """The operations the upstream journaled, in order."""
    service = fake_upstream[1].service
    assert isinstance(service, SpectronService)
    return [attempt.operation for attempt in service.journal.attempts()]


def test_the_fixtures_forward_to_the_upstream(
    pytester: pytest.Pytester, fake_upstream: FakeUpstream
) -> None:
    """A fact remembered through ``spectron`` is stored upstream and recalled from there."""
    pytester.makepyfile(
        """
        def test_memory(spectron, spectron_mock):
            spectron.remember("Dana plays chess")
            assert [hit.text for hit in spectron.recall("chess").hits] == ["Dana plays chess"]
            spectron_mock.assert_attempts("remember", 1)
        """
    )
    pytester.runpytest(live(fake_upstream)).assert_outcomes(passed=1)
    assert [fact.text for fact in fake_upstream[0].facts("test-context")] == ["Dana plays chess"]


def test_fault_markers_fail_attempts_before_the_upstream(
    pytester: pytest.Pytester, fake_upstream: FakeUpstream
) -> None:
    """Two injected 503s never reach the upstream; the retries wait on the virtual clock."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.spectron_fault("state", status=503, times=2)
        def test_flaky(spectron, spectron_mock, spectron_clock):
            spectron.state()
            spectron_mock.assert_attempts("state", 3)
            assert spectron_clock.sleeps == [0.25, 0.5]
        """
    )
    pytester.runpytest(live(fake_upstream)).assert_outcomes(passed=1)
    assert upstream_operations(fake_upstream) == ["state"]


def test_the_status_matrix_runs_in_live_mode(
    pytester: pytest.Pytester, fake_upstream: FakeUpstream
) -> None:
    """Every case of the matrix for ``state`` gives its error and attempt count."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.spectron_matrix("state")
        def test_case(spectron, spectron_mock, spectron_case):
            with pytest.raises(spectron_case.error):
                spectron.state()
            spectron_mock.assert_attempts("state", spectron_case.attempts)
        """
    )
    pytester.runpytest(live(fake_upstream)).assert_outcomes(passed=13)


def test_the_fake_is_unavailable_with_a_clear_error(
    pytester: pytest.Pytester, fake_upstream: FakeUpstream
) -> None:
    """``spectron_mock.fake`` fails the test, saying there is no fake and what to do."""
    pytester.makepyfile(
        """
        def test_seeding(spectron_mock):
            spectron_mock.fake.add_fact("test-context", "seeded")
        """
    )
    result = pytester.runpytest(live(fake_upstream))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*LiveModeError: there is no fake to seed or inspect in live mode*spectron_fake_only*"]
    )


def test_the_fake_only_marker_skips_in_live_mode(
    pytester: pytest.Pytester, fake_upstream: FakeUpstream
) -> None:
    """A test marked ``spectron_fake_only`` is skipped, with a reason, in live mode."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.spectron_fake_only
        def test_seeding(spectron_mock):
            spectron_mock.fake.add_fact("test-context", "seeded")
        """
    )
    result = pytester.runpytest(live(fake_upstream), "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*needs the Spectron fake; live mode*has none*"])


def test_the_fake_only_marker_reason_is_shown(
    pytester: pytest.Pytester, fake_upstream: FakeUpstream
) -> None:
    """A ``reason=`` given to ``spectron_fake_only`` is the skip's reason."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.spectron_fake_only(reason="seeds a document")
        def test_seeding(spectron_mock):
            pass
        """
    )
    result = pytester.runpytest(live(fake_upstream), "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(
        ["SKIPPED [[]1[]] test_the_fake_only_marker_reason_is_shown.py:3: seeds a document"]
    )


def test_the_fake_only_marker_runs_with_the_fake(pytester: pytest.Pytester) -> None:
    """Without an upstream, a test marked ``spectron_fake_only`` runs as usual."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.spectron_fake_only
        def test_seeding(spectron, spectron_mock):
            spectron_mock.fake.add_fact("test-context", "seeded fact")
            assert spectron.recall("seeded").hits
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_spectron_server_is_the_proxy(
    pytester: pytest.Pytester, fake_upstream: FakeUpstream
) -> None:
    """``spectron_server`` forwards what a non-httpx client sends to the upstream."""
    pytester.makepyfile(
        """
        import urllib.request

        def test_socket(spectron_server, spectron_mock):
            request = urllib.request.Request(
                f"{spectron_server.url}/api/v1/test-context/state",
                headers={"Authorization": f"Bearer {spectron_mock.api_key}"},
            )
            with urllib.request.urlopen(request, timeout=5) as answer:
                assert answer.status == 200
            spectron_mock.assert_attempts("state", 1)
        """
    )
    pytester.runpytest(live(fake_upstream)).assert_outcomes(passed=1)
    assert upstream_operations(fake_upstream) == ["state"]


def test_the_key_comes_from_the_environment(
    pytester: pytest.Pytester, fake_upstream: FakeUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no ``--spectron-api-key``, live mode sends ``SPECTRON_API_KEY`` upstream."""
    fake_upstream[0].set_api_keys({SECRET: None})
    monkeypatch.setenv("SPECTRON_API_KEY", SECRET)
    pytester.makepyfile(
        """
        def test_accepted(spectron):
            spectron.state()
        """
    )
    pytester.runpytest(live(fake_upstream)).assert_outcomes(passed=1)


def test_the_key_never_reaches_the_output(
    pytester: pytest.Pytester, fake_upstream: FakeUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failing live test, its locals and its ledger shown, never prints the key."""
    monkeypatch.setenv("SPECTRON_API_KEY", SECRET)
    pytester.makepyfile(
        """
        def test_fails(spectron, spectron_mock):
            spectron.state()
            assert False, repr(spectron_mock)
        """
    )
    result = pytester.runpytest(live(fake_upstream), "--showlocals", "-rA", "--tb=long")
    result.assert_outcomes(failed=1)
    assert SECRET not in result.stdout.str() + result.stderr.str()


def test_the_upstream_timeout_option_gives_a_504(
    pytester: pytest.Pytester, silent_port: int
) -> None:
    """``--spectron-upstream-timeout`` bounds the wait for a silent upstream; then a 504.

    The default bound (30 s) also ends in a 504: the message's figure and the time taken show
    that the option's 0.3 s set it.
    """
    pytester.makepyfile(
        """
        import time

        import pytest
        from pytest_spectron import SpectronServerError

        def test_silent(spectron):
            started = time.monotonic()
            with pytest.raises(SpectronServerError) as raised:
                spectron.forget("anything")  # a write: sent once, not retried
            assert time.monotonic() - started < 10
            assert raised.value.status_code == 504
            assert "did not answer within 0.3 s" in raised.value.message
        """
    )
    result = pytester.runpytest(
        f"--spectron-upstream=http://127.0.0.1:{silent_port}", "--spectron-upstream-timeout=0.3"
    )
    result.assert_outcomes(passed=1)


def test_pytest_httpx_in_the_same_test_leaves_the_forwarding_alone(
    pytester: pytest.Pytester, fake_upstream: FakeUpstream
) -> None:
    """pytest-httpx mocks httpx's transports; the requests live mode forwards still go out."""
    pytester.makepyfile(
        """
        import httpx

        def test_both(httpx_mock, spectron):
            httpx_mock.add_response(url="https://weather.test/today", json={"sky": "blue"})
            spectron.remember("forwarded past pytest-httpx")
            assert httpx.get("https://weather.test/today").json() == {"sky": "blue"}
        """
    )
    pytester.runpytest(live(fake_upstream)).assert_outcomes(passed=1)
    assert upstream_operations(fake_upstream) == ["remember"]


def test_respx_in_the_same_test_leaves_the_forwarding_alone(
    pytester: pytest.Pytester, fake_upstream: FakeUpstream
) -> None:
    """A test's respx router (httpcore level, all requests mocked) does not catch forwards."""
    pytester.makepyfile(
        """
        import httpx

        def test_both(respx_mock, spectron):
            respx_mock.get("https://weather.test/today").respond(json={"sky": "blue"})
            spectron.remember("forwarded past respx")
            assert httpx.get("https://weather.test/today").json() == {"sky": "blue"}
        """
    )
    pytester.runpytest(live(fake_upstream)).assert_outcomes(passed=1)
    assert upstream_operations(fake_upstream) == ["remember"]


def test_the_header_names_the_upstream(
    pytester: pytest.Pytester, fake_upstream: FakeUpstream
) -> None:
    """The run's header says it is in live mode, and where it forwards."""
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest(live(fake_upstream))
    result.stdout.fnmatch_lines([f"spectron: live mode, forwarding to {fake_upstream[1].url}"])


def test_an_endpoint_equal_to_the_upstream_is_a_usage_error(
    pytester: pytest.Pytester, fake_upstream: FakeUpstream
) -> None:
    """The mock cannot catch and forward to one origin: the run stops with a usage error."""
    url = fake_upstream[1].url
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest(f"--spectron-upstream={url}", f"--spectron-endpoint={url}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--spectron-upstream: *the two must differ*"])


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        ("--spectron-upstream=ftp://spectron.example.com", "an absolute http(s) URL"),
        ("--spectron-upstream-timeout=0", "a number of seconds above 0"),
        ("--spectron-upstream-insecure=maybe", "true or false"),
    ],
)
def test_bad_live_options_are_usage_errors(
    pytester: pytest.Pytester, option: str, expected: str
) -> None:
    """A bad live-mode option stops the run, naming the option and what it accepts."""
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest(option)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{option.split('=')[0]}*{expected}*"])


HTTPS_CHECK = """
import httpx

def test_state(spectron_mock):
    url = spectron_mock.endpoint + "/api/v1/test-context/state"
    answer = httpx.get(url, headers={"Authorization": "Bearer sk-any"})
    assert answer.status_code == EXPECTED, answer.text
"""


def test_https_upstreams_are_verified(pytester: pytest.Pytester, tls_upstream: str) -> None:
    """A self-signed https upstream gets the 502 of a failed certificate check."""
    pytester.makepyfile(HTTPS_CHECK.replace("EXPECTED", "502"))
    pytester.runpytest(f"--spectron-upstream={tls_upstream}").assert_outcomes(passed=1)


def test_the_insecure_flag_accepts_any_certificate(
    pytester: pytest.Pytester, tls_upstream: str
) -> None:
    """``--spectron-upstream-insecure``, a bare flag, turns verification off (dangerous)."""
    pytester.makepyfile(HTTPS_CHECK.replace("EXPECTED", "200"))
    result = pytester.runpytest(
        f"--spectron-upstream={tls_upstream}", "--spectron-upstream-insecure"
    )
    result.assert_outcomes(passed=1)
