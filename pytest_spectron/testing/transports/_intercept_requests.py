"""Where ``SpectronMock`` meets requests: ``HTTPAdapter.send``, whatever adapter is mounted.

For a URL a running mock answers (``_intercept_httpx.answer_for``), the patched ``send`` hands
the prepared request, as an httpx request, to that mock's answer (the very one httpx clients
meet: the same fake, faults, journal and clock), and reads the answer back the way requests
reads a socket: its bytes (``_answer_bytes``) go through ``http.client`` and urllib3, so headers, a
streamed body (``iter_lines`` frame by frame), a stream cut (``ChunkedEncodingError``) and
decoding are requests' own. A network failure raises what requests raises for it:
``ConnectionError`` (refused, reset), ``ConnectTimeout``, ``ReadTimeout``. Every other URL goes
on to the adapter's own ``send``. No socket is opened and no name is looked up.

``responses`` patches ``HTTPAdapter.send`` above this, and ``requests-mock`` swaps the adapter
away: both would refuse the mock's requests as unmocked. So their own dispatch is patched too
(``RequestsMock._on_request``, ``requests_mock.Adapter.send``), once they are imported, to
hand the mock's requests here first; every other request is theirs, as before.

Imported only once the application has imported requests (``_intercept_httpx``).
"""

from __future__ import annotations

import errno
import http.client
import io
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import httpx
import requests
from requests.adapters import HTTPAdapter
from urllib3 import HTTPResponse
from urllib3._collections import HTTPHeaderDict
from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)
from urllib3.util import Timeout

from pytest_spectron._shared._imports import forget, when_imported
from pytest_spectron._shared._validators import is_real
from pytest_spectron.testing.transports._answer_bytes import AnswerBytes
from pytest_spectron.testing.transports._class_patches import ClassPatches
from pytest_spectron.testing.transports._intercept_httpx import Answer, answer_for

__all__ = ["install", "send_in_process", "uninstall"]

_patches = ClassPatches()
"""What ``install`` replaced."""


def install() -> None:
    """Answer requests to the running mocks in-process, and route them past responses and
    requests-mock once those are imported. Calling it again does nothing."""
    if _patches:
        return
    _patches.patch(HTTPAdapter, "send", _patched_send)
    when_imported("responses", _patch_responses)
    when_imported("requests_mock", _patch_requests_mock)


def uninstall() -> None:
    """Put back every method ``install`` replaced, unless another patch sits on top of it."""
    forget("responses", _patch_responses)
    forget("requests_mock", _patch_requests_mock)
    _patches.undo()


def _answer(request: requests.PreparedRequest, *, network: bool) -> Answer | None:
    """A running mock's answer, a refusal, or None; ``network``: a real adapter sends next.

    Under ``responses`` or ``requests-mock`` the mock of the test answers (or refuses) what no
    running Spectron mock does: nothing reaches the network, so nothing is refused for it here;
    their pass-through goes down to ``HTTPAdapter.send``, which asks again with ``network``.
    """
    try:
        url = httpx.URL(request.url or "")
    except httpx.InvalidURL:
        return None  # requests raises its own error for it
    return answer_for(url, network=network)


