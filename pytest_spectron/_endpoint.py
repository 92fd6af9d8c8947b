"""The one rule for a Spectron endpoint, shared by the client, the mock, the server and the options.

An endpoint is an absolute ``http`` or ``https`` URL with a host, an optional port and an optional
path prefix (a gateway in front of Spectron: ``https://gateway.example.com/spectron``), and no
query or fragment. Only the standard library here: the plugin's options are read at start-up,
before httpx is imported.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

__all__ = ["EXAMPLE_ENDPOINT", "check_endpoint", "endpoint_prefix", "redact_endpoint"]

EXAMPLE_ENDPOINT = "https://spectron.example.com"


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
    shown = redact_endpoint(value)
    try:
        url = urlsplit(value.strip())
        url.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise ValueError(
            f"{argument} {shown!r} is not a valid URL: expected one such as {EXAMPLE_ENDPOINT!r}"
        ) from None
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ValueError(
            f"{argument} must be an absolute http(s) URL such as {EXAMPLE_ENDPOINT!r} (a path "
            f"prefix such as {EXAMPLE_ENDPOINT + '/spectron'!r} is fine), got {shown!r}"
        )
    if url.query or url.fragment or value.rstrip().endswith(("?", "#")):
        raise ValueError(f"{argument} must not carry a query or fragment, got {shown!r}")
    return urlunsplit(url._replace(path=url.path.rstrip("/")))


def endpoint_prefix(endpoint: str) -> str:
    """The path prefix of a checked endpoint: ``""`` or ``"/spectron"``."""
    return urlsplit(endpoint).path.rstrip("/")


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
