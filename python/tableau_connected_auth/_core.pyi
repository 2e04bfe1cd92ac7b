"""Type stubs for the Rust extension module ``tableau_connected_auth._core``."""

import datetime
import os
from types import TracebackType
from typing import (
    Any,
    Coroutine,
    Callable,
    Dict,
    List,
    Literal,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Type,
    TypedDict,
    Union,
    overload,
)

from typing_extensions import Self, disjoint_base, final

from ._stats import Stats

__all__ = [
    "_JwtIssuer",
    "ConnectedApp",
    "ConnectedAppCredentials",
    "PersonalAccessToken",
    "UsernamePassword",
    "Jwt",
    "ExternalAuthorizationServer",
    "UnifiedAccessToken",
    "Client",
    "AsyncClient",
    "CloudManagerClient",
    "AsyncCloudManagerClient",
    "CloudManagerSession",
    "judge_answer",
    "DiskCache",
    "RedisCache",
    "Session",
    "Response",
    "CurrentSession",
    "Pages",
    "AsyncPages",
    "ScopeNeed",
    "scopes_for",
    "stats",
    "reset_stats",
    "set_telemetry",
    "hint_table",
    "FakeTableau",
    "__version__",
    "DEFAULT_API_VERSION",
]

__version__: str
DEFAULT_API_VERSION: str


@disjoint_base
class _JwtIssuer:
    """What ConnectedApp, ExternalAuthorizationServer and UnifiedAccessToken share."""

    def jwt(
        self,
        username: str,
        *,
        scopes: Sequence[str],
        lifetime: Optional[float] = None,
        user_attributes: Optional[Mapping[str, Union[str, Sequence[str]]]] = None,
        groups: Optional[Sequence[str]] = None,
        on_demand_access: bool = False,
    ) -> str: ...
    def credentials(
        self,
        username: str,
        *,
        scopes: Sequence[str],
        lifetime: Optional[float] = None,
        user_attributes: Optional[Mapping[str, Union[str, Sequence[str]]]] = None,
        groups: Optional[Sequence[str]] = None,
        on_demand_access: bool = False,
    ) -> ConnectedAppCredentials: ...

@final
class ConnectedApp(_JwtIssuer):
    """A direct-trust connected app: its client ID, and one of its secrets (ID and value)."""

    def __new__(cls, client_id: str, secret_id: str, secret_value: str) -> Self: ...
    @property
    def client_id(self) -> str: ...
    @property
    def secret_id(self) -> str: ...

@final
class ConnectedAppCredentials:
    """Sign-in credentials made by ``ConnectedApp.credentials(...)``."""

    @property
    def username(self) -> str: ...
    @property
    def scopes(self) -> List[str]: ...

@final
class PersonalAccessToken:
    """A personal access token (name and secret); one PAT backs one session at a time."""

    def __new__(cls, name: str, secret: str) -> Self: ...
    @property
    def name(self) -> str: ...

@final
class UsernamePassword:
    """A Tableau username and password."""

    def __new__(cls, username: str, password: str) -> Self: ...
    @property
    def username(self) -> str: ...

@final
class Jwt:
    """A JWT minted elsewhere: a plain string is good for one sign-in; a callable is called
    for a fresh JWT at every sign-in.

    Its cached sessions are its own (a random identity); ``identity="name"`` shares them with
    every ``Jwt`` named the same, whose JWTs must then sign in as the same user."""

    def __new__(cls, token: Union[str, Callable[[], str]], *, identity: Optional[str] = None) -> Self: ...

@final
class ExternalAuthorizationServer(_JwtIssuer):
    """A connected app with OAuth 2.0 trust: JWTs signed with your identity provider's key."""

    def __new__(
        cls,
        issuer: str,
        key_id: str,
        private_key: str,
        algorithm: str = "RS256",
        audience: Optional[str] = None,
        site_luid: Optional[str] = None,
    ) -> Self: ...
    @property
    def issuer(self) -> str: ...
    @property
    def key_id(self) -> str: ...
    @property
    def audience(self) -> str: ...
    @property
    def algorithm(self) -> str: ...

