"""Sign in to the Tableau REST API with Connected Apps and keep the session alive.

Quick start (``TABLEAU_SERVER``, ``TABLEAU_SITE``, ``TABLEAU_CLIENT_ID``, ``TABLEAU_SECRET_ID``,
``TABLEAU_SECRET_VALUE``, ``TABLEAU_USERNAME`` and ``TABLEAU_SCOPES`` set)::

    import requests
    import tableau_connected_auth as tca

    client = tca.Client.from_env()
    s = client.session()                 # signs in once, then answers from the cache
    requests.get(s.url("workbooks"), headers=s.headers).raise_for_status()
    client.get("workbooks").raise_for_status()   # or let the client send the call
    client.sign_out()

Nothing secret (secret values, passwords, PAT secrets, JWTs, session tokens) ever appears in a
``repr``, ``str``, exception message or log record.
"""

from __future__ import annotations

import logging as _logging
from . import _core
from ._clients import AsyncClient, AsyncCloudManagerClient, Client, CloudManagerClient
from ._stats import Stats
from ._core import (
    DEFAULT_API_VERSION,
    AsyncPages,
    CloudManagerSession,
    ConnectedApp,
    ConnectedAppCredentials,
    CurrentSession,
    DiskCache,
    ExternalAuthorizationServer,
    Jwt,
    Pages,
    PersonalAccessToken,
    RedisCache,
    Response,
    ScopeNeed,
    Session,
    UnifiedAccessToken,
    UsernamePassword,
    reset_stats,
    scopes_for,
    stats,
)
from .exceptions import (
    ConfigurationError,
    MetadataApiError,
    MissingScopeError,
    ProtocolError,
    RateLimitedError,
    SessionExpiredError,
    SignInError,
    TableauApiError,
    TableauAuthError,
    TableauTimeoutError,
    TransportError,
)

__version__: str = _core.__version__

__all__ = [
    "DEFAULT_API_VERSION",
    "AsyncClient",
    "AsyncCloudManagerClient",
    "AsyncPages",
    "Client",
    "CloudManagerClient",
    "CloudManagerSession",
    "ConnectedApp",
    "ConnectedAppCredentials",
    "CurrentSession",
    "DiskCache",
    "ExternalAuthorizationServer",
    "Jwt",
    "Pages",
    "PersonalAccessToken",
    "RedisCache",
    "Response",
    "ScopeNeed",
    "Session",
    "Stats",
    "UnifiedAccessToken",
    "UsernamePassword",
    "reset_stats",
    "scopes_for",
    "stats",
    "ConfigurationError",
    "MetadataApiError",
    "MissingScopeError",
    "ProtocolError",
    "RateLimitedError",
    "SessionExpiredError",
    "SignInError",
    "TableauApiError",
    "TableauAuthError",
    "TableauTimeoutError",
    "TransportError",
]

_logging.getLogger(__name__).addHandler(_logging.NullHandler())
