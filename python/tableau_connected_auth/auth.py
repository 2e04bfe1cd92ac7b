"""Authentication for ``requests`` and ``httpx`` with a client's cached session.

::

    import requests
    import tableau_connected_auth as tca

    client = tca.Client.from_env()
    aclient = tca.AsyncClient(client)           # its asyncio twin (same sessions)

    http = requests.Session()
    http.auth = client.requests_auth()          # a requests.auth.AuthBase
    http.get(client.session().url("workbooks"))

    import httpx
    auth = client.httpx_auth()                  # an httpx.Auth
    with auth.http_client(follow_redirects=True) as http:   # httpx.Client(auth=auth, event_hooks=...)
        http.get(client.session().url("workbooks"))
    async with aclient.httpx_auth().async_http_client() as http:   # httpx.AsyncClient
        await http.get((await aclient.session()).url("workbooks"))

Each adds ``X-Tableau-Auth`` with the client's cached session (signing in only when there is no
live one). On a 401 that says the session is dead (``_core.judge_answer``: Tableau's
401000 or 401002, or a 401 without a Tableau error; the same rule as ``client.request``) it
drops that session with ``client.invalidate(session)`` (compare-and-swap, so a burst of 401s
causes one re-sign-in) and sends the request once more with a fresh session; any other 401, and
a second one, is returned to the caller. On a connected-app (JWT) session, a 401002 that
survives the fresh session is a missing scope: ``MissingScopeError`` is raised, and later
requests of that kind raise it at once, without signing in again.

The token is only ever added to requests for the client's own server (same scheme, host and
port); requests to any other origin go out without ``X-Tableau-Auth`` (``RequestsAuth`` removes
it even when the caller, or TSC following a redirect itself, put it there), and
``RequestsAuth`` drops it from a redirect that leaves the server (its response hook runs before
requests follows one).

**httpx and redirects.** httpx follows redirects inside the client, where an ``httpx.Auth`` never
sees them, and copies every header but ``Authorization`` to the next hop. So with
``follow_redirects=True`` a redirect from the server to another origin would carry the session
token there, unless the client also runs :class:`HttpxAuth`'s event hooks, which drop
``X-Tableau-Auth`` from every hop that is not for the server. Make the client with
``auth.http_client(...)`` / ``auth.async_http_client(...)``, or pass
``event_hooks=auth.event_hooks`` to ``httpx.Client`` (``auth.async_event_hooks`` to
``httpx.AsyncClient``). Without ``follow_redirects`` (httpx's default) httpx follows nothing, but
a redirect's ``response.next_request`` still holds the token: send it only with such a client.

``requests`` and ``httpx`` are optional dependencies (``pip install
tableau_connected_auth[requests]`` / ``[httpx]``), imported only when these classes are first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Awaitable, Callable, Dict, List, Mapping, Optional, Tuple, Union
from urllib.parse import urljoin, urlsplit

from . import _core
from ._core import Session, judge_answer

if TYPE_CHECKING:
    from ._clients import AsyncClient, Client

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


def _origin_text(url: str) -> str:
    scheme, host, port = _origin(url)
    return f"{scheme}://{host}:{port}"


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
        """An ``httpx.Auth`` signing requests to the client's server with its session.

        With ``follow_redirects=True``, make the client with :meth:`http_client` /
        :meth:`async_http_client` or pass :attr:`event_hooks` / :attr:`async_event_hooks`;
        otherwise a redirect to another origin carries the session token there.
        """

        client: Union[Client, AsyncClient]

        def __init__(self, client: Union[Client, AsyncClient]) -> None: ...
        def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]: ...
        def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]: ...
        @property
        def event_hooks(self) -> Dict[str, List[Callable[[httpx.Request], None]]]: ...
        @property
        def async_event_hooks(self) -> Dict[str, List[Callable[[httpx.Request], Awaitable[None]]]]: ...
        def http_client(self, **kwargs: Any) -> httpx.Client: ...
        def async_http_client(self, **kwargs: Any) -> httpx.AsyncClient: ...


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
            if _origin(request.url or "") != self.origin:
                return r
            if not self.retry:  # the answer to the second send: a missing scope raises here
                judge_answer(self.client, self.session, request.method or "GET", request.url or "",
                             r.status_code, r.content if r.status_code == 401 else b"", True)
                return r
            if r.status_code != 401:
                return r
            if not judge_answer(self.client, self.session, request.method or "GET", request.url or "",
                                r.status_code, r.content):
                return r  # a 401 a fresh session would not fix
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
            # The adapter does not run response hooks: the second answer is judged here (a
            # missing scope raises).
            judge_answer(client, fresh, retry.method or "GET", retry.url or "", answer.status_code,
                         answer.content if answer.status_code == 401 else b"", True)
            answer.history.append(r)
            answer.request = retry
            return answer

    class RequestsAuth(AuthBase):
        """A ``requests.auth.AuthBase`` that signs requests to the client's server.

        Adds ``X-Tableau-Auth`` with ``client.session()``; on a 401 that says the session is
        dead, calls ``client.invalidate(session)`` and sends the request once more with a fresh session.
        Requests to other origins go out without ``X-Tableau-Auth`` (whoever set it), and are
        otherwise left alone. Made by ``client.requests_auth()``.
        """

        def __init__(self, client: Client) -> None:
            self.client = client
            self._server_origin = _origin(client.server)

        def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
            if _origin(r.url or "") != self._server_origin:
                # Never to another origin, whoever set it (TSC follows redirects itself and
                # re-sends its own headers to the next hop).
                r.headers.pop(AUTH_HEADER, None)
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
        an async flow); on a 401 that says the session is dead, calls ``invalidate(session)``
        and sends the request once more
        with a fresh session. Requests to other origins go out without ``X-Tableau-Auth``. Request
        bodies are kept
        in memory so that the retry can send them again. Made by ``client.httpx_auth()`` or
        ``aclient.httpx_auth()``.

        Redirects: httpx follows them without showing them to an ``httpx.Auth``, keeping every
        header but ``Authorization``, so with ``follow_redirects=True`` a redirect from the server
        to another origin would take the session token along. Make the client with
        :meth:`http_client` / :meth:`async_http_client`, or pass ``event_hooks=auth.event_hooks``
        (``httpx.Client``) / ``event_hooks=auth.async_event_hooks`` (``httpx.AsyncClient``): their
        request hook, run by httpx before every hop, drops ``X-Tableau-Auth`` from any request
        that is not for the server.
        """

        def __init__(self, client: Union[Client, AsyncClient]) -> None:
            self.client = client
            # The twins over the one core client: blocking for httpx.Client, asyncio for
            # httpx.AsyncClient.
            self._sync_client = _core.Client(client)
            self._async_client = _core.AsyncClient(client)
            self._server_origin = _origin(client.server)

        def _ours(self, request: httpx.Request) -> bool:
            return _origin(str(request.url)) == self._server_origin

        def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
            """The flow of ``httpx.Client``: sign, send, and after a 401 re-sign and send once more."""
            if not self._ours(request):
                request.headers.pop(AUTH_HEADER, None)  # never to another origin
                yield request
                return
            request.read()  # kept for the retry
            session = self._sync_client.session()
            request.headers[AUTH_HEADER] = session.token
            response = yield request
            if self._leaked(response, session):
                self._sync_client.sign_out()
                raise self._leak_error(response)
            if response.status_code == 401 and self._carried(response, session) and self._judge(
                    response, session, response.read(), False):
                self._sync_client.invalidate(session)
                fresh = self._sync_client.session()
                if fresh.token != session.token:
                    request.headers[AUTH_HEADER] = fresh.token
                    again = yield request
                    if self._carried(again, fresh):
                        self._judge(again, fresh, again.read() if again.status_code == 401 else b"", True)

        def _judge(self, response: httpx.Response, session: Session, body: bytes, retried: bool) -> bool:
            """The core's rule (``_core.judge_answer``): True to send once more with a fresh
            session; raises ``MissingScopeError`` for a scope the JWT lacks."""
            request = response.request
            return judge_answer(self._sync_client, session, request.method, str(request.url),
                                response.status_code, body, retried)

        async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
            """The flow of ``httpx.AsyncClient``: the same, awaiting the session (asyncio)."""
            if not self._ours(request):
                request.headers.pop(AUTH_HEADER, None)  # never to another origin
                yield request
                return
            await request.aread()  # kept for the retry
            session = await self._async_client.session()
            request.headers[AUTH_HEADER] = session.token
            response = yield request
            if self._leaked(response, session):
                await self._async_client.sign_out()
                raise self._leak_error(response)
            if response.status_code == 401 and self._carried(response, session) and self._judge(
                    response, session, await response.aread(), False):
                self._async_client.invalidate(session)
                fresh = await self._async_client.session()
                if fresh.token != session.token:
                    request.headers[AUTH_HEADER] = fresh.token
                    again = yield request
                    if self._carried(again, fresh):
                        self._judge(again, fresh, await again.aread() if again.status_code == 401 else b"", True)

        @staticmethod
        def _carried(response: httpx.Response, session: Session) -> bool:
            """Did the request that got ``response`` carry this session's token? (A 401 for a
            hop that had it removed says nothing about the session.)"""
            return bool(response.request.headers.get(AUTH_HEADER) == session.token)

        def _leaked(self, response: httpx.Response, session: Session) -> bool:
            """Did httpx follow a redirect to another origin with the token on (a client made
            without :attr:`event_hooks`)?"""
            if not response.history:
                return False
            hops = [r.request for r in response.history[1:]] + [response.request]
            return any(not self._ours(h) and h.headers.get(AUTH_HEADER) == session.token for h in hops)

        @staticmethod
        def _leak_error(response: httpx.Response) -> Exception:
            from .exceptions import ProtocolError

            return ProtocolError(
                f"httpx followed a redirect to {_origin_text(str(response.request.url))} and sent "
                "the session token there: the session was signed out. Make the httpx client with "
                "auth.http_client(...) / auth.async_http_client(...), or pass "
                "event_hooks=auth.event_hooks, to keep the token off other origins"
            )

        def _drop_token_elsewhere(self, request: httpx.Request) -> None:
            if not self._ours(request):
                request.headers.pop(AUTH_HEADER, None)

        async def _async_drop_token_elsewhere(self, request: httpx.Request) -> None:
            self._drop_token_elsewhere(request)

        @property
        def event_hooks(self) -> Dict[str, List[Callable[[httpx.Request], None]]]:
            """Event hooks for ``httpx.Client(auth=auth, event_hooks=auth.event_hooks)``.

            httpx runs request hooks before every hop, redirects included; this one drops
            ``X-Tableau-Auth`` from any request whose origin (scheme, host, port) is not the
            server's. A new dict each time, yours to extend.
            """
            return {"request": [self._drop_token_elsewhere]}

        @property
        def async_event_hooks(self) -> Dict[str, List[Callable[[httpx.Request], Awaitable[None]]]]:
            """:attr:`event_hooks` for ``httpx.AsyncClient``, which awaits its hooks."""
            return {"request": [self._async_drop_token_elsewhere]}

        def http_client(self, **kwargs: Any) -> httpx.Client:
            """``httpx.Client(auth=self, **kwargs)`` that also runs :attr:`event_hooks`.

            This is the safe way to follow redirects: a plain ``httpx.Client(auth=auth,
            follow_redirects=True)`` sends the session token on to whatever origin the server
            redirects to. Any ``event_hooks`` given are kept and run first, then ours.
            """
            hooks = _merged_hooks(kwargs.pop("event_hooks", None), self.event_hooks)
            return httpx.Client(auth=self, event_hooks=hooks, **kwargs)

        def async_http_client(self, **kwargs: Any) -> httpx.AsyncClient:
            """``httpx.AsyncClient(auth=self, **kwargs)`` that also runs :attr:`async_event_hooks`.

            The asyncio twin of :meth:`http_client`, for the same reason. Any ``event_hooks``
            given (async functions) are kept and run first, then ours.
            """
            hooks = _merged_hooks(kwargs.pop("event_hooks", None), self.async_event_hooks)
            return httpx.AsyncClient(auth=self, event_hooks=hooks, **kwargs)

        def __repr__(self) -> str:
            return f"HttpxAuth({self.client!r})"

    return HttpxAuth


def _merged_hooks(
    theirs: Optional[Mapping[str, List[Callable[..., Any]]]], ours: Mapping[str, List[Callable[..., Any]]]
) -> Dict[str, List[Callable[..., Any]]]:
    """The caller's event hooks followed by ours, so that ours sees each request last."""
    merged: Dict[str, List[Callable[..., Any]]] = {name: list(hooks) for name, hooks in (theirs or {}).items()}
    for name, hooks in ours.items():
        merged[name] = merged.get(name, []) + list(hooks)
    return merged


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