@final
class UnifiedAccessToken(_JwtIssuer):
    """Tableau Cloud unified access tokens (RS256, isUat="true", REST API 3.27+)."""

    def __new__(
        cls, issuer: str, key_id: str, private_key: str, tenant_id: str, username_claim: str = "email"
    ) -> Self: ...
    @property
    def issuer(self) -> str: ...
    @property
    def tenant_id(self) -> str: ...
    @property
    def username_claim(self) -> str: ...

_AnyCredentials = Union[ConnectedAppCredentials, PersonalAccessToken, UsernamePassword, Jwt]

@final
class Session:
    """A signed-in session."""

    @property
    def token(self) -> str: ...
    @property
    def site_id(self) -> str: ...
    @property
    def site_content_url(self) -> str: ...
    @property
    def user_id(self) -> str: ...
    @property
    def server(self) -> str: ...
    @property
    def api_version(self) -> str: ...
    @property
    def signed_in_at(self) -> datetime.datetime: ...
    @property
    def expires_at(self) -> Optional[datetime.datetime]: ...
    @property
    def headers(self) -> Dict[str, str]: ...
    def url(self, path: str) -> str: ...

@final
class Response:
    """An HTTP answer from Tableau."""

    @property
    def status(self) -> int: ...
    @property
    def status_code(self) -> int: ...
    @property
    def ok(self) -> bool: ...
    @property
    def url(self) -> str: ...
    @property
    def headers(self) -> Dict[str, str]: ...
    @property
    def content(self) -> bytes: ...
    @property
    def text(self) -> str: ...
    def json(self) -> Any: ...
    def raise_for_status(self) -> None: ...
    def current_session(self) -> CurrentSession:
        """The site and user of the answer of ``GET sessions/current`` (XML or JSON).

        Raises like ``raise_for_status()`` for a non-2xx answer, ``ProtocolError`` for a body that
        is not one.
        """

@final
class CurrentSession:
    """The site and user a session token belongs to, from ``GET sessions/current``."""

    @property
    def site_id(self) -> str: ...
    @property
    def site_name(self) -> Optional[str]: ...
    @property
    def site_content_url(self) -> str: ...
    @property
    def user_id(self) -> str: ...
    @property
    def user_name(self) -> Optional[str]: ...
    @property
    def user_site_role(self) -> Optional[str]: ...

@final
class DiskCache:
    """Sessions shared by this user's processes on this machine (encrypted files, file lock)."""

    def __new__(
        cls, path: Optional[Union[str, "os.PathLike[str]"]] = None, *, lock_timeout: Optional[float] = None
    ) -> Self: ...
    @property
    def path(self) -> str: ...
    @property
    def lock_timeout(self) -> Optional[float]: ...

@final
class RedisCache:
    """Sessions shared by processes on many machines through Redis (encrypted, lock key).

    ``url`` is one of:

    - one server: ``redis://[[user]:password@]host:6379/0``, ``rediss://`` for TLS,
      ``redis+unix:///path/redis.sock?db=0``;
    - a Redis Cluster: ``redis+cluster://[[user]:password@]host1:6379,host2:6379`` (any reachable
      nodes; the rest are discovered), ``rediss+cluster://`` for TLS;
    - Sentinel: ``redis+sentinel://[[user]:password@]host1:26379,host2:26379/mymaster[/db]``: the
      hosts are sentinels, ``mymaster`` the name they monitor the primary under; the password is
      the primary's, ``?sentinel_password=...`` (and ``sentinel_username``) the sentinels' own;
      ``rediss+sentinel://`` for TLS. After a failover the new primary is used.

    ``url`` (and ``repr``) show every password as ``***``.
    """

    def __new__(cls, url: str, *, prefix: Optional[str] = None, lock_timeout: Optional[float] = None) -> Self: ...
    @property
    def url(self) -> str: ...
    @property
    def prefix(self) -> str: ...
    @property
    def lock_timeout(self) -> Optional[float]: ...

_Cache = Union[Literal["memory"], DiskCache, RedisCache, None]
_VdsEndpoint = Literal["query-datasource", "read-metadata", "get-datasource-model"]

