"""Apache Airflow: :class:`TableauConnectedAppHook`, a :class:`~tableau_connected_auth.Client`
built from an Airflow connection of type ``tableau_connected_app``.

The connection's fields:

- ``host``: the server or pod, e.g. ``10ay.online.tableau.com`` (https) or
  ``http://tableau.internal`` (plain http must be spelled out); ``port``: optional.
- ``login``: the Tableau user to sign in as; ``password``: the connected app's secret value.
- extra ``site``: the site's contentUrl (absent or ``""``: the default site).
- extra ``client_id`` and ``secret_id``: the connected app's client ID and secret ID.
- extra ``scopes``: a list, or a string separated by commas or spaces.
- other extras, optional ``Client`` options: ``api_version``, ``timeout``, ``connect_timeout``,
  ``retries``, ``verify``, ``ca_bundle``, ``proxy``, ``wire_format``, ``impersonate``, and
  ``cache``: ``disk`` (or ``disk:/dir``) or a ``redis://`` URL shares one session among all
  task processes (see the documentation's "Shared caches" guide).

::

    # Not run: needs Apache Airflow (examples/airflow_dag.py runs in CI with Airflow)
    from tableau_connected_auth.airflow import TableauConnectedAppHook

    @task
    def refresh():
        client = TableauConnectedAppHook("tableau").get_conn()
        client.get("workbooks").raise_for_status()

The package declares itself as an Airflow provider (entry point ``apache_airflow_provider``), so
"Tableau (Connected App)" is a connection type in the UI, with its own fields, without a
separate ``apache-airflow-providers-*`` distribution. Sessions are cached per process, so the
tasks of one worker process share one sign-in; forked workers each sign in once.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Tuple

__all__ = ["TableauConnectedAppHook", "CONNECTION_TYPE", "client_from_connection", "get_provider_info"]

#: The Airflow connection type this package provides.
CONNECTION_TYPE = "tableau_connected_app"
#: Its name in the UI.
HOOK_NAME = "Tableau (Connected App)"


# Defined before Airflow is imported: importing airflow (below) makes Airflow discover its
# providers, which calls get_provider_info of this very module while it is still half imported.
def _connection_form() -> Dict[str, Any]:
    def text(label: str, description: str, **schema: Any) -> Dict[str, Any]:
        return {"label": label, "description": description, "schema": {"type": ["string", "null"], **schema}}

    return {
        "conn-fields": {
            "site": text("Site", 'The site\'s contentUrl (as in /#/site/<name>/); empty for the default site.'),
            "client_id": text("Client ID", "The connected app's client ID."),
            "secret_id": text("Secret ID", "The ID of the connected app's secret (its value goes in Secret value)."),
            "scopes": text("Scopes", "Scopes, separated by commas or spaces.", default="tableau:content:read"),
            "api_version": text("REST API version", 'Optional: e.g. "3.24", or "auto" to ask the server.'),
            "cache": text(
                "Session cache",
                'Optional: "disk" (or "disk:/dir") or a redis:// URL to share one session among all task '
                'processes; default "memory" (one per process).',
            ),
        },
        "ui-field-behaviour": {
            "hidden-fields": ["schema"],
            "relabeling": {"host": "Server", "login": "Username", "password": "Secret value"},
            "placeholders": {
                "host": "10ay.online.tableau.com (https), or http://host for plain http",
                "login": "me@example.com",
                "password": "the connected app secret's value",
            },
        },
    }


def get_provider_info() -> Dict[str, Any]:
    """What Airflow's provider manager reads (entry point ``apache_airflow_provider``)."""
    return {
        "package-name": "tableau-connected-auth",
        "name": "Tableau Connected Apps (tableau_connected_auth)",
        "description": "Sign in to the Tableau REST API with Connected Apps: a hook returning a cached Client.",
        "integrations": [{"integration-name": "Tableau Connected Apps", "tags": ["service"]}],
        "hooks": [{"integration-name": "Tableau Connected Apps", "python-modules": [__name__]}],
        "connection-types": [
            {
                "connection-type": CONNECTION_TYPE,
                "hook-class-name": f"{__name__}.TableauConnectedAppHook",
                "hook-name": HOOK_NAME,
                **_connection_form(),
            }
        ],
    }


try:  # Airflow 3
    from airflow.sdk import BaseHook  # type: ignore[import-not-found, unused-ignore]
except ImportError:  # pragma: no cover - Airflow 2
    from airflow.hooks.base import BaseHook  # type: ignore[import-not-found, no-redef, unused-ignore]

from ._clients import Client
from ._core import stats
from ._stats import Stats, summary
from ._env import parse_cache, parse_scopes
from .exceptions import ConfigurationError, TableauAuthError

_OPTIONS = (
    "api_version",
    "timeout",
    "connect_timeout",
    "retries",
    "verify",
    "ca_bundle",
    "proxy",
    "wire_format",
    "impersonate",
    "cache",
)


def _extra(connection: Any) -> Dict[str, Any]:
    """The connection's extras, with the UI's older ``extra__<type>__<name>`` keys unprefixed."""
    raw = getattr(connection, "extra_dejson", None)
    if raw is None:
        text = getattr(connection, "extra", None)
        raw = json.loads(text) if text else {}
    prefix = f"extra__{CONNECTION_TYPE}__"
    extra: Dict[str, Any] = {}
    for key, value in dict(raw).items():
        name = key[len(prefix) :] if key.startswith(prefix) else key
        if value is not None and (name not in extra or not key.startswith(prefix)):
            extra[name] = value
    return extra


