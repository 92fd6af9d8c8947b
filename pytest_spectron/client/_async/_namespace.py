"""The base of the asynchronous client's namespaces, such as ``client.documents``."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pytest_spectron.client._async._base_client import AsyncBaseClient

__all__ = ["AsyncNamespace"]


class AsyncNamespace:
    """A group of the client's methods; each call goes through the client that holds it."""

    def __init__(self, client: AsyncBaseClient) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._client!r}>"