@final
class Pages:
    """The items of a list, fetched a page at a time as you iterate."""

    def __iter__(self) -> Self: ...
    def __next__(self) -> Any: ...

@final
class AsyncPages:
    """The items of a list, fetched a page at a time as you iterate with ``async for``."""

    def __aiter__(self) -> Self: ...
    def __anext__(self) -> Coroutine[Any, Any, Any]: ...

@disjoint_base
class Client:
    """A client for one Tableau server, site and identity, with a process-wide session cache."""

    @overload
    def __new__(
        cls,
        server: str,
        *,
        site: str,
        credentials: _AnyCredentials,
        api_version: Optional[str] = None,
        timeout: Optional[float] = None,
        connect_timeout: Optional[float] = None,
        retries: Optional[int] = None,
        verify: Optional[Union[bool, str]] = None,
        ca_bundle: Optional[str] = None,
        client_cert: Optional[Union[str, Tuple[str, str]]] = None,
        proxy: Optional[str] = None,
        wire_format: Optional[str] = None,
        impersonate: Optional[str] = None,
        max_session_age: Optional[float] = None,
        rate_limit_max_wait: Optional[float] = None,
        cache: _Cache = "memory",
    ) -> Self: ...
    @overload
    def __new__(cls, server: Union[Client, AsyncClient]) -> Self: ...
    @property
    def server(self) -> str: ...
    @property
    def site(self) -> str: ...
    @property
    def api_version(self) -> str: ...
    @property
    def cache(self) -> _Cache: ...
    def cached_session(self) -> Optional[Session]: ...
    def session(self) -> Session: ...
    def sign_in(self) -> Session: ...
    def request(
        self,
        method: str,
        path: str,
        *,
        params: Optional[Mapping[str, object]] = None,
        json: object = None,
        data: Optional[Union[bytes, str]] = None,
        headers: Optional[Mapping[str, str]] = None,
        timeout: Optional[float] = None,
    ) -> Response: ...
    def get(
        self,
        path: str,
        *,
        params: Optional[Mapping[str, object]] = None,
        headers: Optional[Mapping[str, str]] = None,
        timeout: Optional[float] = None,
    ) -> Response: ...
    def post(
        self,
        path: str,
        *,
        json: object = None,
        data: Optional[Union[bytes, str]] = None,
        params: Optional[Mapping[str, object]] = None,
        headers: Optional[Mapping[str, str]] = None,
        timeout: Optional[float] = None,
    ) -> Response: ...
    def paginate(
        self, path: str, *, page_size: int = 100, params: Optional[Mapping[str, object]] = None
    ) -> Pages: ...
    def graphql(self, query: str, variables: Optional[Mapping[str, Any]] = None) -> Any: ...
    def graphql_paginate(
        self, query: str, *, connection: str, variables: Optional[Mapping[str, Any]] = None
    ) -> Pages: ...
    def vds(
        self,
        endpoint: _VdsEndpoint,
        datasource: str,
        *,
        query: Optional[Mapping[str, Any]] = None,
        options: Optional[Mapping[str, Any]] = None,
    ) -> Any: ...
    def pulse_paginate(
        self,
        resource: str = "definitions",
        *,
        page_size: Optional[int] = None,
        params: Optional[Mapping[str, object]] = None,
    ) -> Pages: ...
    def pulse_batch_get(
        self, resource: Literal["definitions", "metrics"], ids: Sequence[str], *, view: Optional[str] = None
    ) -> List[Any]: ...
    def switch_site(self, content_url: str) -> Session: ...
    def invalidate(self, session: Union[Session, str]) -> bool: ...
    def sign_out(self) -> None: ...
    def close(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        *_exc: Union[Optional[Type[BaseException]], Optional[BaseException], Optional[TracebackType]],
    ) -> Literal[False]: ...

