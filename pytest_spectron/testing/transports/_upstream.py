"""Live mode: the backend that forwards each attempt to a real Spectron (the upstream).

``SpectronService`` puts the same fault engine, virtual clock and journal in front of it as in
front of the fake; every attempt no fault takes comes here and goes on to the upstream with its
method, path, query, headers (``Authorization`` included, hop-by-hop headers dropped) and body.
Whole answers are read, then relayed; event streams are relayed frame by frame as they arrive,
and a stream the upstream breaks breaks for the client too. Bodies pass as they are, compressed
or not. An upstream that is down, or silent for longer than ``timeout``, gets a prompt 502 or 504
problem naming it, never a hang.

httpx builds each request (``Host``, ``Content-Length``, the URL) and its engine, httpcore's
connection pool, sends it. Not through ``httpx.Client`` or ``httpx.HTTPTransport``: the mocks a
test may run at the same time patch those (``SpectronMock`` itself, respx, pytest-httpx) and
would catch the forwarded requests. respx's httpcore mocker patches the pool and its
connections' classes, so the pool here calls the methods httpcore had when this module loaded
(the plugin loads it at start-up in live mode, before any test's mock starts).
"""

from __future__ import annotations

import re
import types
import warnings
from collections.abc import Iterable, Iterator
from urllib.parse import urlencode, urlsplit

import httpcore
import httpx

from pytest_spectron._shared._defaults import DEFAULT_UPSTREAM_TIMEOUT
from pytest_spectron._shared._endpoint import check_endpoint, endpoint_prefix, redact_endpoint
from pytest_spectron._shared._validators import check_seconds
from pytest_spectron.testing.http._exchange import (
    BrokenStream,
    NetworkFailure,
    RelayedFrames,
    ServiceRequest,
    ServiceResponse,
)
from pytest_spectron.testing.http._problems import (
    DEFAULT_ERROR_FORMAT,
    ErrorFormat,
    TraceIds,
    check_error_format,
    problem_response,
)
from pytest_spectron.testing.http._routing import Route
from pytest_spectron.testing.transports.loopback._admin_guard import is_loopback_host

__all__ = ["PlaintextUpstreamWarning", "UpstreamBackend", "check_upstream", "sse_frames"]

_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
"""Headers about one connection (RFC 9110 7.6.1): never passed on by a proxy."""
_REQUEST_DROPPED = _HOP_BY_HOP | {"host", "content-length", "expect"}
"""Also dropped from requests: httpx writes the upstream's ``Host`` and the body's length."""
_RESPONSE_DROPPED = _HOP_BY_HOP | {"content-length"}
"""Also dropped from answers: whoever sends the body on frames it."""
_FRAME_END = re.compile(rb"\r\n\r\n|\n\n|\r\r")
"""The blank line that ends a server-sent event, in any of the line endings SSE allows."""
_DEFAULT_PORTS = {"http": 80, "https": 443}
_UNREACHABLE = (
    httpcore.TimeoutException,
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.UnsupportedProtocol,
)
"""What httpcore raises when the upstream gives no (complete) answer."""

# Taken now, before a test's respx patches these classes' methods (see the docstring above).
_POOL_HANDLE_REQUEST = httpcore.ConnectionPool.handle_request
_CONNECTION_HANDLE_REQUEST = httpcore.HTTPConnection.handle_request


class _Pool(httpcore.ConnectionPool):
    """httpcore's connection pool, out of the reach of mocks that patch httpcore's classes."""

    handle_request = _POOL_HANDLE_REQUEST

    def create_connection(self, origin: httpcore.Origin) -> httpcore.ConnectionInterface:
        connection = super().create_connection(origin)
        connection.handle_request = types.MethodType(  # type: ignore[method-assign]
            _CONNECTION_HANDLE_REQUEST, connection
        )
        return connection


