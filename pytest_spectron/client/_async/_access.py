"""The asynchronous client's namespaces over access: the scope tree, principals and API keys."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pytest_spectron.client import _catalogue as ops
from pytest_spectron.client import models as m
from pytest_spectron.client._async._namespace import AsyncNamespace
from pytest_spectron.client._wire import request_body

__all__ = ["AsyncKeys", "AsyncPrincipals", "AsyncScopes"]


class AsyncScopes(AsyncNamespace):
    """The scope tree: register, list, delete and forget scopes.

    A scope path is a slash-path such as ``org/acme/``.
    """

    async def list(self, *, on_behalf_of: str | None = None) -> list[m.ScopeNode]:
        """Every registered scope the caller has a grant over, tombstoned ones included.

        :param on_behalf_of: the principal to act for.
        :return: the scopes.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes, after any retries.
        """
        return await self._client._call(ops.SCOPES_LIST, on_behalf_of=on_behalf_of)

    async def register(
        self,
        path: str,
        *,
        display_name: str | None = None,
        description: str | None = None,
        on_behalf_of: str | None = None,
    ) -> m.ScopeNode:
        """Register a scope, and any missing ancestor.

        :param path: the scope's path.
        :param display_name: a name to show for it.
        :param description: a description to show for it.
        :param on_behalf_of: the principal to act for.
        :return: the registered scope.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes.
        """
        body = request_body(
            m.RegisterScopeRequest, path=path, display_name=display_name, description=description
        )
        return await self._client._call(ops.SCOPES_REGISTER, body=body, on_behalf_of=on_behalf_of)

    async def delete(self, path: str, *, on_behalf_of: str | None = None) -> None:
        """Tombstone a scope: it stays listed, marked deleted.

        :param path: the scope's path.
        :param on_behalf_of: the principal to act for.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes.
        """
        await self._client._call(ops.SCOPES_DELETE, query={"path": path}, on_behalf_of=on_behalf_of)

    async def forget(
        self, path: str | None = None, *, on_behalf_of: str | None = None
    ) -> m.ForgetScopeResponse:
        """Erase everything stored under a scope and its descendants.

        :param path: the path of the subtree to erase.
        :param on_behalf_of: the principal to act for.
        :return: what was erased.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes.
        """
        body = request_body(m.ScopeForgetRequest, path=path)
        return await self._client._call(ops.SCOPES_FORGET, body=body, on_behalf_of=on_behalf_of)

    async def grant(
        self,
        *,
        subject: str | None = None,
        grants: Mapping[str, Any] | None = None,
        on_behalf_of: str | None = None,
    ) -> None:
        """Grant scope patterns to a principal; Spectron does not implement it yet (501).

        :param subject: the principal to grant to.
        :param grants: the scope patterns to grant, by verb.
        :param on_behalf_of: the principal to act for.
        :raises SpectronAPIError: when Spectron answers with an error status, as it does.
        :raises SpectronConnectionError: when no answer comes.
        """
        body = request_body(m.ScopeGrantRequest, subject=subject, grants=grants)
        await self._client._call(ops.SCOPES_GRANT, body=body, on_behalf_of=on_behalf_of)


class AsyncPrincipals(AsyncNamespace):
    """Principals and their grants; each call needs the ``grant:manage`` grant.

    A grant gives verbs such as ``memory:read`` on a scope pattern: a path (``org/acme/``) or
    a subtree (``org/acme/*``).
    """

    async def list(self, *, on_behalf_of: str | None = None) -> list[m.Principal]:
        """Every principal of the context.

        :param on_behalf_of: the principal to act for.
        :return: the principals.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes, after any retries.
        """
        return await self._client._call(ops.PRINCIPALS_LIST, on_behalf_of=on_behalf_of)

    async def get(self, principal_id: str, *, on_behalf_of: str | None = None) -> m.Principal:
        """One principal and its grants.

        :param principal_id: the principal's id.
        :param on_behalf_of: the principal to act for.
        :return: the principal.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes, after any retries.
        """
        return await self._client._call(
            ops.PRINCIPALS_GET, path={"principal_id": principal_id}, on_behalf_of=on_behalf_of
        )

    async def effective(
        self,
        principal_id: str,
        path: str,
        *,
        as_of: str | None = None,
        on_behalf_of: str | None = None,
    ) -> m.EffectiveGrants:
        """The verbs a principal holds at a scope path, all its grants combined.

        :param principal_id: the principal's id.
        :param path: the scope path.
        :param as_of: resolve the grants held at this RFC 3339 time instead of now.
        :param on_behalf_of: the principal to act for.
        :return: the verbs.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes, after any retries.
        """
        return await self._client._call(
            ops.PRINCIPALS_EFFECTIVE,
            path={"principal_id": principal_id},
            query={"path": path, "asOf": as_of},
            on_behalf_of=on_behalf_of,
        )

    async def grant(
        self,
        principal_id: str,
        path: str,
        verbs: Sequence[str],
        *,
        on_behalf_of: str | None = None,
    ) -> m.Principal:
        """Grant ``verbs`` on a scope pattern to a principal.

        :param principal_id: the principal's id.
        :param path: the scope pattern.
        :param verbs: the verbs to grant, such as ``memory:read``.
        :param on_behalf_of: the principal to act for.
        :return: the principal, with its grants.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes.
        """
        body = request_body(m.GrantRequest, path=path, verbs=verbs)
        return await self._client._call(
            ops.PRINCIPALS_GRANT,
            path={"principal_id": principal_id},
            body=body,
            on_behalf_of=on_behalf_of,
        )

    async def revoke(
        self,
        principal_id: str,
        path: str,
        verbs: Sequence[str],
        *,
        on_behalf_of: str | None = None,
    ) -> m.Principal:
        """Revoke ``verbs`` on a scope pattern from a principal.

        :param principal_id: the principal's id.
        :param path: the scope pattern.
        :param verbs: the verbs to revoke.
        :param on_behalf_of: the principal to act for.
        :return: the principal, with its grants.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes.
        """
        body = request_body(m.GrantRequest, path=path, verbs=verbs)
        return await self._client._call(
            ops.PRINCIPALS_REVOKE,
            path={"principal_id": principal_id},
            body=body,
            on_behalf_of=on_behalf_of,
        )


class AsyncKeys(AsyncNamespace):
    """The caller's own API keys: mint, list, rotate, delete.

    The context must allow self-service keys.
    """

    async def list(self, *, on_behalf_of: str | None = None) -> list[m.KeyDetail]:
        """The caller's keys, without their secrets.

        :param on_behalf_of: the principal to act for.
        :return: the keys.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes, after any retries.
        """
        return await self._client._call(ops.KEYS_LIST, on_behalf_of=on_behalf_of)

    async def create(
        self,
        *,
        name: str | None = None,
        grants: Mapping[str, Sequence[str]] | None = None,
        ttl_seconds: int | None = None,
        on_behalf_of: str | None = None,
    ) -> m.MintedKey:
        """Mint a key for the caller's own principal.

        :param name: a name for the key, unique in the context.
        :param grants: scope patterns by verb, narrowing the caller's grants (never widening).
        :param ttl_seconds: seconds until the key expires; it never does unless given.
        :param on_behalf_of: the principal to act for.
        :return: the key, with its secret: the only time it is shown.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes.
        """
        body = request_body(m.MintKeyBody, name=name, grants=grants)
        return await self._client._call(
            ops.KEYS_CREATE, body=body, query={"ttlSeconds": ttl_seconds}, on_behalf_of=on_behalf_of
        )

    async def delete(self, key_name: str, *, on_behalf_of: str | None = None) -> None:
        """Delete one of the caller's keys; its secret stops working at once.

        :param key_name: the key's name.
        :param on_behalf_of: the principal to act for.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes.
        """
        await self._client._call(
            ops.KEYS_DELETE, path={"key_name": key_name}, on_behalf_of=on_behalf_of
        )

    async def rotate(
        self, key_name: str, *, ttl_seconds: int | None = None, on_behalf_of: str | None = None
    ) -> m.MintedKey:
        """Give one of the caller's keys a new secret; the old one stops working at once.

        :param key_name: the key's name.
        :param ttl_seconds: seconds until the key expires; its current expiry unless given.
        :param on_behalf_of: the principal to act for.
        :return: the key, with its new secret: the only time it is shown.
        :raises SpectronAPIError: when Spectron answers with an error status.
        :raises SpectronConnectionError: when no answer comes.
        """
        return await self._client._call(
            ops.KEYS_ROTATE,
            path={"key_name": key_name},
            query={"ttlSeconds": ttl_seconds},
            on_behalf_of=on_behalf_of,
        )