def _patched_send(original: Callable[..., requests.Response]) -> Callable[..., requests.Response]:
    def send(
        adapter: HTTPAdapter, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:
        answer = _answer(request, network=True)
        if answer is None:
            return original(adapter, request, *args, **kwargs)
        # send(request, stream=False, timeout=None, verify=True, cert=None, proxies=None)
        timeout = args[1] if len(args) > 1 else kwargs.get("timeout")
        return send_in_process(adapter, request, answer, timeout)

    return send


def _patch_responses(module: ModuleType) -> None:
    def make(original: Callable[..., requests.Response]) -> Callable[..., requests.Response]:
        def on_request(
            mock: object,
            adapter: HTTPAdapter,
            request: requests.PreparedRequest,
            **kwargs: Any,
        ) -> requests.Response:
            answer = _answer(request, network=False)
            if answer is None:
                return original(mock, adapter, request, **kwargs)
            return send_in_process(adapter, request, answer, kwargs.get("timeout"))

        return on_request

    _patches.patch(module.RequestsMock, "_on_request", make)


def _patch_requests_mock(module: ModuleType) -> None:
    # requests-mock's session uses its own adapter for every URL: the mock's requests are
    # read back through a plain HTTPAdapter's build_response.
    plain = HTTPAdapter()

    def make(original: Callable[..., requests.Response]) -> Callable[..., requests.Response]:
        def send(
            mocker_adapter: object, request: requests.PreparedRequest, **kwargs: Any
        ) -> requests.Response:
            answer = _answer(request, network=False)
            if answer is None:
                return original(mocker_adapter, request, **kwargs)
            return send_in_process(plain, request, answer, kwargs.get("timeout"))

        return send

    _patches.patch(module.adapter.Adapter, "send", make)


def send_in_process(
    adapter: HTTPAdapter, request: requests.PreparedRequest, answer: Answer, timeout: object
) -> requests.Response:
    """Send ``request`` to a mock's ``answer`` and read the answer as requests reads a socket.

    :param adapter: the adapter whose ``build_response`` makes the ``requests.Response``.
    :param request: the prepared request.
    :param answer: the mock's answer to httpx requests.
    :param timeout: the ``timeout`` given to ``send``: seconds, ``(connect, read)`` or urllib3's.
    :raises requests.RequestException: the network failure a fault stands for, as requests
        raises it.
    :return: the response, its body read as the caller asked (streamed or not).
    """
    sent = httpx.Request(
        request.method or "GET",
        request.url or "",
        headers=[
            (name, value if isinstance(value, str) else value.decode("latin-1"))
            for name, value in request.headers.items()
            if name.lower() != "transfer-encoding"  # the body is read whole: a length instead
        ],
        content=_body(request.body),
        extensions={"timeout": _timeouts(timeout)},
    )
    try:
        response = answer(sent)
    except httpx.TransportError as error:
        # As a network failure looks to requests: no chained conversion to show.
        raise _requests_error(error, request) from None
    read = http.client.HTTPResponse(
        _Socket(iter(AnswerBytes(response, head_only=request.method == "HEAD"))),  # type: ignore[arg-type]
        method=request.method,
        url=request.url,
    )
    read.begin()
    raw = HTTPResponse(
        body=read,
        headers=HTTPHeaderDict(list(read.msg.items())),
        status=read.status,
        version=read.version,
        reason=read.reason,
        preload_content=False,
        decode_content=False,
        original_response=read,
        enforce_content_length=True,
        request_method=request.method,
        request_url=request.url,
    )
    return adapter.build_response(request, raw)


def _body(body: object) -> bytes:
    """The bytes requests would send for a prepared body (bytes, text, a file, an iterable)."""
    if body is None:
        return b""
    if isinstance(body, bytes | bytearray | memoryview):
        return bytes(body)
    if isinstance(body, str):
        return body.encode("utf-8")
    read = getattr(body, "read", None)
    if read is not None:
        return _body(read())
    return b"".join(_body(part) for part in body)  # type: ignore[attr-defined]


def _timeouts(timeout: object) -> dict[str, float | None]:
    """httpx's timeout extension for requests' ``timeout``: what the service sees of it."""
    if isinstance(timeout, tuple):
        connect, read = timeout
    elif isinstance(timeout, Timeout):
        connect, read = timeout.connect_timeout, timeout.read_timeout
    else:
        connect = read = timeout

    def seconds(value: object) -> float | None:
        return float(value) if is_real(value) else None

    return {"connect": seconds(connect), "read": seconds(read), "write": None, "pool": None}


def _requests_error(
    error: httpx.TransportError, request: requests.PreparedRequest
) -> requests.RequestException:
    """What requests raises for the network failure ``error`` stands for."""
    url = request.url or ""
    exceptions = requests.exceptions
    if isinstance(error, httpx.ConnectTimeout):
        reason: Exception = ConnectTimeoutError(None, f"Connection timed out ({error})")
        return exceptions.ConnectTimeout(MaxRetryError(None, url, reason), request=request)  # type: ignore[arg-type]
    if isinstance(error, httpx.ConnectError):
        reason = NewConnectionError(
            None,  # type: ignore[arg-type]
            f"Failed to establish a new connection: [Errno {errno.ECONNREFUSED}] "
            f"Connection refused ({error})",
        )
        return exceptions.ConnectionError(MaxRetryError(None, url, reason), request=request)  # type: ignore[arg-type]
    if isinstance(error, httpx.TimeoutException):
        reason = ReadTimeoutError(None, url, f"Read timed out. ({error})")  # type: ignore[arg-type]
        return exceptions.ReadTimeout(reason, request=request)
    if isinstance(error, httpx.ReadError | httpx.WriteError):
        reason = ConnectionResetError(errno.ECONNRESET, "Connection reset by peer")
    else:
        reason = http.client.RemoteDisconnected("Remote end closed connection without response")
    return exceptions.ConnectionError(ProtocolError("Connection aborted.", reason), request=request)


class _Socket:
    """What ``http.client.HTTPResponse`` reads an answer from: its bytes, as they come."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks

    def makefile(self, mode: str) -> io.BufferedReader:
        return io.BufferedReader(_Reader(self._chunks))


class _Reader(io.RawIOBase):
    """A raw stream over byte chunks; a read returns what the next chunk has, never waits for
    more, so a streamed answer is read frame by frame. Closing it closes the answer."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._pending = memoryview(chunk)
        count = min(len(buffer), len(self._pending))
        buffer[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        return count

    def close(self) -> None:
        if not self.closed:
            close = getattr(self._chunks, "close", None)
            if close is not None:
                close()
        super().close()
