"""tableauserverclient (TSC) on top of a :class:`Client`: TSC's endpoints, our sign-in.

::

    import tableau_connected_auth as tca
    from tableau_connected_auth import tsc

    client = tca.Client.from_env()
    server = tsc.server(client)          # signed in with client.session(): no second sign-in
    workbooks, pagination = server.workbooks.get()

The ``Server`` returned carries the session's token, site ID, site contentUrl, user ID and API
version, and its HTTP sessions sign every request with ``client.requests_auth()``: when the
token dies (a 401), the request is sent once more with a fresh session, so a long-lived
``Server`` keeps working without ever calling ``server.auth.sign_in``.

Sign out with ``client.sign_out()`` (or ``with client:``), not ``server.auth.sign_out()``, so
that the client's session cache knows. Needs ``pip install tableau_connected_auth[tsc]``.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any, Mapping, Optional

from ._clients import Client
from ._core import Session

if TYPE_CHECKING:
    import tableauserverclient

__all__ = ["server"]


def _adopt(srv: Any, session: Session) -> None:
    """Give a TSC ``Server`` our session, the way its own ``auth.sign_in`` records one."""
    if hasattr(srv, "_set_auth"):  # TSC's one-assignment setter (thread-safe in recent TSC)
        srv._set_auth(session.site_id, session.user_id, session.token, session.site_content_url)
    else:  # older TSC: the documented sign-in shortcut of setting the fields
        srv._site_id = session.site_id
        srv._user_id = session.user_id
        srv._auth_token = session.token
        srv._site_url = session.site_content_url


def server(client: Client, *, http_options: Optional[Mapping[str, Any]] = None) -> "tableauserverclient.Server":
    """A ``tableauserverclient.Server`` already signed in with ``client``'s session.

    Signs in only if the client has no live session (once, through our cache); TSC never signs
    in itself. The API version is the session's (so ``api_version="auto"`` works), and every
    request TSC makes carries the client's current token, with one retry after a 401.

    ``http_options`` go to ``Server.add_http_options`` (e.g. ``{"timeout": 60}``, or
    ``{"verify": "/path/ca.pem"}``: TSC's requests do not share the client's TLS settings).
    """
    import requests
    import tableauserverclient as TSC

    session = client.session()
    auth = client.requests_auth()

    def session_factory() -> requests.Session:
        http = requests.Session()
        http.auth = auth
        return http

    options = dict(http_options or {})
    server_class: Any = TSC.Server  # its __init__ is not annotated
    srv: tableauserverclient.Server
    if "session_factory" in inspect.signature(server_class).parameters:
        srv = server_class(session.server, use_server_version=False, http_options=options, session_factory=session_factory)
    else:  # older TSC: one requests.Session per Server
        srv = server_class(session.server, use_server_version=False, http_options=options)
        srv._session = session_factory()
    srv.version = session.api_version
    _adopt(srv, session)
    return srv
