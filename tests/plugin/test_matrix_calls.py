"""``spectron_matrix`` on chat, called plainly or streamed: the cases of the call the test makes."""

from __future__ import annotations

import pytest

APP = """
from pytest_spectron import SpectronServerError, SpectronStreamError


def ask_streaming(client, question):
    '''The streamed answer; a cut stream quietly keeps what arrived (the bug under test).'''
    received = []
    try:
        with client.chat(question, stream=True) as stream:
            received.extend(chunk.delta for chunk in stream)
    except SpectronStreamError:
        pass
    return "".join(received)


def ask(client, question):
    '''A plain chat, sent again after a server error (the bug: chat is sent once).'''
    try:
        return client.chat(question).reply
    except SpectronServerError:
        return client.chat(question).reply
"""


def test_a_streamed_chat_gets_the_stream_cases(pytester: pytest.Pytester) -> None:
    """A test that streams chat gets ``stream_cut`` too, and the stream class's expectations."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.spectron_matrix("chat")
        def test_stream(spectron, spectron_mock, spectron_clock, spectron_case):
            assert "stream" in spectron_case.retry_classes
            with pytest.raises(spectron_case.error):
                list(spectron.chat("hi", stream=True))
            spectron_mock.assert_attempts("chat", spectron_case.attempts)
            assert spectron_clock.sleeps == list(spectron_case.sleeps)
            assert {a.retry_class for a in spectron_mock.attempts("chat")} == {"stream"}
        """
    )
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=14)
    result.stdout.fnmatch_lines_random(
        [
            "*test_stream?write+stream-503?*PASSED*",
            "*test_stream?write+stream-read_timeout?*PASSED*",
            "*test_stream?stream-stream_cut?*PASSED*",
        ]
    )


def test_a_plain_chat_gets_the_write_cases_and_skips_the_cut(pytester: pytest.Pytester) -> None:
    """A plain chat runs the write-class expectations; ``stream_cut`` is skipped, saying why."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.spectron_matrix("chat")
        def test_plain(spectron, spectron_mock, spectron_case):
            with pytest.raises(spectron_case.error):
                spectron.chat("hi")
            spectron_mock.assert_attempts("chat", spectron_case.attempts)
            assert "write" in spectron_case.retry_classes
            assert {a.retry_class for a in spectron_mock.attempts("chat")} == {"write"}
        """
    )
    result = pytester.runpytest("-v", "-rs")
    result.assert_outcomes(passed=13, skipped=1)
    result.stdout.fnmatch_lines(
        [
            "*test_plain?stream-stream_cut?*SKIPPED*",
            "*spectron_case stream-stream_cut is for a streamed chat (chat(stream=True)); "
            "this test made only a plain chat call (write), so the case does not apply*",
        ]
    )


def test_a_case_that_does_not_apply_is_never_green(pytester: pytest.Pytester) -> None:
    """A plain-chat test that would pass with no failure at all does not pass ``stream_cut``."""
    pytester.makepyfile(
        """
        import pytest
        from pytest_spectron import SpectronError

        @pytest.mark.spectron_matrix("chat", outcomes=[503, "stream_cut"])
        def test_lax(spectron, spectron_case):
            try:
                spectron.chat("hi")
            except SpectronError:
                pass
        """
    )
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines_random(
        ["*test_lax?write+stream-503?*PASSED*", "*test_lax?stream-stream_cut?*SKIPPED*"]
    )


def test_an_app_that_swallows_a_cut_stream_fails_that_case(pytester: pytest.Pytester) -> None:
    """An app that hides a cut stream fails the ``stream_cut`` case, and only that one."""
    pytester.makepyfile(app=APP)
    pytester.makepyfile(
        """
        import pytest
        from app import ask_streaming

        @pytest.mark.spectron_matrix("chat")
        def test_app(spectron, spectron_case):
            with pytest.raises(spectron_case.error):
                ask_streaming(spectron, "hi")
        """
    )
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=13, failed=1)
    result.stdout.fnmatch_lines(
        ["*test_app?stream-stream_cut?*FAILED*", "*DID NOT RAISE*SpectronStreamError*"]
    )


def test_an_app_that_resends_a_plain_chat_fails_the_server_error_cases(
    pytester: pytest.Pytester,
) -> None:
    """An app that sends a plain chat twice fails the shared cases' one-attempt expectation."""
    pytester.makepyfile(app=APP)
    pytester.makepyfile(
        """
        import pytest
        from app import ask

        @pytest.mark.spectron_matrix("chat")
        def test_app(spectron, spectron_mock, spectron_case):
            with pytest.raises(spectron_case.error):
                ask(spectron, "hi")
            spectron_mock.assert_attempts("chat", spectron_case.attempts)
        """
    )
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=9, failed=4, skipped=1)
    result.stdout.fnmatch_lines_random(
        [f"*test_app?write+stream-{status}?*FAILED*" for status in (500, 502, 503, 504)]
        + ["*expected 1 attempt(s) of 'chat', got 2*"]
    )