class UpstreamBackend:
    """Forward every attempt to the Spectron at ``url``: the ``Forwarder`` of live mode.

    ``SpectronService(UpstreamBackend(url))`` is the fake's service with a real Spectron behind
    it. ``timeout`` is in seconds: to connect, and for each read (the answer's start, each
    frame of a stream). ``verify=False`` accepts any certificate: dangerous, anyone on the path
    can read the API key; trust a private CA with ``SSL_CERT_FILE`` instead. ``error_format`` is
    the format of the problems answered here (faults, an unreachable upstream); the upstream's
    own answers pass untouched. ``close()`` drops its pooled connections.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = DEFAULT_UPSTREAM_TIMEOUT,
        verify: bool = True,
        error_format: ErrorFormat = DEFAULT_ERROR_FORMAT,
    ) -> None:
        check_seconds("timeout", timeout, above_zero=True)
        self.url = check_upstream(url)
        self.timeout = float(timeout)
        self.verify = verify
        self.error_format = check_error_format(error_format)
        self.trace_ids = TraceIds()
        """The trace ids of the answers made here (faults, 502, 504); the upstream has its own."""
        self._base = httpx.URL(self.url)
        self._prefix = endpoint_prefix(self.url)
        # httpx's defaults; SSL_CERT_FILE / SSL_CERT_DIR name the trusted CAs, as for httpx.
        self._pool = _Pool(
            ssl_context=httpx.create_ssl_context(verify=verify),
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
        )

    def handle(self, route: Route, request: ServiceRequest) -> ServiceResponse | NetworkFailure:
        """The upstream's answer to a routed request."""
        return self.forward(request)

    def forward(self, request: ServiceRequest) -> ServiceResponse | NetworkFailure:
        """The upstream's answer to any request; a 502 or 504 problem if it gives none.

        The wait is bounded by the client's own timeouts too, where the request carries them
        (in-process): a client that gives up first gets the timeout it would get over a
        socket, not an answer it would never have seen.
        """
        connect, read = (
            _bound(self.timeout, request.connect_timeout),
            _bound(self.timeout, request.timeout),
        )
        try:
            response = self._pool.handle_request(self._outgoing(request, connect, read))
        except _UNREACHABLE as error:
            return self._gave_up(request, error, connect=connect, read=read)
        # Latin-1 passes every byte through unchanged, as the loopback server writes them.
        pairs = [
            (name.decode("latin-1"), value.decode("latin-1")) for name, value in response.headers
        ]
        named = {name.lower(): value for name, value in pairs}
        relayed = _passed_on(pairs, dropped=_RESPONSE_DROPPED, connection=named.get("connection"))
        if named.get("content-type", "").startswith("text/event-stream"):
            # A compressed stream's frames cannot be told apart: its chunks go as they come.
            chunks = _chunks(response)
            frames = chunks if "content-encoding" in named else sse_frames(chunks)
            return ServiceResponse(
                response.status, relayed, relayed=RelayedFrames(frames, response.close)
            )
        try:
            body = response.read()
        except _UNREACHABLE as error:
            return self._gave_up(request, error, connect=connect, read=read)
        finally:
            response.close()
        return ServiceResponse(response.status, relayed, body=body)

    def reset(self) -> None:
        """Restart the trace ids of the answers made here; the upstream's state stays."""
        self.trace_ids.reset()

    def close(self) -> None:
        """Close the pooled connections to the upstream (new ones open if it is used again)."""
        self._pool.close()

    def __repr__(self) -> str:
        return f"<UpstreamBackend {redact_endpoint(self.url)} timeout={self.timeout:g}>"

    def _gave_up(
        self, request: ServiceRequest, error: Exception, *, connect: float, read: float
    ) -> ServiceResponse | NetworkFailure:
        """The client's own timeout where it ran out first, else the upstream's 502 or 504."""
        if isinstance(error, httpcore.ConnectTimeout) and connect < self.timeout:
            return NetworkFailure(
                "connect_timeout", f"the upstream did not connect within {connect:g} s"
            )
        if isinstance(error, httpcore.ReadTimeout) and read < self.timeout:
            return NetworkFailure("read_timeout", f"the upstream did not answer within {read:g} s")
        return self._unreachable(request, error)

    def _outgoing(
        self, request: ServiceRequest, connect: float | None = None, read: float | None = None
    ) -> httpcore.Request:
        target = self._prefix + request.path
        if request.query:
            target += "?" + urlencode(request.query)
        built = httpx.Request(
            request.method,
            self._base.copy_with(raw_path=target.encode("ascii")),
            headers=[
                (name.encode("ascii"), _header_bytes(value))
                for name, value in _passed_on(
                    request.headers.items(),
                    dropped=_REQUEST_DROPPED,
                    connection=request.header("connection"),
                )
            ],
            content=request.body,
        )
        url = built.url
        return httpcore.Request(
            built.method,
            httpcore.URL(
                scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
            ),
            headers=built.headers.raw,
            content=request.body,
            extensions={
                "timeout": httpx.Timeout(
                    self.timeout,
                    connect=self.timeout if connect is None else connect,
                    read=self.timeout if read is None else read,
                ).as_dict()
            },
        )

    def _unreachable(self, request: ServiceRequest, error: Exception) -> ServiceResponse:
        upstream = redact_endpoint(self.url)
        if isinstance(error, httpcore.TimeoutException):
            status = 504
            why = (
                f"did not answer within {self.timeout:g} s (the upstream timeout: "
                "--upstream-timeout, spectron_upstream_timeout)"
            )
        else:
            status = 502
            why = f"could not be reached ({type(error).__name__}: {error})"
            if "CERTIFICATE_VERIFY_FAILED" in str(error):
                why += (
                    "; trust its certificate authority with SSL_CERT_FILE, or turn verification "
                    "off with --upstream-insecure (dangerous)"
                )
        return problem_response(
            status,
            f"pytest-spectron: the upstream Spectron at {upstream} {why}",
            error_format=self.error_format,
            instance=request.path,
            trace_id=self.trace_ids.next(),
            upstream=upstream,
        )


