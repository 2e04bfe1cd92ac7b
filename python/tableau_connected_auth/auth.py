"""Authentication for ``requests`` and ``httpx`` with a client's cached session.

::

    import requests
    http = requests.Session()
    http.auth = client.requests_auth()          # a requests.auth.AuthBase
    http.get(client.session().url("workbooks"))

    import httpx
    with httpx.Client(auth=client.httpx_auth()) as http:          # an httpx.Auth
        http.get(client.session().url("workbooks"))
    async with httpx.AsyncClient(auth=aclient.httpx_auth()) as http:
        await http.get((await aclient.session()).url("workbooks"))

Each adds ``X-Tableau-Auth`` with the client's cached session (signing in only when there is no
live one). On a 401 it drops that session with ``client.invalidate(session)`` (compare-and-swap,
so a burst of 401s causes one re-sign-in) and sends the request once more with a fresh session;
a second 401 is returned to the caller.

The token is only ever sent to the client's own server (same scheme, host and port); requests to
any other origin pass through untouched, and ``requests`` drops it from a redirect that leaves the
server. ``requests`` and ``httpx`` are optional dependencies (``pip install
tableau_connected_auth[requests]`` / ``[httpx]``), imported only when these classes are first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Optional, Tuple, Union
from urllib.parse import urljoin, urlsplit

from ._async_client import AsyncClient
from ._core import Client, Session

__all__ = ["RequestsAuth", "HttpxAuth", "AUTH_HEADER"]

#: The header Tableau reads the session token from.
AUTH_HEADER = "X-Tableau-Auth"

_DEFAULT_PORTS = {"http": 80, "https": 443}

_Origin = Tuple[str, str, Optional[int]]


def _origin(url: str) -> _Origin:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port if port is not None else _DEFAULT_PORTS.get(scheme)


if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Generator

    import httpx
    import requests
    from requests.auth import AuthBase

    class RequestsAuth(AuthBase):
        """A ``requests.auth.AuthBase`` signing requests to the client's server with its session."""

        client: Client

        def __init__(self, client: Client) -> None: ...
        def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest: ...

    class HttpxAuth(httpx.Auth):
        """An ``httpx.Auth`` signing requests to the client's server with its session."""

        client: Union[Client, AsyncClient]

        def __init__(self, client: Union[Client, AsyncClient]) -> None: ...
        def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]: ...
        def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]: ...


def _build_requests_auth() -> Any:
    import requests  # noqa: F401  (the annotations below)
    from requests.auth import AuthBase
    from requests.cookies import extract_cookies_to_jar

    class _RetryOnce:
        """The response hook of one signed request: drops the token from a redirect that leaves
        the server, and on a 401 invalidates the session and re-sends once with a fresh one."""

        def __init__(
            self, client: Client, origin: _Origin, session: Session, body_position: Optional[int], retry: bool = True
        ) -> None:
            self.client = client
            self.origin = origin
            self.session = session
            self.body_position = body_position
            self.retry = retry

        def __call__(self, r: requests.Response, **kwargs: Any) -> requests.Response:
            request = r.request
            if r.is_redirect:
                location = r.headers.get("location", "")
                target = urljoin(request.url or "", location)
                if _origin(target) != self.origin:
                    request.headers.pop(AUTH_HEADER, None)
                return r
            if not self.retry or r.status_code != 401 or _origin(request.url or "") != self.origin:
                return r
            client = self.client
            client.invalidate(self.session)  # dead: the next request signs in afresh either way
            body = request.body
            if body is not None and not isinstance(body, (bytes, str)):
                seek = getattr(body, "seek", None)
                if self.body_position is None or seek is None:
                    return r  # a streamed body cannot be sent twice
                seek(self.body_position)
            fresh = client.session()
            if fresh.token == self.session.token:
                return r
            r.content  # read it all, so the connection can be reused  # noqa: B018
            r.close()
            retry = request.copy()
            last = _RetryOnce(client, self.origin, fresh, None, retry=False)  # redirects only, now
            retry.hooks = {**retry.hooks, "response": [last if h is self else h for h in retry.hooks["response"]]}
            retry.headers[AUTH_HEADER] = fresh.token
            cookies = getattr(retry, "_cookies", None)
            if cookies is not None and r.raw is not None:
                extract_cookies_to_jar(cookies, request, r.raw)
                retry.prepare_cookies(cookies)
            connection = getattr(r, "connection", None)
            if connection is None:
                return r
            answer: requests.Response = connection.send(retry, **kwargs)
            answer.history.append(r)
            answer.request = retry
            return answer

    class RequestsAuth(AuthBase):
        """A ``requests.auth.AuthBase`` that signs requests to the client's server.

        Adds ``X-Tableau-Auth`` with ``client.session()``; on a 401, calls
        ``client.invalidate(session)`` and sends the request once more with a fresh session.
        Requests to other origins are left alone. Made by ``client.requests_auth()``.
        """

        def __init__(self, client: Client) -> None:
            self.client = client
            self._server_origin = _origin(client.server)

        def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
            if _origin(r.url or "") != self._server_origin:
                return r
            session = self.client.session()
            r.headers[AUTH_HEADER] = session.token
            position: Optional[int] = None
            tell = getattr(r.body, "tell", None)
            if tell is not None:
                try:
                    position = int(tell())
                except (OSError, ValueError):
                    position = None
            r.register_hook("response", _RetryOnce(self.client, self._server_origin, session, position))
            return r

        def __repr__(self) -> str:
            return f"RequestsAuth({self.client!r})"

    return RequestsAuth


