"""Which requests may reach the admin endpoints: programs on this machine, never a web page.

The admin endpoints take no credentials. A page in a browser could still send them requests: its
cross-origin requests carry an ``Origin`` header, and a DNS-rebinding page's requests a ``Host``
header naming the attacker's domain. Both are refused with a 403 problem.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re

from pytest_spectron.testing.http._exchange import ServiceRequest, ServiceResponse
from pytest_spectron.testing.http._problems import problem_response
from pytest_spectron.testing.service._admin import is_admin_path

__all__ = ["admin_refusal", "is_loopback_host"]

_AUTHORITY = re.compile(r"(?:\[(?P<ipv6>[0-9A-Fa-f:.]+)\]|(?P<name>[A-Za-z0-9._~%-]+))(?::[0-9]*)?")
"""``host[:port]`` as a ``Host`` header or an origin holds it."""
_ORIGIN = re.compile(r"(?i)https?://(?P<authority>[^/]+)")


def admin_refusal(
    request: ServiceRequest, bound_host: str, *, target_authority: str | None = None
) -> ServiceResponse | None:
    """A 403 problem for an admin request a web page may have sent, else None.

    An admin request is served only if the host it is addressed to names the loopback interface
    (``localhost``, 127.0.0.0/8, ``[::1]``, any port) or the specific address the server is
    bound to (never a wildcard such as 0.0.0.0), and its ``Origin`` (when present) is an
    ``http(s)`` URL of such a host. The host it is addressed to is the absolute-form target's
    (``GET http://host/__spectron/journal``), which HTTP says wins over the ``Host`` header,
    else the ``Host`` header's (when present); both are judged. Programs (curl, test code) send
    the origin form, no ``Origin`` and a loopback ``Host``, and pass.

    :param request: the request as read off the socket.
    :param bound_host: the address the server listens on.
    :param target_authority: the ``host[:port]`` of an absolute-form request target, if any.
    :return: the 403 problem to answer, or None to serve the request.
    """
    if not is_admin_path(request.path):
        return None
    host = request.header("host")
    origin = request.header("origin")
    if target_authority is not None and not _names_this_machine(
        _authority_host(target_authority), bound_host
    ):
        why = (
            f"its request target names the host {target_authority!r}, neither the loopback "
            "interface nor the address the server is bound to (whatever its Host header says)"
        )
    elif host is not None and not _names_this_machine(_authority_host(host), bound_host):
        why = (
            f"its Host header {host!r} names neither the loopback interface nor the address "
            "the server is bound to (a DNS-rebinding web page sends its own domain)"
        )
    elif origin is not None and not _names_this_machine(_origin_host(origin), bound_host):
        why = f"its Origin header {origin!r} is a web page beyond this machine"
    else:
        return None
    return problem_response(
        403,
        f"admin endpoint {request.path} refused: {why}. The admin endpoints take no "
        "credentials, so they answer only requests sent from this machine by a program: "
        "send it to http://127.0.0.1:PORT without an Origin header.",
        instance=request.path,
    )


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` names the loopback interface (``localhost``, 127.0.0.0/8, ``::1``).

    :param host: a host name or an IP address, without brackets or port.
    :return: True for a loopback name or address.
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _authority_host(authority: str) -> str | None:
    """The host of ``host[:port]`` (brackets off an IPv6 address), lower-case; None if malformed."""
    matched = _AUTHORITY.fullmatch(authority.strip())
    if matched is None:
        return None
    return (matched["ipv6"] or matched["name"]).lower()


def _origin_host(origin: str) -> str | None:
    """The host of an ``Origin`` header; None for ``null`` (a sandboxed or file page) or junk."""
    matched = _ORIGIN.fullmatch(origin.strip())
    return None if matched is None else _authority_host(matched["authority"])


def _names_this_machine(host: str | None, bound_host: str) -> bool:
    """Whether ``host`` is a loopback name or the server's own address (never a wildcard)."""
    if host is None:
        return False
    if is_loopback_host(host):
        return True
    with contextlib.suppress(ValueError):  # a name that is not an address
        bound = ipaddress.ip_address(bound_host)
        return not bound.is_unspecified and ipaddress.ip_address(host) == bound
    return False
