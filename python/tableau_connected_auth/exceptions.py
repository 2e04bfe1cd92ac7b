"""The exceptions raised by tableau_connected_auth. All derive from :class:`TableauAuthError`.

They are defined in Python (documented, picklable, subclassable) and raised from the Rust core.
No message or attribute ever holds a secret, a JWT or a session token.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

__all__ = [
    "TableauAuthError",
    "ConfigurationError",
    "SignInError",
    "SessionExpiredError",
    "RateLimitedError",
    "TableauApiError",
    "MissingScopeError",
    "MetadataApiError",
    "TransportError",
    "TableauTimeoutError",
    "ProtocolError",
]


class TableauAuthError(Exception):
    """Base class of every error this package raises. Every error has these attributes,
    ``None`` when they do not apply (say, for an error raised before Tableau answered).

    Attributes:
        status: the HTTP status Tableau answered.
        code: Tableau's error code, e.g. ``"401001"``.
        subcode: the connected-app sub-code found in ``detail``, e.g. ``16``.
        summary: Tableau's summary text.
        detail: Tableau's detail text.
        hint: what to check or change.
    """

    def __init__(
        self,
        message: str = "",
        *,
        status: Optional[int] = None,
        code: Optional[str] = None,
        subcode: Optional[int] = None,
        summary: Optional[str] = None,
        detail: Optional[str] = None,
        hint: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.subcode = subcode
        self.summary = summary
        self.detail = detail
        self.hint = hint

    @property
    def message(self) -> str:
        """The human-readable message (same as ``str(error)``)."""
        return str(self.args[0]) if self.args else ""


class ConfigurationError(TableauAuthError, ValueError):
    """A bad argument, caught before any network I/O. The message says what to change."""


class SignInError(TableauAuthError):
    """Tableau refused the sign-in. See ``code``, ``subcode``, ``detail`` and ``hint``."""


class SessionExpiredError(TableauAuthError):
    """A call was made with a session token Tableau no longer accepts (401000 / 401002)."""


class RateLimitedError(TableauAuthError):
    """Tableau answered 429 Too Many Requests.

    Attributes:
        retry_after: seconds to wait before retrying, when Tableau said so.
    """

    def __init__(self, message: str = "", *, retry_after: Optional[float] = None, **fields: object) -> None:
        super().__init__(message, **fields)  # type: ignore[arg-type]
        self.retry_after = retry_after


class TableauApiError(TableauAuthError):
    """Tableau answered a call with an error other than the ones above (404, 403, 500, ...)."""


class MissingScopeError(TableauApiError):
    """A call on a connected-app (JWT) session answered 401002 again after a fresh sign-in.

    Tableau answers a call outside the JWT's scopes exactly as it answers a dead session, so
    the client signs in once more; when the fresh session is refused too, the JWT lacks the
    scope. The message and ``hint`` name the scope the call needs; later calls of the same
    kind raise this at once, without signing in again.

    Attributes:
        required_scopes: any one of these opens the call (empty when this package's scope
            table does not know the call).
        requested_scopes: the scopes the credential's JWT asks for; ``None`` for a JWT minted
            elsewhere (``Jwt(...)``).
        since: the first Tableau release where ``required_scopes`` open this call, when known.
        api: ``"REST API"``, ``"Metadata API"``, ``"VizQL Data Service"`` or ``"Pulse"``.
    """

    def __init__(
        self,
        message: str = "",
        *,
        required_scopes: Optional[List[str]] = None,
        requested_scopes: Optional[List[str]] = None,
        since: Optional[str] = None,
        api: Optional[str] = None,
        **fields: object,
    ) -> None:
        super().__init__(message, **fields)  # type: ignore[arg-type]
        self.required_scopes: List[str] = list(required_scopes or [])
        self.requested_scopes = requested_scopes
        self.since = since
        self.api = api


class MetadataApiError(TableauApiError):
    """The Metadata API (GraphQL) answered ``errors``: ACCESS_DENIED, FEATURE_DISABLED,
    FILTER_REQUIRED, INVALID_ARGUMENT, … The message has a hint for each code we know.

    Attributes:
        errors: the GraphQL ``errors`` list as Tableau sent it (dicts with ``message`` and
            ``extensions``).
        codes: each error's ``extensions.code`` (``""`` when it had none), in order.
    """

    def __init__(
        self,
        message: str = "",
        *,
        errors: Optional[List[Dict[str, Any]]] = None,
        codes: Optional[List[str]] = None,
        **fields: object,
    ) -> None:
        super().__init__(message, **fields)  # type: ignore[arg-type]
        self.errors: List[Dict[str, Any]] = list(errors or [])
        self.codes: List[str] = list(codes or [])


class TransportError(TableauAuthError, ConnectionError):
    """The request got no answer: connection, TLS, proxy or DNS failure."""


class TableauTimeoutError(TableauAuthError, TimeoutError):
    """No answer within the configured timeout."""


class ProtocolError(TableauAuthError):
    """The server answered something that is not Tableau (HTML page, empty or truncated body)."""
