"""``AsyncClient``: the asyncio twin of :class:`Client`, over the same runtime and session cache."""

from __future__ import annotations

import asyncio
import functools
import weakref
from types import TracebackType
from typing import TYPE_CHECKING, Any, List, Mapping, Optional, Type, Union

from ._core import Client, Response, Session

if TYPE_CHECKING:
    from .auth import HttpxAuth

__all__ = ["AsyncClient"]


class AsyncClient:
    """A client for one Tableau server, site and identity, for asyncio.

    Takes the same arguments as :class:`Client` and shares its process-wide session cache: a
    session signed in by a ``Client`` is reused by an ``AsyncClient`` with the same
    configuration, and the other way round.

    - ``await client.session()`` answers a cache hit without leaving the event loop.
    - Concurrent tasks (and threads) that miss wait on one sign-in.
    - A task cancelled (or timed out by ``asyncio.wait_for``) while it waits leaves the shared
      sign-in running for the others; the cache stays consistent.
    """

    __slots__ = ("_client", "_cached", "_waiting", "__weakref__")

    def __init__(self, server: str, **kwargs: Any) -> None:
        self._client = Client(server, **kwargs)
        self._cached = self._client._cached_session  # bound once: the hot path is one call
        # Per event loop, the tasks waiting on the one sign-in in flight: N waiting tasks cost
        # one trip through the runtime.
        self._waiting: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, List[asyncio.Future[Session]]]" = (
            weakref.WeakKeyDictionary()
        )

    @classmethod
    def from_env(cls, **overrides: Any) -> "AsyncClient":
        """An ``AsyncClient`` configured from the environment, like :meth:`Client.from_env`.

        Reads ``TABLEAU_SERVER``, ``TABLEAU_SITE`` and one sign-in method (a connected app:
        ``TABLEAU_CLIENT_ID``, ``TABLEAU_SECRET_ID``, ``TABLEAU_SECRET_VALUE``,
        ``TABLEAU_USERNAME``, ``TABLEAU_SCOPES``; or ``TABLEAU_PAT_NAME``/``TABLEAU_PAT_SECRET``);
        keyword arguments win. A missing or conflicting set is one ``ConfigurationError``.
        """
        from ._env import client_arguments

        server, kwargs = client_arguments(**overrides)
        return cls(server, **kwargs)

    def httpx_auth(self) -> "HttpxAuth":
        """An ``httpx.Auth`` that adds ``X-Tableau-Auth`` with this client's session (awaited in
        ``httpx.AsyncClient``) and, on a 401, drops the session and retries once."""
        from .auth import HttpxAuth

        return HttpxAuth(self)

    @property
    def server(self) -> str:
        return self._client.server

    @property
    def site(self) -> str:
        return self._client.site

    @property
    def api_version(self) -> str:
        return self._client.api_version

    @property
    def client(self) -> Client:
        """The blocking :class:`Client` behind this one (same configuration, same cache)."""
        return self._client

    async def session(self) -> Session:
        """The cached session, signing in only when there is no live one."""
        # A Session is always truthy: one call and no comparison on the cache-hit path.
        return self._cached() or await self._sign_in_shared()

    async def _sign_in_shared(self) -> Session:
        loop = asyncio.get_running_loop()
        waiters = self._waiting.get(loop)
        if waiters is None:
            waiters = []
            self._waiting[loop] = waiters
            shared = self._client._session_async()
            shared.add_done_callback(functools.partial(self._settle, loop, waiters))
        # Each task waits on a future of its own: cancelling it (or wait_for timing out)
        # cancels only that future, never the sign-in the other tasks wait on.
        waiter: "asyncio.Future[Session]" = loop.create_future()
        waiters.append(waiter)
        return await waiter

    def _settle(
        self, loop: asyncio.AbstractEventLoop, waiters: "List[asyncio.Future[Session]]", shared: "asyncio.Future[Session]"
    ) -> None:
        if self._waiting.get(loop) is waiters:
            del self._waiting[loop]
        error: Optional[BaseException] = asyncio.CancelledError() if shared.cancelled() else shared.exception()
        for waiter in waiters:
            if waiter.done():
                continue
            if error is None:
                waiter.set_result(shared.result())
            else:
                waiter.set_exception(error)

    async def sign_in(self) -> Session:
        """Always sign in afresh; the new session replaces the cached one."""
        return await self._client._sign_in_async()

    async def switch_site(self, content_url: str) -> Session:
        """Switch to another site; see :meth:`Client.switch_site`."""
        return await self._client._switch_site_async(content_url)

    def invalidate(self, session: Union[Session, str]) -> bool:
        """Drop ``session`` from the cache if it is still the cached one (compare-and-swap).

        Never blocks the event loop: with a shared cache (``DiskCache``, ``RedisCache``) the
        shared entry is removed in the background (only if it still holds that token), and the
        answer says whether this process dropped it."""
        return self._client._invalidate_nowait(session)

    async def sign_out(self) -> None:
        """Sign out on the server and drop the session; a dead session is not an error."""
        await self._client._sign_out_async()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Optional[Mapping[str, object]] = None,
        json: object = None,
        data: Optional[Union[bytes, str]] = None,
        headers: Optional[Mapping[str, str]] = None,
        timeout: Optional[float] = None,
    ) -> Response:
        """An authenticated REST call; see :meth:`Client.request`."""
        return await self._client._request_async(
            method, path, params=params, json=json, data=data, headers=headers, timeout=timeout
        )

    async def get(
        self,
        path: str,
        *,
        params: Optional[Mapping[str, object]] = None,
        headers: Optional[Mapping[str, str]] = None,
        timeout: Optional[float] = None,
    ) -> Response:
        return await self.request("GET", path, params=params, headers=headers, timeout=timeout)

    async def post(
        self,
        path: str,
        *,
        json: object = None,
        data: Optional[Union[bytes, str]] = None,
        params: Optional[Mapping[str, object]] = None,
        headers: Optional[Mapping[str, str]] = None,
        timeout: Optional[float] = None,
    ) -> Response:
        return await self.request("POST", path, params=params, json=json, data=data, headers=headers, timeout=timeout)

    async def aclose(self) -> None:
        """Close this client; signs out of its session unless the session is kept in a cache
        other processes share (``DiskCache``, ``RedisCache``). See :meth:`Client.close`."""
        await self._client._close_async()

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        from .exceptions import TableauAuthError

        try:
            await self.aclose()
        except TableauAuthError as e:
            import logging

            logging.getLogger("tableau_connected_auth").warning("sign-out on leaving the AsyncClient block failed: %s", e)

    def __repr__(self) -> str:
        return "Async" + repr(self._client)
