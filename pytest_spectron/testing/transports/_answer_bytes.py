"""A mock's answer as the bytes a server sends: for clients that read HTTP/1.1 off a socket.

requests (through ``http.client`` and urllib3) and aiohttp parse answers themselves; handing
them the bytes a socket would carry lets their own parsers, streaming and errors run unchanged.
An answer whose body is known goes with its ``Content-Length``; a streamed one (SSE) goes chunk
by chunk, each frame as it comes, and where the stream is cut the bytes stop with no final
chunk, as when a server drops the connection midway.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx

__all__ = ["AnswerBytes"]

_BODILESS = frozenset({204, 304})
_FRAMING = frozenset({b"content-length", b"transfer-encoding", b"connection"})
_LAST_CHUNK = b"0\r\n\r\n"


class AnswerBytes:
    """The bytes of one answer, produced as they are read; ``cut`` once a stream broke.

    :param response: the mock's answer (its stream is read, then closed).
    :param head_only: the answer to a ``HEAD`` request: the head alone.
    """

    def __init__(self, response: httpx.Response, *, head_only: bool = False) -> None:
        self.response = response
        self.cut = False
        """Whether the stream broke before its end (the bytes stop without the final chunk)."""
        self._head_only = head_only

    def __iter__(self) -> Iterator[bytes]:
        response = self.response
        try:
            status = response.status_code
            bodiless = self._head_only or status < 200 or status in _BODILESS
            known = isinstance(response.stream, httpx.ByteStream)
            if known:
                body = response.read()
                framing = [] if status < 200 or status == 204 else [f"Content-Length: {len(body)}"]
            else:
                framing = [] if bodiless else ["Transfer-Encoding: chunked"]
            yield self._head(framing)
            if bodiless:
                return
            if known:
                if body:
                    yield body
                return
            yield from self._chunks()
        finally:
            response.close()

    def _head(self, framing: list[str]) -> bytes:
        response = self.response
        reason = response.reason_phrase or httpx.codes.get_reason_phrase(response.status_code)
        lines = [f"HTTP/1.1 {response.status_code} {reason}".encode("latin-1")]
        lines += [
            name + b": " + value
            for name, value in response.headers.raw
            if name.lower() not in _FRAMING
        ]
        lines += [line.encode("latin-1") for line in framing]
        return b"\r\n".join(lines) + b"\r\n\r\n"

    def _chunks(self) -> Iterator[bytes]:
        try:
            for chunk in self.response.iter_raw():
                if chunk:  # an empty chunk would end the stream
                    yield b"%x\r\n%b\r\n" % (len(chunk), chunk)
        except httpx.TransportError:  # the stream cut: the connection drops, no last chunk
            self.cut = True
            return
        yield _LAST_CHUNK
