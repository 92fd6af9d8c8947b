"""Reading HTTP/1.1 requests off a socket: strict framing, and a clear problem for each fault.

Keep-alive, ``Content-Length`` and chunked bodies, ``Expect: 100-continue``, up to 8 stray empty
lines before a request line (RFC 9112 section 2.2). Whatever could frame a body two ways, the way
requests are smuggled past proxies, is refused: both ``Content-Length`` and
``Transfer-Encoding``, disagreeing lengths, a chunk that does not end where its size says, folded
header lines, control characters in a header value or the request target.

Why not h11 (installed with httpx): it parses most of this, but answers each fault with one
generic message and a 400, 431 or 501, where the server says what was wrong and what to send
instead (and answers 414, 505, 413). It accepts what this refuses (``Content-Length`` beside
``Transfer-Encoding``, folded lines, any ``HTTP/d.d``, any request target, any number of header
lines) and bounds a request head only while it is incomplete, so a limit would depend on how
the bytes arrive. Checking all of that again over h11 would leave this module as long as it is.
"""

from __future__ import annotations

import io
import re
import socket
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from pytest_spectron._shared._numbers import whole_number
from pytest_spectron.testing.http._exchange import ServiceRequest, strip_prefix

__all__ = [
    "MAX_BODY",
    "MAX_HEADERS",
    "MAX_LINE",
    "BadRequest",
    "ClientClosed",
    "ReadRequest",
    "RequestReader",
    "body_length",
    "parse_request_line",
    "target_authority",
]

MAX_LINE = 65_536
"""Longest request line or header line accepted, in bytes."""
MAX_HEADERS = 100
"""Most header lines (and trailer lines) accepted in one request."""
MAX_BODY = 64 * 1024 * 1024
"""Largest request body accepted, in bytes (a document upload is one request)."""

_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_VERSION = re.compile(rb"HTTP/(\d)\.(\d)")
_VISIBLE = re.compile(r"[\x21-\x7e]+")
_FIELD_VALUE = re.compile(rb"[\t\x20-\x7e\x80-\xff]*")
"""A header value: tabs, spaces, visible characters and obs-text; no control character."""
_HEX = re.compile(rb"[0-9A-Fa-f]{1,16}")
_EMPTY_LINES = (b"\r\n", b"\n")
_STRAY_EMPTY_LINES = 8