class PlaintextUpstreamWarning(UserWarning):
    """Live mode forwards to a plain ``http://`` upstream beyond this machine: the API key and
    every request go over the network in clear.

    Filter it where the network is trusted:
    ``filterwarnings = ignore::pytest_spectron.PlaintextUpstreamWarning``.
    """


def check_upstream(value: object, *, endpoint: str | None = None) -> str:
    """``value`` as a checked upstream URL; a ValueError if it is none, or is ``endpoint``.

    The endpoint is where a mock catches an application's requests, the upstream where it
    forwards them: the same origin for both would leave it unclear which one a request meant.
    A plain ``http://`` upstream that is not on this machine's loopback interface warns
    (``PlaintextUpstreamWarning``): the key would travel in clear.
    """
    upstream = check_endpoint(value, argument="upstream")

    if endpoint is not None and _origin(upstream) == _origin(endpoint):
        raise ValueError(
            f"the upstream {redact_endpoint(upstream)!r} is the endpoint the mock answers "
            f"({redact_endpoint(endpoint)!r}): the mock catches your application's requests at "
            "the endpoint and forwards them to the upstream, so the two must differ. Leave "
            "the endpoint at its default (http://spectron.test) and point your application at "
            "spectron_mock.endpoint."
        )
    split = urlsplit(upstream)
    if split.scheme == "http" and not is_loopback_host((split.hostname or "").lower()):
        warnings.warn(
            PlaintextUpstreamWarning(
                f"the upstream {redact_endpoint(upstream)} is plain http on a host that is not "
                "this machine: the API key and every memory sent to it cross the network in "
                "clear. Use https://, or, on a network you trust, filter this warning "
                "(filterwarnings = ignore::pytest_spectron.PlaintextUpstreamWarning)."
            ),
            stacklevel=2,
        )
    return upstream


def _bound(upstream: float, client: float | None) -> float:
    """The shorter of the upstream timeout and the client's own (none: the upstream's)."""
    return upstream if client is None else min(upstream, client)


def sse_frames(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Whole server-sent events from chunks cut anywhere, each yielded once its blank line came.

    Bytes after the last blank line go out as they are when the chunks end.
    """
    pending = b""
    for chunk in chunks:
        pending += chunk
        while (end := _FRAME_END.search(pending)) is not None:
            yield pending[: end.end()]
            pending = pending[end.end() :]
    if pending:
        yield pending


def _chunks(response: httpcore.Response) -> Iterator[bytes]:
    """The body's chunks as they arrive; ``BrokenStream`` if the upstream stops midway."""
    try:
        yield from response.iter_stream()
    except _UNREACHABLE as error:
        raise BrokenStream(f"the upstream's stream broke: {type(error).__name__}") from error


def _passed_on(
    headers: Iterable[tuple[str, str]], *, dropped: frozenset[str], connection: str | None
) -> tuple[tuple[str, str], ...]:
    """The headers a proxy passes on: none in ``dropped``, none its ``Connection`` header names."""
    named = dropped | {token.strip().lower() for token in (connection or "").split(",")}
    return tuple((name, value) for name, value in headers if name.lower() not in named)


def _header_bytes(value: str) -> bytes:
    # The loopback server reads header values as latin-1; httpx may hand over UTF-8 text.
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")


def _origin(url: str) -> tuple[str, str, int | None]:
    split = urlsplit(url)
    port = split.port or _DEFAULT_PORTS.get(split.scheme)
    return split.scheme, (split.hostname or "").lower(), port
