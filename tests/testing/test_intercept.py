"""The interception: respx started once while held, mocks registered and unregistered under it.

Each case runs in a fresh interpreter: the test session around it may hold the patch already.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

PRELUDE = """
import httpx, respx
from pytest_spectron import SpectronMock

def method(owner=httpx.Client):
    return owner.__dict__["_transport_for_url"]

ORIGINAL = method(), method(httpx.AsyncClient)
STATE = "/api/v1/ctx/state"

def unpatched():
    return (method(), method(httpx.AsyncClient)) == ORIGINAL

def answered_by(mock):
    before = len(mock.attempts())
    httpx.get(mock.endpoint + STATE, headers={"Authorization": "Bearer key"})
    return len(mock.attempts()) == before + 1
"""


def run(body: str) -> None:
    """Run ``body`` after ``PRELUDE`` in a fresh interpreter; its assertions must hold."""
    script = PRELUDE + textwrap.dedent(body) + "\nprint('ok')\n"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.stdout.strip() == "ok", done.stderr


def test_a_mock_outside_pytest_patches_while_it_runs() -> None:
    """A ``with`` block patches both client classes and leaves them as they were."""
    run(
        """
        with SpectronMock() as mock:
            assert not unpatched()
            assert answered_by(mock)
        assert unpatched()
        """
    )


def test_mocks_stopped_out_of_order_unpatch_when_the_last_stops() -> None:
    """``a.start(); b.start(); a.stop()`` keeps b answering; ``b.stop()`` unpatches."""
    run(
        """
        a = SpectronMock(endpoint="http://a.test").start()
        b = SpectronMock(endpoint="http://b.test").start()
        a.stop()
        assert answered_by(b) and not unpatched()
        b.stop()
        assert unpatched()
        """
    )


def test_a_held_patch_is_reused_by_every_mock() -> None:
    """Under a held patch, mocks come and go without patching httpx again."""
    run(
        """
        from pytest_spectron.testing.transports._intercept_httpx import intercepting

        with intercepting():
            patched = method()
            for _ in range(3):
                with SpectronMock() as mock:
                    assert method() is patched and answered_by(mock)
            assert method() is patched
        assert unpatched()
        """
    )


def test_a_mock_under_a_respx_router_answers_through_it_for_its_own_life() -> None:
    """Under a client-level respx router, a new mock answers first; the router keeps the rest.

    The mock's dispatch router is registered first on respx's ``httpx`` mocker while the mock
    runs, and leaves it as it was.
    """
    run(
        """
        from pytest_spectron.testing.transports._intercept_httpx import intercepting

        with intercepting():
            with respx.mock(using="httpx", assert_all_called=False) as router:
                other = router.get("https://weather.test/today").respond(json={"sky": "blue"})
                under_mock = method()
                with SpectronMock() as mock:
                    assert answered_by(mock)
                    assert httpx.get("https://weather.test/today").json() == {"sky": "blue"}
                assert method() is under_mock and other.call_count == 1
                assert respx.mocks.HTTPXMocker.routers == [router]
            assert respx.mocks.HTTPXMocker.routers == []
        assert unpatched()
        """
    )


def test_a_patch_left_under_another_answers_nothing_once_stopped() -> None:
    """Stopped below a respx router, the patch stays until the router leaves, then hands on."""
    run(
        """
        own = httpx.MockTransport(lambda request: httpx.Response(204))
        mock = SpectronMock().start()
        router = respx.mock(using="httpx", assert_all_called=False)
        router.start()
        mock.stop()  # respx's patch is on top: throwing it away would break the router
        router.route(host="weather.test").respond(json={"sky": "blue"})
        assert httpx.get("https://weather.test/today").json() == {"sky": "blue"}
        router.stop()
        assert httpx.Client(transport=own).get(mock.endpoint + STATE).status_code == 204
        with SpectronMock() as again:
            assert answered_by(again)
        """
    )


def test_the_plugin_patches_once_for_the_whole_run(pytester: pytest.Pytester) -> None:
    """Every test of a run meets the same patched method; after the run, the original is back."""
    pytester.makeconftest(
        """
        import atexit
        import httpx

        ORIGINAL = httpx.Client.__dict__["_transport_for_url"]
        atexit.register(
            lambda: print("restored:", httpx.Client.__dict__["_transport_for_url"] is ORIGINAL)
        )
        """
    )
    pytester.makepyfile(
        """
        import httpx

        SEEN = set()

        def test_first(spectron):
            spectron.state()
            SEEN.add(httpx.Client.__dict__["_transport_for_url"])

        def test_between_without_the_mock():
            answer = httpx.Response(200, json={"sky": "blue"})
            with httpx.Client(transport=httpx.MockTransport(lambda request: answer)) as client:
                assert client.get("http://spectron.test/today").json() == {"sky": "blue"}

        def test_second(spectron):
            spectron.state()
            SEEN.add(httpx.Client.__dict__["_transport_for_url"])
            assert len(SEEN) == 1
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:randomly")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["restored: True"])
