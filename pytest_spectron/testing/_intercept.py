"""Where ``SpectronMock`` meets httpx: a respx mocker at the client level that lets others through.

respx's own ``httpx`` mocker patches ``Client._transport_for_url``, above every transport, so a
transport mock (pytest-httpx) never sees Spectron's requests. But when none of its routers
matches a request it raises, where the mock must step aside: requests to other hosts go on to the
transports below (respx's default mocker, pytest-httpx, the network, this mock's own loopback
server). This mocker is respx's, registered under its own name, with that one difference: an
unmatched request passes through. Each ``SpectronMock`` router raises for hosts it does not
answer, so several mocks, nested or side by side, each answer their own endpoint.

Where httpx2 (Pydantic's fork of httpx) is installed, the mocker patches its clients too, at the
same place, through the same handler (``_intercept_httpx2``): respx does not patch httpx2.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any, ClassVar

import httpx
from respx.mocks import HTTPXMocker
from respx.models import AllMockedAssertionError, PassThrough

__all__ = ["USING"]

USING = "spectron"
"""The ``using=`` name of the mocker below, for ``respx.MockRouter``."""

# Patching httpx2 imports it; where it is not installed, nothing is looked up beyond this.
_HTTPX2_CLIENTS = (
    ["httpx2._client.Client", "httpx2._client.AsyncClient"]
    if importlib.util.find_spec("httpx2") is not None
    else []
)


class _SpectronMocker(HTTPXMocker):
    name = USING
    targets: ClassVar[list[str]] = [*HTTPXMocker.targets, *_HTTPX2_CLIENTS]
    target_methods: ClassVar[list[str]] = list(HTTPXMocker.target_methods)

    @classmethod
    def mock(cls, spec: Callable[..., Any]) -> Callable[..., Any]:
        if spec.__module__.partition(".")[0] == "httpx2":
            from pytest_spectron.testing._intercept_httpx2 import patched_transport_for_url

            return patched_transport_for_url(cls.handler, spec)
        return super().mock(spec)  # type: ignore[no-untyped-call,no-any-return]

    @classmethod
    def handler(cls, httpx_request: httpx.Request) -> Any:
        try:
            return super().handler(httpx_request)  # type: ignore[no-untyped-call]
        except AllMockedAssertionError:
            raise _pass_through(httpx_request) from None

    @classmethod
    async def async_handler(cls, httpx_request: httpx.Request) -> Any:
        try:
            return await super().async_handler(httpx_request)  # type: ignore[no-untyped-call]
        except AllMockedAssertionError:
            raise _pass_through(httpx_request) from None


def _pass_through(request: httpx.Request) -> PassThrough:
    return PassThrough("not a Spectron mock's endpoint", request=request, origin=None)  # type: ignore[arg-type]