@disjoint_base
class AsyncClient:
    """The asyncio twin of Client: the same arguments, the same session cache."""

    @overload
    def __new__(
        cls,
        server: str,
        *,
        site: str,
        credentials: _AnyCredentials,
        api_version: Optional[str] = None,
        timeout: Optional[float] = None,
        connect_timeout: Optional[float] = None,
        retries: Optional[int] = None,
        verify: Optional[Union[bool, str]] = None,
        ca_bundle: Optional[str] = None,
        client_cert: Optional[Union[str, Tuple[str, str]]] = None,
        proxy: Optional[str] = None,
        wire_format: Optional[str] = None,
        impersonate: Optional[str] = None,
        max_session_age: Optional[float] = None,
        rate_limit_max_wait: Optional[float] = None,
        cache: _Cache = "memory",
    ) -> Self: ...
    @overload
    def __new__(cls, server: Union[Client, AsyncClient]) -> Self: ...
    @property
    def server(self) -> str: ...
    @property
    def site(self) -> str: ...
    @property
    def api_version(self) -> str: ...
    @property
    def cache(self) -> _Cache: ...
    def cached_session(self) -> Optional[Session]: ...
    def session(self) -> Coroutine[Any, Any, Session]: ...
    def sign_in(self) -> Coroutine[Any, Any, Session]: ...
    def request(
        self,
        method: str,
        path: str,
        *,
        params: Optional[Mapping[str, object]] = None,
        json: object = None,
        data: Optional[Union[bytes, str]] = None,
        headers: Optional[Mapping[str, str]] = None,
        timeout: Optional[float] = None,
    ) -> Coroutine[Any, Any, Response]: ...
    def get(
        self,
        path: str,
        *,
        params: Optional[Mapping[str, object]] = None,
        headers: Optional[Mapping[str, str]] = None,
        timeout: Optional[float] = None,
    ) -> Coroutine[Any, Any, Response]: ...
    def post(
        self,
        path: str,
        *,
        json: object = None,
        data: Optional[Union[bytes, str]] = None,
        params: Optional[Mapping[str, object]] = None,
        headers: Optional[Mapping[str, str]] = None,
        timeout: Optional[float] = None,
    ) -> Coroutine[Any, Any, Response]: ...
    def paginate(
        self, path: str, *, page_size: int = 100, params: Optional[Mapping[str, object]] = None
    ) -> AsyncPages: ...
    def graphql(
        self, query: str, variables: Optional[Mapping[str, Any]] = None
    ) -> Coroutine[Any, Any, Any]: ...
    def graphql_paginate(
        self, query: str, *, connection: str, variables: Optional[Mapping[str, Any]] = None
    ) -> AsyncPages: ...
    def vds(
        self,
        endpoint: _VdsEndpoint,
        datasource: str,
        *,
        query: Optional[Mapping[str, Any]] = None,
        options: Optional[Mapping[str, Any]] = None,
    ) -> Coroutine[Any, Any, Any]: ...
    def pulse_paginate(
        self,
        resource: str = "definitions",
        *,
        page_size: Optional[int] = None,
        params: Optional[Mapping[str, object]] = None,
    ) -> AsyncPages: ...
    def pulse_batch_get(
        self, resource: Literal["definitions", "metrics"], ids: Sequence[str], *, view: Optional[str] = None
    ) -> Coroutine[Any, Any, List[Any]]: ...
    def switch_site(self, content_url: str) -> Coroutine[Any, Any, Session]: ...
    def invalidate(self, session: Union[Session, str]) -> bool: ...
    def sign_out(self) -> Coroutine[Any, Any, None]: ...
    def aclose(self) -> Coroutine[Any, Any, None]: ...
    def __aenter__(self) -> Coroutine[Any, Any, Self]: ...
    def __aexit__(
        self,
        *_exc: Union[Optional[Type[BaseException]], Optional[BaseException], Optional[TracebackType]],
    ) -> Coroutine[Any, Any, Literal[False]]: ...

_CloudManagerCredentials = Union[ConnectedAppCredentials, PersonalAccessToken, Jwt]

