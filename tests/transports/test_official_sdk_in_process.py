"""The official SDK (``surrealdb-memory``) in a user's test: in-process, on the clock, no socket.

Each test runs pytest inside pytest (``pytester``) as a user would, with a guard that refuses
every socket connection and name lookup for the whole inner run: the SDK's requests reach the
fake in-process or not at all.
"""

from __future__ import annotations

import pytest

NO_SOCKET_CONFTEST = """
import asyncio
import socket

import pytest


class SocketUsed(AssertionError):
    pass


def _refuse(*args, **kwargs):
    raise SocketUsed(f"a socket connection or name lookup was attempted: {args!r}")


@pytest.fixture(autouse=True)
def no_socket(monkeypatch):
    for name in ("connect", "connect_ex"):
        monkeypatch.setattr(socket.socket, name, _refuse)
    for name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex", "create_connection"):
        monkeypatch.setattr(socket, name, _refuse)
    for name in ("create_connection", "getaddrinfo", "sock_connect"):
        monkeypatch.setattr(asyncio.BaseEventLoop, name, _refuse)
"""


@pytest.fixture
def no_socket(pytester: pytest.Pytester) -> pytest.Pytester:
    """A pytester whose inner tests may open no connection and look up no name."""
    pytester.makeconftest(NO_SOCKET_CONFTEST)
    return pytester


def test_the_guard_refuses_sockets_and_lookups(no_socket: pytest.Pytester) -> None:
    """The guard is real: requests and aiohttp to a host no mock answers are refused by it."""
    no_socket.makepyfile(
        """
        import asyncio

        import aiohttp
        import pytest
        import requests

        from conftest import SocketUsed

        def test_requests_is_refused(spectron_mock):
            with pytest.raises(SocketUsed):
                requests.get("http://127.0.0.1:9/")

        def test_lookup_is_refused(spectron_mock):
            with pytest.raises(SocketUsed):
                requests.get("http://elsewhere.test/")

        def test_aiohttp_is_refused(spectron_mock):
            async def main():
                async with aiohttp.ClientSession() as session:
                    await session.get("http://elsewhere.test/")

            with pytest.raises(SocketUsed):
                asyncio.run(main())
        """
    )
    no_socket.runpytest("-p", "no:randomly").assert_outcomes(passed=3)


def test_the_blocking_sdk_runs_in_process_with_no_socket(no_socket: pytest.Pytester) -> None:
    """Two 503s on a read: three attempts, the SDK's backoff on the clock, not one socket."""
    no_socket.makepyfile(
        """
        import pytest
        from surrealdb_memory import Memory

        @pytest.mark.spectron_fault("state", status=503, times=2)
        def test_state_survives_two_503s(spectron_mock, spectron_clock):
            memory = Memory(
                spectron_mock.context,
                endpoint=spectron_mock.endpoint,
                api_key=spectron_mock.api_key,
            )
            memory.remember("Alice prefers tea")
            with memory:
                assert memory.state().knowledge["attributes"]
            spectron_mock.assert_attempts("state", 3)
            assert spectron_clock.sleeps == [0.25, 0.5]
        """
    )
    no_socket.runpytest("-p", "no:randomly").assert_outcomes(passed=1)


def test_the_async_sdk_runs_in_process_with_no_socket(no_socket: pytest.Pytester) -> None:
    """The same with the SDK's async client (aiohttp), under pytest-asyncio."""
    no_socket.makepyfile(
        """
        import pytest
        from surrealdb_memory import AsyncMemory

        @pytest.mark.asyncio
        @pytest.mark.spectron_fault("state", status=503, times=2)
        async def test_state_survives_two_503s(spectron_mock, spectron_clock):
            async with AsyncMemory(
                spectron_mock.context,
                endpoint=spectron_mock.endpoint,
                api_key=spectron_mock.api_key,
            ) as memory:
                await memory.remember("Alice prefers tea")
                assert (await memory.state()).knowledge["attributes"]
            spectron_mock.assert_attempts("state", 3)
            assert spectron_clock.sleeps == [0.25, 0.5]
        """
    )
    no_socket.runpytest("-p", "no:randomly").assert_outcomes(passed=1)


def test_sdk_streams_and_uploads_in_process(no_socket: pytest.Pytester) -> None:
    """chat(stream=True) arrives chunk by chunk and an upload arrives byte for byte, both SDKs."""
    no_socket.makepyfile(
        """
        import asyncio

        from surrealdb_memory import AsyncMemory, Memory

        PAYLOAD = bytes(range(256)) * 3 + b"\\r\\n--not-a-boundary\\r\\n"

        def test_blocking(spectron_mock):
            options = dict(endpoint=spectron_mock.endpoint, api_key=spectron_mock.api_key)
            with Memory(spectron_mock.context, **options) as memory:
                memory.remember("Alice prefers tea")
                chunks = list(memory.chat("tea?", stream=True))
                uploaded = memory.documents.upload(PAYLOAD, filename="x.bin", title="x")
            assert len(chunks) > 2 and chunks[-1].done
            stored = spectron_mock.fake.documents(spectron_mock.context)
            assert [document.content for document in stored if document.id == uploaded.id] == [
                PAYLOAD
            ]

        def test_async(spectron_mock):
            options = dict(endpoint=spectron_mock.endpoint, api_key=spectron_mock.api_key)

            async def main():
                async with AsyncMemory(spectron_mock.context, **options) as memory:
                    await memory.remember("Alice prefers tea")
                    chunks = [chunk async for chunk in await memory.chat("tea?", stream=True)]
                    uploaded = await memory.documents.upload(PAYLOAD, filename="x.bin", title="x")
                return chunks, uploaded

            chunks, uploaded = asyncio.run(main())
            assert len(chunks) > 2 and chunks[-1].done
            stored = spectron_mock.fake.documents(spectron_mock.context)
            assert [document.content for document in stored if document.id == uploaded.id] == [
                PAYLOAD
            ]
        """
    )
    no_socket.runpytest("-p", "no:randomly").assert_outcomes(passed=2)
