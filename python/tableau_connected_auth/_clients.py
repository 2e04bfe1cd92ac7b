"""``Client`` and ``AsyncClient``: two twins over one core client (``_core``), sharing its
process-wide session cache. What lives in Python is added here and calls down: ``from_env``
(the ``TABLEAU_*`` variables) and the requests / httpx adapters."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Type, TypeVar

from . import _core
from ._core import CloudManagerSession, Session

if TYPE_CHECKING:
    from .auth import HttpxAuth, RequestsAuth

__all__ = ["AsyncClient", "AsyncCloudManagerClient", "Client", "CloudManagerClient"]

_C = TypeVar("_C", bound="Client")
_A = TypeVar("_A", bound="AsyncClient")
_M = TypeVar("_M", bound="CloudManagerClient")
_N = TypeVar("_N", bound="AsyncCloudManagerClient")


class Client(_core.Client):
    """A client for one Tableau server, site and identity, with a process-wide session cache.

    ``Client(server, site=..., credentials=..., ...)``; ``Client(async_client)`` is the blocking
    twin of an :class:`AsyncClient` (the same configuration, sessions and closed state).
    """

    __slots__ = ()

    @classmethod
    def from_env(cls: Type[_C], **overrides: Any) -> _C:
        """A client configured from the environment.

        Reads ``TABLEAU_SERVER``, ``TABLEAU_SITE`` and one sign-in method (a connected app:
        ``TABLEAU_CLIENT_ID``, ``TABLEAU_SECRET_ID``, ``TABLEAU_SECRET_VALUE``,
        ``TABLEAU_USERNAME``, ``TABLEAU_SCOPES``; or ``TABLEAU_PAT_NAME``/``TABLEAU_PAT_SECRET``);
        keyword arguments win. A missing or conflicting set is one ``ConfigurationError``.
        """
        from ._env import client_arguments

        server, kwargs = client_arguments(**overrides)
        return cls(server, **kwargs)

    def requests_auth(self) -> RequestsAuth:
        """A ``requests.auth.AuthBase`` that adds ``X-Tableau-Auth`` with this client's session
        and, on a 401 that says the session is dead, drops it and retries once."""
        from .auth import RequestsAuth

        return RequestsAuth(self)

    def httpx_auth(self) -> HttpxAuth:
        """An ``httpx.Auth`` doing the same for httpx (sync and async flows)."""
        from .auth import HttpxAuth

        return HttpxAuth(self)


class AsyncClient(_core.AsyncClient):
    """A client for one Tableau server, site and identity, for asyncio.

    Takes the same arguments as :class:`Client` and shares its process-wide session cache: a
    session signed in by a ``Client`` is reused by an ``AsyncClient`` with the same
    configuration, and the other way round. ``AsyncClient(client)`` is the asyncio twin of a
    :class:`Client`.

    - ``await client.session()`` answers a cache hit without leaving the event loop.
    - Concurrent tasks (and threads) that miss wait on one sign-in.
    - A task cancelled (or timed out by ``asyncio.wait_for``) while it waits leaves the shared
      sign-in running for the others; the cache stays consistent.
    """

    __slots__ = ()

    @classmethod
    def from_env(cls: Type[_A], **overrides: Any) -> _A:
        """An ``AsyncClient`` configured from the environment, like :meth:`Client.from_env`."""
        from ._env import client_arguments

        server, kwargs = client_arguments(**overrides)
        return cls(server, **kwargs)

    async def session(self) -> Session:
        """The cached session, signing in only when there is no live one. Concurrent tasks (and
        threads) that miss wait on one sign-in."""
        # A Python coroutine answers a cache hit faster than any awaitable an extension type
        # can make under the stable ABI (no `am_send`: its result would travel in a
        # StopIteration). A Session is always truthy: one call and no comparison on the hit.
        return self.cached_session() or await super().session()

    def httpx_auth(self) -> HttpxAuth:
        """An ``httpx.Auth`` that adds ``X-Tableau-Auth`` with this client's session (awaited in
        ``httpx.AsyncClient``) and, on a 401 that says the session is dead, drops it and
        retries once."""
        from .auth import HttpxAuth

        return HttpxAuth(self)

    @property
    def client(self) -> Client:
        """The blocking twin of this client (same configuration, same cache)."""
        return Client(self)


class CloudManagerClient(_core.CloudManagerClient):
    """A client for Tableau Cloud Manager (tenant administration of Tableau Cloud).

    ``CloudManagerClient(server="https://cloudmanager.tableau.com", credentials=..., ...)`` with
    a personal access token made in Tableau Cloud Manager (its login sends only the secret; a
    site's PAT does not work here) or ``UnifiedAccessToken(...).credentials(user,
    scopes=["tableau:tcm_..."])``. Takes the transport settings of :class:`Client` (timeouts,
    retries, TLS, proxy, cache); its session is cached like a ``Client``'s and never shared
    with a site session.
    """

    __slots__ = ()

    @classmethod
    def from_env(cls: Type[_M], **overrides: Any) -> _M:
        """A client configured from ``TABLEAU_CLOUD_MANAGER_*`` (or ``TABLEAU_UAT_*``)
        variables; keyword arguments win. See :mod:`tableau_connected_auth._env`."""
        from ._env import cloud_manager_arguments

        server, kwargs = cloud_manager_arguments(**overrides)
        return cls(server, **kwargs)


class AsyncCloudManagerClient(_core.AsyncCloudManagerClient):
    """:class:`CloudManagerClient` for asyncio: the same arguments and the same process-wide
    session cache; concurrent tasks that miss wait on one sign-in."""

    __slots__ = ()

    @classmethod
    def from_env(cls: Type[_N], **overrides: Any) -> _N:
        """An ``AsyncCloudManagerClient`` configured from the environment, like
        :meth:`CloudManagerClient.from_env`."""
        from ._env import cloud_manager_arguments

        server, kwargs = cloud_manager_arguments(**overrides)
        return cls(server, **kwargs)

    async def session(self) -> CloudManagerSession:
        """The cached session, signing in only when there is no live one."""
        return self.cached_session() or await super().session()