def _build_httpx_auth() -> Any:
    import httpx

    class HttpxAuth(httpx.Auth):
        """An ``httpx.Auth`` that signs requests to the client's server, for ``httpx.Client``
        and ``httpx.AsyncClient`` (asyncio) alike.

        Adds ``X-Tableau-Auth`` with the client's cached session (``await aclient.session()`` in
        an async flow); on a 401, calls ``invalidate(session)`` and sends the request once more
        with a fresh session. Requests to other origins are left alone. Request bodies are kept
        in memory so that the retry can send them again. Made by ``client.httpx_auth()`` or
        ``aclient.httpx_auth()``.
        """

        def __init__(self, client: Union[Client, AsyncClient]) -> None:
            self.client = client
            self._sync_client: Client = client.client if isinstance(client, AsyncClient) else client
            self._server_origin = _origin(self._sync_client.server)

        def _ours(self, request: httpx.Request) -> bool:
            return _origin(str(request.url)) == self._server_origin

        def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
            """The flow of ``httpx.Client``: sign, send, and after a 401 re-sign and send once more."""
            if not self._ours(request):
                yield request
                return
            request.read()  # kept for the retry
            session = self._sync_client.session()
            request.headers[AUTH_HEADER] = session.token
            response = yield request
            if response.status_code == 401:
                self._sync_client.invalidate(session)
                fresh = self._sync_client.session()
                if fresh.token != session.token:
                    request.headers[AUTH_HEADER] = fresh.token
                    yield request

        async def _async_session(self) -> Session:
            if isinstance(self.client, AsyncClient):
                return await self.client.session()
            return self.client._cached_session() or await self.client._session_async()

        async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
            """The flow of ``httpx.AsyncClient``: the same, awaiting the session (asyncio)."""
            if not self._ours(request):
                yield request
                return
            await request.aread()  # kept for the retry
            session = await self._async_session()
            request.headers[AUTH_HEADER] = session.token
            response = yield request
            if response.status_code == 401:
                self._sync_client.invalidate(session)
                fresh = await self._async_session()
                if fresh.token != session.token:
                    request.headers[AUTH_HEADER] = fresh.token
                    yield request

        def __repr__(self) -> str:
            return f"HttpxAuth({self.client!r})"

    return HttpxAuth


_BUILDERS = {"RequestsAuth": _build_requests_auth, "HttpxAuth": _build_httpx_auth}
_built: Dict[str, Any] = {}


def __getattr__(name: str) -> Any:
    """``RequestsAuth`` and ``HttpxAuth`` are made on first use, importing requests or httpx."""
    builder = _BUILDERS.get(name)
    if builder is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if name not in _built:
        _built[name] = builder()
    return _built[name]
