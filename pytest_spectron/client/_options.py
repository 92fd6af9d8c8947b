"""Client options: validated once, at construction, so a bad argument fails before any request."""

from __future__ import annotations

import functools
import ssl
import sys
import threading
from dataclasses import dataclass, replace
from typing import Final

import httpx

from pytest_spectron._shared._endpoint import check_endpoint, redact_endpoint
from pytest_spectron._shared._validators import check_int, check_seconds, is_real

__all__ = [
    "DEFAULT_TIMEOUT",
    "MAX_ID_LENGTH",
    "MAX_URL_LENGTH",
    "NOT_GIVEN",
    "ClientOptions",
    "NotGiven",
    "Secret",
    "TimeoutTypes",
    "check_header_value",
    "check_http_arguments",
    "check_id",
    "default_ssl_context",
    "redacted_url",
]

DEFAULT_TIMEOUT: Final = httpx.Timeout(30.0)

TimeoutTypes = float | httpx.Timeout | None
"""Seconds for every phase, an ``httpx.Timeout`` for finer control, or None for no timeout."""


class NotGiven:
    """Sentinel for "use the client's own setting" (None is a real value for ``timeout``)."""

    _instance: NotGiven | None = None

    def __new__(cls) -> NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __bool__(self) -> bool:
        return False


NOT_GIVEN: Final = NotGiven()


MAX_URL_LENGTH: Final = 65_536
"""The longest URL httpx builds (``httpx._urlparse.MAX_URL_LENGTH``), in characters."""
MAX_ID_LENGTH: Final = 1024
"""The longest context id or path id, in characters.

Percent-encoding can turn one character into twelve; with ids of at most this length, the
longest path (three ids and the context) stays well within ``MAX_URL_LENGTH``.
"""