class BadRequest(Exception):
    """The request cannot be understood: answer ``status`` and close the connection."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class ClientClosed(Exception):
    """The client closed the connection in the middle of a request."""


@dataclass(frozen=True)
class ReadRequest:
    """A request as read, and how the connection goes on after its answer."""

    request: ServiceRequest
    keep_alive: bool
    """Whether the client keeps the connection for another request."""
    http10: bool
    """Whether the client speaks HTTP/1.0 (no chunked answers)."""
    target_authority: str | None = None
    """The ``host[:port]`` of an absolute-form request target (``GET http://host/path``)."""


class RequestReader:
    """Reads request after request from one connection's buffered reader.

    :param reader: the connection's buffered reader (reads end at its timeout).
    :param connection: the socket, to send ``100 Continue`` on.
    :param prefix: the path prefix the server is mounted under, stripped from every path.
    :param client_timeout: the read timeout the requests are taken to carry.
    """

    def __init__(
        self,
        reader: io.BufferedReader,
        connection: socket.socket,
        *,
        prefix: str,
        client_timeout: float | None,
    ) -> None:
        self.reader = reader
        self.connection = connection
        self.prefix = prefix
        self.client_timeout = client_timeout

    def arrives(self) -> bool:
        """Wait for the first byte of the next request; False if the client closed or idled.

        :return: True once a byte is there to read.
        """
        try:
            return bool(self.reader.peek(1))
        except TimeoutError:
            return False

    def read(self) -> ReadRequest:
        """Read the next request whole.

        :raises BadRequest: the request is malformed or too large.
        :raises ClientClosed: the client closed the connection mid-request.
        :raises TimeoutError: the client stalled mid-request.
        :return: the request and how the connection goes on.
        """
        line = self._line(too_long_status=414, what="request line")
        for _ in range(_STRAY_EMPTY_LINES):
            if line not in _EMPTY_LINES:
                break
            line = self._line(too_long_status=414, what="request line")
        if not line:
            raise ClientClosed
        method, path, query, (major, minor) = parse_request_line(line)
        authority = target_authority(line)
        if major != 1:
            raise BadRequest(505, f"HTTP/{major}.{minor} is not served; use HTTP/1.1")
        http10 = minor == 0
        headers = self._headers()
        # HTTP/1.0 clients get one answer per connection; 1.1 ones keep it unless they say not.
        keep_alive = not http10 and "close" not in _tokens(headers.get("connection", ""))
        length = body_length(headers)  # a bad one is refused before the client sends the body
        if not http10 and "100-continue" in _tokens(headers.get("expect", "")):
            self.connection.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        path, outside_prefix = strip_prefix(path, self.prefix)
        request = ServiceRequest(
            method=method,
            path=path,
            outside_prefix=outside_prefix,
            query=tuple(parse_qsl(query, keep_blank_values=True)),
            headers=headers,
            body=self._chunked() if length is None else self._exactly(length),
            timeout=self.client_timeout,
        )
        return ReadRequest(
            request, keep_alive=keep_alive, http10=http10, target_authority=authority
        )

    def _line(self, *, too_long_status: int, what: str) -> bytes:
        line = self.reader.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise BadRequest(too_long_status, f"the {what} is longer than {MAX_LINE} bytes")
        if line and not line.endswith(b"\n"):
            raise ClientClosed
        return line

    def _headers(self) -> dict[str, str]:
        fields: dict[str, list[str]] = {}
        for _ in range(MAX_HEADERS + 1):
            line = self._line(too_long_status=431, what="header line")
            if not line:
                raise ClientClosed
            if line in _EMPTY_LINES:
                return {name: ", ".join(values) for name, values in fields.items()}
            name, value = _parse_header_line(line)
            fields.setdefault(name, []).append(value)
        raise BadRequest(431, f"more than {MAX_HEADERS} header lines")

    def _chunked(self) -> bytes:
        parts: list[bytes] = []
        received = 0
        while size := self._chunk_size():
            received += size
            if received > MAX_BODY:
                raise BadRequest(413, f"the chunked body is larger than {MAX_BODY} bytes")
            parts.append(self._exactly(size))
            if self._line(too_long_status=400, what="chunk end") not in _EMPTY_LINES:
                raise BadRequest(400, "a chunk does not end with CRLF where its size says")
        for _ in range(MAX_HEADERS + 1):  # trailer fields, ignored
            line = self._line(too_long_status=431, what="trailer line")
            if not line:
                raise ClientClosed
            if line in _EMPTY_LINES:
                return b"".join(parts)
        raise BadRequest(431, f"more than {MAX_HEADERS} trailer lines")

    def _chunk_size(self) -> int:
        line = self._line(too_long_status=400, what="chunk size line")
        if not line:
            raise ClientClosed
        size = _content(line).split(b";", 1)[0].strip(b" \t")  # chunk extensions are ignored
        if not _HEX.fullmatch(size):
            raise BadRequest(400, f"malformed chunk size line {_shown(line)}")
        return int(size, 16)

    def _exactly(self, size: int) -> bytes:
        data = self.reader.read(size)
        if len(data) < size:
            raise ClientClosed
        return data


def parse_request_line(line: bytes) -> tuple[str, str, str, tuple[int, int]]:
    """Split a request line.

    :param line: the request line, with its line end.
    :raises BadRequest: the line or its target is malformed.
    :return: the method, the raw path, the raw query and the (major, minor) version.
    """
    malformed = BadRequest(
        400, f"malformed request line {_shown(line)}: expected METHOD TARGET HTTP/1.1"
    )
    parts = _content(line).split(b" ")
    if len(parts) != 3:
        raise malformed
    method, target, version = parts
    matched = _VERSION.fullmatch(version)
    if not _TOKEN.fullmatch(method) or matched is None:
        raise malformed
    path, query = _parse_target(target)
    return method.decode("ascii"), path, query, (int(matched[1]), int(matched[2]))


def target_authority(line: bytes) -> str | None:
    """The ``host[:port]`` of a well-formed request line's absolute-form target, else None.

    :param line: a request line ``parse_request_line`` accepted.
    :return: such as ``evil.example:80`` for ``GET http://evil.example:80/x HTTP/1.1``.
    """
    target = _content(line).split(b" ")[1].decode("ascii")
    if not target.startswith(("http://", "https://")):
        return None
    return urlsplit(target).netloc.rpartition("@")[2]


def body_length(headers: dict[str, str]) -> int | None:
    """The body's length from its framing headers.

    :param headers: the request's headers, by lower-case name.
    :raises BadRequest: the framing is ambiguous, unknown or too large.
    :return: the length in bytes, or None for a chunked body.
    """
    if "transfer-encoding" in headers:
        if "content-length" in headers:
            # Two framings that may disagree: the way requests are smuggled past proxies.
            raise BadRequest(
                400,
                "the request has both Content-Length and Transfer-Encoding headers; "
                "send exactly one of them",
            )
        if _tokens(headers["transfer-encoding"]) != ["chunked"]:
            raise BadRequest(
                501,
                f"Transfer-Encoding {headers['transfer-encoding']!r} is not served; "
                "send chunked or a Content-Length",
            )
        return None
    if "content-length" not in headers:
        return 0
    shown = headers["content-length"]
    # A repeated header, or a list of one value repeated, is allowed if every copy agrees.
    lengths = {whole_number(value.strip()) for value in shown.split(",")}
    if len(lengths) != 1 or None in lengths:
        raise BadRequest(
            400,
            f"Content-Length {shown!r} is not one whole number of bytes: send the body's "
            "length in digits 0-9, once",
        )
    [length] = lengths
    assert length is not None
    if length > MAX_BODY:
        raise BadRequest(413, f"the body ({length} bytes) is larger than {MAX_BODY} bytes")
    return length


def _parse_target(target: bytes) -> tuple[str, str]:
    """The raw path and query of a request target (origin, absolute or ``*`` form)."""
    try:
        text = target.decode("ascii")
    except UnicodeDecodeError:
        raise BadRequest(400, "the request target is not ASCII: percent-encode it") from None
    if not _VISIBLE.fullmatch(text):
        raise BadRequest(
            400, f"malformed request target {text!r}: percent-encode control characters"
        )
    if text.startswith("/") or text == "*":
        path, _, query = text.partition("?")
        return path, query
    if text.startswith(("http://", "https://")):  # the absolute form, as proxies send it
        try:
            split = urlsplit(text)
        except ValueError as error:  # a bracketed host that is no IPv6 address, say
            raise BadRequest(400, f"malformed request target {text!r}: {error}") from None
        return split.path or "/", split.query
    raise BadRequest(400, f"malformed request target {text!r}: expected a path such as /api")


def _parse_header_line(line: bytes) -> tuple[str, str]:
    """The lower-case name and the value of one header line."""
    if line[:1] in (b" ", b"\t"):
        raise BadRequest(400, "folded header lines (obs-fold) are not accepted")
    name, colon, value = _content(line).partition(b":")
    if not colon or not _TOKEN.fullmatch(name):
        raise BadRequest(400, f"malformed header line {_shown(line)}")
    value = value.strip(b" \t")
    if not _FIELD_VALUE.fullmatch(value):
        raise BadRequest(
            400, f"malformed header line {_shown(line)}: its value holds a control character"
        )
    return name.decode("ascii").lower(), value.decode("latin-1")


def _tokens(value: str) -> list[str]:
    return [token.strip().lower() for token in value.split(",") if token.strip()]


def _content(line: bytes) -> bytes:
    """A line without its line end (CRLF, or a bare LF)."""
    return line.removesuffix(b"\n").removesuffix(b"\r")


def _shown(line: bytes) -> str:
    text = _content(line).decode("latin-1")
    return repr(text if len(text) <= 80 else text[:77] + "...")
