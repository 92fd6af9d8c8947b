"""The one rule for a Spectron endpoint, shared by the client, the mock, the server and the options.

An endpoint is an absolute ``http`` or ``https`` URL with a host, an optional port and an optional
path prefix (a gateway in front of Spectron: ``https://gateway.example.com/spectron``), and no
query or fragment. A server given its prefix apart (``serve --prefix``) checks it by the same
rule, written as it goes on the wire. Only the standard library here: the plugin's options are
read at start-up, before httpx is imported.
"""

from __future__ import annotations

import re
import string
from urllib.parse import quote, unquote, urlsplit, urlunsplit

__all__ = [
    "EXAMPLE_ENDPOINT",
    "check_endpoint",
    "check_prefix",
    "endpoint_prefix",
    "redact_endpoint",
]

EXAMPLE_ENDPOINT = "https://spectron.example.com"
_PATH_SAFE = "/-._~!$&'()*+,;=:@"
"""What a URL path holds as it is, beside letters, digits and percent escapes (RFC 3986)."""
_PATH_CHARACTERS = frozenset(string.ascii_letters + string.digits + _PATH_SAFE + "%")
_STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def check_endpoint(value: object, *, argument: str = "endpoint") -> str:
    """``value`` as a normalised endpoint (no trailing ``/``); TypeError or ValueError if not one.

    :param value: the endpoint to check.
    :param argument: the name the error messages give it.
    :raises TypeError: when ``value`` is not a str.
    :raises ValueError: naming what is wrong and showing an example (a password is never shown).
    :returns: the endpoint without a trailing slash.
    """
    if not isinstance(value, str):
        raise TypeError(f"{argument} must be a str, got {type(value).__name__}")
    try:
        url = urlsplit(value.strip())
        url.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise ValueError(
            f"{argument} {redact_endpoint(value)!r} is not a valid URL: expected one such as "
            f"{EXAMPLE_ENDPOINT!r}"
        ) from None
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ValueError(
            f"{argument} must be an absolute http(s) URL such as {EXAMPLE_ENDPOINT!r} (a path "
            f"prefix such as {EXAMPLE_ENDPOINT + '/spectron'!r} is fine), got "
            f"{redact_endpoint(value)!r}"
        )
    if url.query or url.fragment or value.rstrip().endswith(("?", "#")):
        raise _query_or_fragment(argument, redact_endpoint(value))
    return urlunsplit(url._replace(path=url.path.rstrip("/")))


def check_prefix(value: object, *, argument: str = "prefix") -> str:
    """``value`` as an endpoint's path prefix: ``""`` for none, or such as ``"/spectron"``.

    The path part of an endpoint, for a server told its address and its prefix apart: a path
    from the root, with no query or fragment (as ``check_endpoint`` has it), written as it goes
    on the wire, with any other character percent-encoded.

    :param value: the prefix to check; ``""`` and ``"/"`` mean none.
    :param argument: the name the error messages give it.
    :raises TypeError: when ``value`` is not a str.
    :raises ValueError: naming what is wrong and showing what to write instead.
    :returns: the prefix without a trailing slash.
    """
    if not isinstance(value, str):
        raise TypeError(f"{argument} must be a str, got {type(value).__name__}")
    if "?" in value or "#" in value:
        raise _query_or_fragment(argument, value)
    if value and (not value.startswith("/") or value.startswith("//")):
        raise ValueError(
            f"{argument} must be a path that starts with one '/', such as '/spectron', "
            f"got {value!r}"
        )
    if any(segment in (".", "..") for segment in value.split("/")):
        raise ValueError(
            f"{argument} must not hold '.' or '..' segments (clients resolve them away), "
            f"got {value!r}"
        )
    unwritten = sorted({character for character in value if character not in _PATH_CHARACTERS})
    if unwritten or _STRAY_PERCENT.search(value):
        shown = "".join(unwritten) or "%"
        encoded = quote(unquote(value), safe=_PATH_SAFE)
        raise ValueError(
            f"{argument} {value!r} holds {shown!r}, which a URL path cannot hold as it is: "
            f"percent-encode it, as in {encoded!r}"
        )
    return value.rstrip("/")


def endpoint_prefix(endpoint: str) -> str:
    """The path prefix of a checked endpoint: ``""`` or ``"/spectron"``."""
    return urlsplit(endpoint).path.rstrip("/")


def _query_or_fragment(argument: str, shown: str) -> ValueError:
    return ValueError(f"{argument} must not carry a query or fragment, got {shown!r}")


def redact_endpoint(value: str) -> str:
    """``value`` with the password of its user information, if any, shown as ``***``."""
    try:
        url = urlsplit(value)
        password = url.password
    except ValueError:
        return value
    if not password:
        return value
    user, _, host = url.netloc.rpartition("@")
    name = user.partition(":")[0]
    return urlunsplit(url._replace(netloc=f"{name}:***@{host}"))