def test_a_case_no_call_met_fails_a_passing_test(pytester: pytest.Pytester) -> None:
    """A streamed chat that never met the cut (an earlier fault answered) fails the case."""
    pytester.makepyfile(
        """
        import pytest
        from pytest_spectron import SpectronError

        @pytest.mark.spectron_fault("chat", status=503)
        @pytest.mark.spectron_matrix("chat", outcomes=["stream_cut"])
        def test_lax(spectron, spectron_case):
            with pytest.raises(SpectronError):
                list(spectron.chat("hi", stream=True))
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*spectron_case stream-stream_cut was not exercised: no call of chat met "
            "stream_cut (see the attempt ledger)*",
            "*Spectron attempt ledger*",
            "1  chat *503  *HTTP 503 via chat=503*",
        ]
    )


@pytest.mark.parametrize("check", ["true", "false"])
def test_a_case_whose_operation_is_never_called_fails(
    pytester: pytest.Pytester, check: str
) -> None:
    """A case is a claim that the app met the failure: no call at all is never green.

    Whatever ``spectron_assert_all_faults_used`` says: that option is about extra faults a test
    declares, the matrix case is the test's subject.
    """
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.spectron_matrix("state", outcomes=[503])
        def test_forgot_to_call(spectron, spectron_case):
            pass
        """
    )
    result = pytester.runpytest("-o", f"spectron_assert_all_faults_used={check}")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*spectron_case read-503 was not exercised: the test never called state*"]
    )
    result.stdout.no_fnmatch_line("*was never used*")


def test_a_test_calling_chat_both_ways_meets_every_case(pytester: pytest.Pytester) -> None:
    """Plain and streamed calls in one test: every case applies, ``stream_cut`` to the stream."""
    pytester.makepyfile(
        """
        import pytest
        from pytest_spectron import SpectronError

        @pytest.mark.spectron_matrix("chat")
        def test_both(spectron, spectron_case):
            for stream in (False, True):
                try:
                    answer = spectron.chat("hi", stream=stream)
                    if stream:
                        list(answer)
                except SpectronError as error:
                    assert type(error) is spectron_case.error
        """
    )
    pytester.runpytest().assert_outcomes(passed=14)


@pytest.mark.parametrize(
    ("retry_class", "call", "first_id"),
    [
        ("stream", 'list(spectron.chat("hi", stream=True))', "stream-400"),
        ("write", 'spectron.chat("hi")', "write-400"),
    ],
)
def test_retry_class_selects_one_call(
    pytester: pytest.Pytester, retry_class: str, call: str, first_id: str
) -> None:
    """``retry_class=`` still picks one call's cases, named after its class."""
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.spectron_matrix("chat", retry_class={retry_class!r})
        def test_one_call(spectron, spectron_mock, spectron_case):
            assert spectron_case.retry_classes == ({retry_class!r},)
            with pytest.raises(spectron_case.error):
                {call}
            spectron_mock.assert_attempts("chat", spectron_case.attempts)
        """
    )
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=14 if retry_class == "stream" else 13)
    result.stdout.fnmatch_lines([f"*test_one_call?{first_id}?*PASSED*"])


def test_retry_class_and_the_other_call_fails_clearly(pytester: pytest.Pytester) -> None:
    """``retry_class="stream"`` on a test calling chat plainly fails: it promised a stream."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.spectron_matrix("chat", retry_class="stream", outcomes=[503])
        def test_plain(spectron, spectron_case):
            with pytest.raises(spectron_case.error):
                spectron.chat("hi")
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*@pytest.mark.spectron_matrix('chat', retry_class='stream') selects the cases of "
            "a streamed chat (chat(stream=True)), but this test made only a plain chat call "
            "(write): make that call, or drop retry_class=*"
        ]
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            '"chat", retry_class="read"',
            "*'chat' is in the 'write' retry class, or 'stream' when streamed: retry_class= "
            "may only be 'write' or 'stream', or left out for the cases of both*",
        ),
        ('"state", retry_class="write"', "*'state' is in the 'read' retry class: *only be 'read'*"),
        (
            '"read", retry_class="write"',
            "*retry_class='write' contradicts the retry class 'read' given first*",
        ),
    ],
)
def test_a_conflicting_retry_class_errors_its_test(
    pytester: pytest.Pytester, arguments: str, message: str
) -> None:
    """A ``retry_class=`` the operation (or class) given first never has errors the test."""
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.spectron_matrix({arguments})
        def test_conflict(spectron_case):
            pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([message])


def test_spectron_case_without_the_marker_says_to_add_it(pytester: pytest.Pytester) -> None:
    """No ``spectron_matrix`` marker: the cases of classes never called say to add it."""
    pytester.makepyfile(
        """
        from pytest_spectron import SpectronError

        def test_unmarked(spectron, spectron_case):
            try:
                spectron.state()
            except SpectronError:
                pass
        """
    )
    result = pytester.runpytest("-p", "no:randomly")
    result.stdout.fnmatch_lines(
        [
            "*spectron_case write-503 was not exercised: the test never called write, so what "
            "the case claims was never tested. Without @pytest.mark.spectron_matrix, "
            "spectron_case runs every case of every retry class (reads, writes, streams); add "
            "the marker naming the operation your test calls: "
            "@pytest.mark.spectron_matrix('state').*",
        ]
    )