@final
class CloudManagerSession:
    """A Tableau Cloud Manager session (tenant administration)."""

    @property
    def token(self) -> str: ...
    @property
    def tenant_id(self) -> str: ...
    @property
    def user_id(self) -> str: ...
    @property
    def server(self) -> str: ...
    @property
    def signed_in_at(self) -> datetime.datetime: ...
    @property
    def expires_at(self) -> Optional[datetime.datetime]: ...
    @property
    def headers(self) -> Dict[str, str]: ...
    def url(self, path: str) -> str: ...

@disjoint_base
class CloudManagerClient:
    """A client for Tableau Cloud Manager, with a process-wide session cache."""

    def __new__(
        cls,
        server: str = "https://cloudmanager.tableau.com",
        *,
        credentials: _CloudManagerCredentials,
        timeout: Optional[float] = None,
        connect_timeout: Optional[float] = None,
        retries: Optional[int] = None,
        verify: Optional[Union[bool, str]] = None,
        ca_bundle: Optional[str] = None,
        client_cert: Optional[Union[str, Tuple[str, str]]] = None,
        proxy: Optional[str] = None,
        max_session_age: Optional[float] = None,
        rate_limit_max_wait: Optional[float] = None,
        cache: _Cache = "memory",
    ) -> Self: ...
    @property
    def server(self) -> str: ...
    @property
    def cache(self) -> _Cache: ...
    def cached_session(self) -> Optional[CloudManagerSession]: ...
    def session(self) -> CloudManagerSession: ...
    def sign_in(self) -> CloudManagerSession: ...
    def request(
        self,
        method: str,
        path: str,
        *,
        params: Optional[Mapping[str, object]] = None,
        json: object = None,
        data: Optional[Union[bytes, str]] = None,
        headers: Optional[Mapping[str, str]] = None,
        timeout: Optional[float] = None,
    ) -> Response: ...
    def get(
        self,
        path: str,
        *,
        params: Optional[Mapping[str, object]] = None,
        headers: Optional[Mapping[str, str]] = None,
        timeout: Optional[float] = None,
    ) -> Response: ...
    def post(
        self,
        path: str,
        *,
        json: object = None,
        data: Optional[Union[bytes, str]] = None,
        params: Optional[Mapping[str, object]] = None,
        headers: Optional[Mapping[str, str]] = None,
        timeout: Optional[float] = None,
    ) -> Response: ...
    def paginate(
        self,
        path: str,
        *,
        page_size: int = 100,
        params: Optional[Mapping[str, object]] = None,
        items: Optional[str] = None,
    ) -> Pages: ...
    def invalidate(self, session: Union[CloudManagerSession, str]) -> bool: ...
    def sign_out(self) -> None: ...
    def close(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        *_exc: Union[Optional[Type[BaseException]], Optional[BaseException], Optional[TracebackType]],
    ) -> Literal[False]: ...