class Secret(str):
    """An API key, or a header carrying one: usable as a string, never shown by ``repr``.

    pytest's ``--showlocals`` prints ``repr()`` of every local of every frame of a failure, so
    the key stays wrapped in this class wherever a client frame holds it.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "'***'"


@dataclass(frozen=True)
class ClientOptions:
    """Everything a client needs besides its HTTP connection pool."""

    context: str
    endpoint: httpx.URL
    api_key: Secret
    timeout: httpx.Timeout
    max_retries: int

    @classmethod
    def create(
        cls,
        context: str,
        endpoint: str | httpx.URL,
        api_key: str,
        *,
        timeout: TimeoutTypes,
        max_retries: int,
    ) -> ClientOptions:
        """Validate the constructor's arguments; a TypeError or ValueError names a bad one."""
        return cls(
            context=_check_context(context),
            endpoint=_check_endpoint(endpoint),
            api_key=_check_api_key(api_key),
            timeout=_check_timeout(timeout),
            max_retries=_check_max_retries(max_retries),
        )

    def with_changes(
        self,
        *,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> ClientOptions:
        """A copy with the given settings changed, each validated like the constructor's."""
        changed = self
        if not isinstance(timeout, NotGiven):
            changed = replace(changed, timeout=_check_timeout(timeout))
        if not isinstance(max_retries, NotGiven):
            changed = replace(changed, max_retries=_check_max_retries(max_retries))
        return changed

    @functools.cached_property
    def base_url(self) -> str:
        """Where requests go: the endpoint without credentials, which are never sent.

        httpx would turn ``user:password@`` into Basic auth, replacing the API key's Bearer.
        """
        if not self.endpoint.userinfo:
            return str(self.endpoint)  # as it is: copying it would parse it again
        return str(self.endpoint.copy_with(userinfo=b""))

    def __repr__(self) -> str:
        return (
            f"ClientOptions(context={self.context!r}, endpoint={redacted_url(self.endpoint)!r}, "
            f"api_key='***', timeout={self.timeout!r}, max_retries={self.max_retries})"
        )


_ssl_lock = threading.Lock()
_ssl_context: ssl.SSLContext | None = None


def default_ssl_context() -> ssl.SSLContext:
    """The one verifying SSL context of the process, for every client that brings none.

    Loading the CA bundle costs tens of milliseconds, and an application (or a test suite) that
    builds a client per request would pay it every time; the context is immutable in use, so
    one serves every client. An ``http_client`` of your own keeps its own settings.
    """
    global _ssl_context
    with _ssl_lock:
        if _ssl_context is None:
            _ssl_context = httpx.create_ssl_context()
        return _ssl_context


def redacted_url(url: httpx.URL) -> str:
    """``url`` as text with its password, if any, shown as ``***``."""
    if not url.password:
        return str(url)
    return str(url.copy_with(userinfo=f"{url.username}:***".encode()))


def check_id(argument: str, value: object) -> str:
    """``value`` if it can be one path segment of a request; a TypeError or ValueError if not.

    Any character is fine (each is percent-encoded), but an empty id, ``.`` or ``..`` would be
    resolved away as a URL path segment, sending the request to another operation.
    """
    if not isinstance(value, str):
        raise TypeError(f"{argument} must be a str, got {type(value).__name__}")
    if not value:
        raise ValueError(
            f"{argument} must be a non-empty id, got an empty string: an empty path segment "
            f"would send the request to another operation"
        )
    if value in (".", ".."):
        raise ValueError(
            f"{argument} must not be {value!r}: URLs resolve '.' and '..' as relative path "
            f"segments, so the request would reach another operation; no Spectron id is {value!r}"
        )
    if len(value) > MAX_ID_LENGTH:
        raise ValueError(
            f"{argument} is {len(value):,} characters long; at most {MAX_ID_LENGTH:,} fit in a "
            f"request URL: pass the id itself, not a document or a message"
        )
    return value


def check_header_value(argument: str, value: object, *, header: str, secret: bool = False) -> str:
    """``value`` if it can be sent as the ``header`` header; a TypeError or ValueError if not.

    HTTP header values are printable ASCII; httpx would fail later with a bare
    ``UnicodeEncodeError``, and h11 with a protocol error that looks like a network failure.
    A ``secret`` value is never shown in the message.
    """
    if not isinstance(value, str):
        raise TypeError(f"{argument} must be a str, got {type(value).__name__}")
    if not value:
        raise ValueError(f"{argument} must be a non-empty string, got an empty string")
    shown = "" if secret else f" in {value!r}"
    for character in value:
        if " " <= character <= "~":
            continue
        if character in "\r\n":
            what = "a line break"
        elif character.isascii():
            what = f"a control character (U+{ord(character):04X})"
        else:
            what = "a non-ASCII character" if secret else f"a non-ASCII character ({character!r})"
        raise ValueError(
            f"{argument} contains {what}{shown}, which cannot be sent in the {header} header: "
            f"header values are printable ASCII; remove the stray character"
        )
    if value != value.strip():
        raise ValueError(
            f"{argument} starts or ends with whitespace{shown}, which the {header} header "
            f"cannot carry: strip it"
        )
    return value


def check_http_arguments(
    client_name: str,
    http_client: object,
    transport: object,
    *,
    client_type: type[httpx.Client] | type[httpx.AsyncClient],
    transport_type: type[httpx.BaseTransport] | type[httpx.AsyncBaseTransport],
) -> None:
    """Check a client's ``http_client`` and ``transport``: at most one, each of its flavour.

    ``http_client`` may also be httpx2's client of the same name (``httpx2.Client`` where
    ``client_type`` is ``httpx.Client``). A ValueError if both are given; a TypeError, naming
    what came and what ``client_name`` sends with, for one of the other flavour.
    """
    if http_client is not None and transport is not None:
        raise ValueError("pass either http_client or transport, not both")
    expected = f"httpx.{client_type.__name__}"
    if http_client is not None and not isinstance(http_client, _with_httpx2_twin(client_type)):
        raise TypeError(
            f"http_client must be an {expected}, got {_qualified_name(http_client)}: "
            f"{client_name} sends with an {expected} (or an httpx2.{client_type.__name__}); "
            f"pass one, or use the client of the other flavour"
        )
    if transport is not None and not isinstance(transport, transport_type):
        raise TypeError(
            f"transport must be an httpx.{transport_type.__name__}, got "
            f"{_qualified_name(transport)}: {client_name} sends with an {expected}; pass a "
            f"transport of its flavour, or use the client of the other flavour"
        )


def _with_httpx2_twin(client_type: type[object]) -> tuple[type[object], ...]:
    """``client_type`` and, once httpx2 is imported, httpx2's class of the same name."""
    # No httpx2 client exists before httpx2 is imported, so there is no need to import it here.
    twin = getattr(sys.modules.get("httpx2"), client_type.__name__, None)
    return (client_type,) if twin is None else (client_type, twin)


def _qualified_name(value: object) -> str:
    kind = type(value)
    return f"{kind.__module__}.{kind.__qualname__}"


def _check_context(context: object) -> str:
    if isinstance(context, str) and context and not context.strip():
        raise ValueError(f"context must be a non-empty context id, got {context!r}")
    return check_id("context", context)


def _check_endpoint(endpoint: object) -> httpx.URL:
    if not isinstance(endpoint, str | httpx.URL):
        raise TypeError(f"endpoint must be a str or httpx.URL, got {type(endpoint).__name__}")
    checked = check_endpoint(str(endpoint))
    try:
        return httpx.URL(checked)
    except httpx.InvalidURL as exc:
        shown = redact_endpoint(checked)
        raise ValueError(f"endpoint {shown!r} is not a valid URL: {exc}") from None


def _check_api_key(api_key: object) -> Secret:
    if isinstance(api_key, str) and not api_key.strip():
        raise ValueError("api_key must be a non-empty API key, got an empty string")
    return Secret(check_header_value("api_key", api_key, header="Authorization", secret=True))


def _check_timeout(timeout: object) -> httpx.Timeout:
    if isinstance(timeout, httpx.Timeout):
        phases = (timeout.connect, timeout.read, timeout.write, timeout.pool)
        for phase in phases:
            _check_seconds(phase)
        return timeout
    if timeout is None:
        return httpx.Timeout(None)
    if not is_real(timeout):
        raise TypeError(
            f"timeout must be seconds (a number), an httpx.Timeout or None, "
            f"got {type(timeout).__name__}"
        )
    return httpx.Timeout(_check_seconds(float(timeout)))


def _check_seconds(seconds: float | None) -> float | None:
    return None if seconds is None else check_seconds("timeout", seconds, above_zero=True)


def _check_max_retries(max_retries: object) -> int:
    return check_int("max_retries", max_retries, minimum=0)