def _server(host: str, port: Optional[int]) -> str:
    host = host.strip().rstrip("/")
    if port:
        authority = host.split("://", 1)[-1]
        if ":" not in authority.rsplit("]", 1)[-1]:  # no port given in host (IPv6-safe)
            host = f"{host}:{int(port)}"
    return host


def _option(name: str, value: Any) -> Any:
    if name == "verify" and isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if name in ("timeout", "connect_timeout") and isinstance(value, str):
        return float(value)
    if name == "retries" and isinstance(value, str):
        return int(value)
    if name == "cache" and isinstance(value, str):
        return parse_cache(value)
    return value


def client_from_connection(connection: Any, **options: Any) -> Client:
    """A :class:`Client` from an Airflow ``Connection`` (see the module docstring for the
    fields). Keyword ``options`` go to ``Client`` and win over the connection's extras.

    Raises one :class:`ConfigurationError` naming every missing field (never a value).
    """
    extra = _extra(connection)
    conn_id = getattr(connection, "conn_id", None) or "?"
    missing: List[str] = []
    host = (getattr(connection, "host", None) or "").strip()
    login = (getattr(connection, "login", None) or "").strip()
    password = getattr(connection, "password", None) or ""
    if not host:
        missing.append("host (the Tableau server)")
    if not login:
        missing.append("login (the user to sign in as)")
    if not password:
        missing.append("password (the connected app's secret value)")
    for key, what in (("client_id", "client ID"), ("secret_id", "secret ID")):
        if not str(extra.get(key) or "").strip():
            missing.append(f"extra {key!r} (the connected app's {what})")
    scopes = parse_scopes(extra.get("scopes") or [])
    if not scopes:
        missing.append("extra 'scopes' (e.g. \"tableau:content:read\")")
    if missing:
        raise ConfigurationError(f"Airflow connection {conn_id!r} of type {CONNECTION_TYPE!r}: missing " + ", ".join(missing))

    from ._core import ConnectedApp

    app = ConnectedApp(
        client_id=str(extra["client_id"]).strip(), secret_id=str(extra["secret_id"]).strip(), secret_value=password
    )
    kwargs: Dict[str, Any] = {k: _option(k, extra[k]) for k in _OPTIONS if extra.get(k) not in (None, "")}
    kwargs.update(options)
    return Client(
        _server(host, getattr(connection, "port", None)),
        site=str(extra.get("site") or ""),
        credentials=app.credentials(login, scopes=scopes),
        **kwargs,
    )


class TableauConnectedAppHook(BaseHook):  # type: ignore[misc, unused-ignore]
    """An Airflow hook whose :meth:`get_conn` returns a :class:`~tableau_connected_auth.Client`
    signed in (lazily, once per process) with the connected app of an Airflow connection.

    :param tableau_conn_id: the Airflow connection ID (type ``tableau_connected_app``).
    :param connection: an Airflow ``Connection`` to use instead of looking ``tableau_conn_id`` up.
    :param client_options: more ``Client`` keyword arguments (e.g. ``timeout=60``); they win
        over the connection's extras.
    """

    conn_name_attr = "tableau_conn_id"
    default_conn_name = "tableau_connected_app_default"
    conn_type = CONNECTION_TYPE
    hook_name = HOOK_NAME

    def __init__(
        self, tableau_conn_id: str = default_conn_name, *, connection: Any = None, **client_options: Any
    ) -> None:
        super().__init__()
        self.tableau_conn_id = tableau_conn_id
        self._connection = connection
        self._client_options = client_options
        self._client: Optional[Client] = None

    def _get_connection(self) -> Any:
        if self._connection is None:
            self._connection = self.get_connection(self.tableau_conn_id)
        return self._connection

    def get_conn(self) -> Client:
        """The :class:`Client` for this connection (made once per hook; sessions are cached
        process-wide, so the first ``session()`` signs in and later ones reuse it)."""
        if self._client is None:
            self._client = client_from_connection(self._get_connection(), **self._client_options)
        return self._client

    def get_client(self) -> Client:
        """The same as :meth:`get_conn`."""
        return self.get_conn()

    def stats(self) -> Stats:
        """This worker process's counters (``tableau_connected_auth.stats()``): sign-ins by
        method and outcome, cache hits and misses, waits, 429s."""
        return stats()

    def log_stats(self) -> Stats:
        """Log this process's counters in one line on the task log (INFO), and return them:
        call it at the end of a task to see what the task cost Tableau."""
        counters = stats()
        self.log.info("tableau_connected_auth: %s", summary(counters))
        return counters

    def test_connection(self) -> Tuple[bool, str]:
        """Sign in and out once (the UI's "Test" button); returns ``(ok, message)``."""
        try:
            with client_from_connection(self._get_connection(), **self._client_options) as client:
                session = client.sign_in()
                return True, f"Signed in to site {session.site_content_url!r} of {session.server} (REST API {session.api_version})"
        except TableauAuthError as e:
            return False, f"{type(e).__name__}: {e}"