@disjoint_base
class AsyncCloudManagerClient:
    """CloudManagerClient for asyncio: the same arguments, the same session cache."""

    def __new__(
        cls,
        server: str = "https://cloudmanager.tableau.com",
        *,
        credentials: _CloudManagerCredentials,
        timeout: Optional[float] = None,
        connect_timeout: Optional[float] = None,
        retries: Optional[int] = None,
        verify: Optional[Union[bool, str]] = None,
        ca_bundle: Optional[str] = None,
        client_cert: Optional[Union[str, Tuple[str, str]]] = None,
        proxy: Optional[str] = None,
        max_session_age: Optional[float] = None,
        rate_limit_max_wait: Optional[float] = None,
        cache: _Cache = "memory",
    ) -> Self: ...
    @property
    def server(self) -> str: ...
    @property
    def cache(self) -> _Cache: ...
    def cached_session(self) -> Optional[CloudManagerSession]: ...
    def session(self) -> Coroutine[Any, Any, CloudManagerSession]: ...
    def sign_in(self) -> Coroutine[Any, Any, CloudManagerSession]: ...
    def request(
        self,
        method: str,
        path: str,
        *,
        params: Optional[Mapping[str, object]] = None,
        json: object = None,
        data: Optional[Union[bytes, str]] = None,
        headers: Optional[Mapping[str, str]] = None,
        timeout: Optional[float] = None,
    ) -> Coroutine[Any, Any, Response]: ...
    def get(
        self,
        path: str,
        *,
        params: Optional[Mapping[str, object]] = None,
        headers: Optional[Mapping[str, str]] = None,
        timeout: Optional[float] = None,
    ) -> Coroutine[Any, Any, Response]: ...
    def post(
        self,
        path: str,
        *,
        json: object = None,
        data: Optional[Union[bytes, str]] = None,
        params: Optional[Mapping[str, object]] = None,
        headers: Optional[Mapping[str, str]] = None,
        timeout: Optional[float] = None,
    ) -> Coroutine[Any, Any, Response]: ...
    def paginate(
        self,
        path: str,
        *,
        page_size: int = 100,
        params: Optional[Mapping[str, object]] = None,
        items: Optional[str] = None,
    ) -> AsyncPages: ...
    def invalidate(self, session: Union[CloudManagerSession, str]) -> bool: ...
    def sign_out(self) -> Coroutine[Any, Any, None]: ...
    def aclose(self) -> Coroutine[Any, Any, None]: ...
    def __aenter__(self) -> Coroutine[Any, Any, Self]: ...
    def __aexit__(
        self,
        *_exc: Union[Optional[Type[BaseException]], Optional[BaseException], Optional[TracebackType]],
    ) -> Coroutine[Any, Any, Literal[False]]: ...

def stats() -> Stats:
    """This process's counters: sign-ins by service ("site", "cloud_manager"), method and outcome;
    refreshes ahead of expiry; re-sign-ins after a dead session; cache hits and misses; waits."""

def reset_stats() -> None:
    """Every counter of ``stats()`` back to zero."""

def set_telemetry(on: bool) -> None:
    """Turn telemetry events on or off (``tableau_connected_auth.telemetry`` does it)."""

class _HintRow(TypedDict):
    table: Literal["subcode", "cloud_manager", "tableau"]
    code: Optional[str]
    subcode: Optional[int]
    status: Optional[int]
    calls: List[str]
    hint: str

def hint_table() -> List[_HintRow]:
    """The rules that give an error its ``hint``, in the order they are tried (for the
    documentation's troubleshooting page)."""

@final
class ScopeNeed:
    """The connected-app scopes one call needs: any one of ``scopes`` opens it."""

    @property
    def api(self) -> str: ...
    @property
    def family(self) -> str: ...
    @property
    def scopes(self) -> List[str]: ...
    @property
    def since(self) -> Optional[str]: ...
    @property
    def known(self) -> bool: ...

def scopes_for(method: str, path: str) -> ScopeNeed:
    """The connected-app scopes a call needs, e.g. ``scopes_for("GET", "workbooks")``."""

def judge_answer(
    client: Union[Client, AsyncClient],
    session: Union[Session, str],
    method: str,
    url: str,
    status: int,
    body: bytes,
    retried: bool = False,
) -> bool:
    """What the requests and httpx adapters do with an answer: True to drop the session and
    send once more with a fresh one, False to keep the answer; raises ``MissingScopeError``."""

@disjoint_base
class FakeTableau:
    """A stand-in for Tableau on 127.0.0.1 that enforces Tableau's sign-in rules."""

    def __new__(cls, *, tls: bool = False, require_client_cert: bool = False) -> Self: ...
    @property
    def url(self) -> str: ...
    @property
    def ca_pem(self) -> Optional[str]: ...
    @property
    def client_identity(self) -> Optional[Tuple[str, str]]: ...
    @property
    def site(self) -> str: ...
    @property
    def username(self) -> str: ...
    @property
    def app_client_id(self) -> str: ...
    @property
    def app_secret_id(self) -> str: ...
    @property
    def app_secret_value(self) -> str: ...
    @property
    def pat_name(self) -> str: ...
    @property
    def pat_secret(self) -> str: ...
    @property
    def admin_password(self) -> str: ...
    @property
    def tenant_id(self) -> str: ...
    @property
    def cloud_manager_username(self) -> str: ...
    @property
    def cloud_manager_pat_secret(self) -> str: ...
    def add_cloud_manager_user(self, username: str, *, cloud_admin: bool = True) -> str: ...
    def add_cloud_manager_pat(self, secret: str, *, username: str = "cloudadmin@example.com") -> None: ...
    def add_cloud_manager_uat_configuration(
        self, issuer: str, public_key: str, *, username_claim: str = "email"
    ) -> None: ...
    def last_cloud_manager_login(self) -> Optional[Tuple[str, str]]: ...
    def add_site(self, content_url: str, name: Optional[str] = None) -> str: ...
    def add_user(self, username: str, *, site: str = "mysite", password: Optional[str] = None) -> str: ...
    def add_connected_app(
        self,
        client_id: str,
        secret_id: str,
        secret_value: str,
        *,
        site: str = "mysite",
        enabled: bool = True,
        on_demand_access: bool = False,
    ) -> None: ...
    def add_pat(self, name: str, secret: str, *, username: str = "me@example.com", site: str = "mysite") -> None: ...
    def add_external_authorization_server(
        self,
        issuer: str,
        public_key: str,
        *,
        site: str = "mysite",
        audience: str = "server",
        algorithms: Optional[Sequence[str]] = None,
    ) -> None: ...
    def add_uat_configuration(
        self, issuer: str, public_key: str, tenant_id: str, *, site: str = "mysite", username_claim: str = "email"
    ) -> None: ...
    def last_jwt_claims(self) -> Optional[str]: ...
    @property
    def datasource_id(self) -> str: ...
    def content_ids(self, site: str = "mysite") -> Dict[str, Any]: ...
    def add_workbooks(self, count: int, *, site: str = "mysite") -> List[str]: ...
    def site_luid(self, content_url: str) -> str: ...
    def set_app_enabled(self, client_id: str, enabled: bool) -> None: ...
    @property
    def vds_datasource_id(self) -> str: ...
    def set_vds_api_access(self, datasource_id: str, allowed: bool) -> None: ...
    def set_vds_row_limit(self, limit: Optional[int]) -> None: ...
    def set_metadata_api_enabled(self, enabled: bool) -> None: ...
    def set_metadata_access_denied(self, denied: bool) -> None: ...
    def set_metadata_filter_required(self, required: bool) -> None: ...
    def set_metadata_backfill_running(self, running: bool, *, placement: str = "errors") -> None: ...
    def set_pulse_definition_count(self, count: int) -> None: ...
    def pulse_definition_ids(self) -> List[str]: ...
    def pulse_metric_ids(self, definition_id: str) -> List[str]: ...
    def stats(self) -> Dict[str, Any]: ...
    def reset_stats(self) -> None: ...
    def fail_next(
        self, status: int, *, times: int = 1, code: Optional[str] = None, route: Optional[str] = None
    ) -> None: ...
    def rate_limit_next(
        self, *, times: int = 1, retry_after: Optional[int] = None, html: bool = False, route: Optional[str] = None
    ) -> None: ...
    def html_next(self, *, times: int = 1, status: int = 200, route: Optional[str] = None) -> None: ...
    def redirect_next(
        self, location: str, *, status: int = 307, times: int = 1, route: Optional[str] = None
    ) -> None: ...
    def oversize_next(self, size: int, *, times: int = 1, route: Optional[str] = None) -> None: ...
    def truncate_next(self, *, times: int = 1, route: Optional[str] = None) -> None: ...
    def empty_next(self, *, times: int = 1, status: int = 200, route: Optional[str] = None) -> None: ...
    def set_delay(self, seconds: float, *, route: str = "*") -> None: ...
    def set_session_ttl(self, seconds: Optional[float]) -> None: ...
    def expire_all_sessions(self) -> None: ...
    def set_estimated_time_to_expiration(self, value: Optional[str]) -> None: ...
    def set_max_api_version(self, version: str) -> None: ...
    def is_session_alive(self, token: str) -> bool: ...
    def last_sign_in_request(self) -> Optional[Tuple[str, str]]: ...
    def stop(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, *_exc: object) -> Literal[False]: ...
