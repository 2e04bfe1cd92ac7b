"""Client configuration from environment variables, for ``Client.from_env()``,
``AsyncClient.from_env()``, ``CloudManagerClient.from_env()`` and the ``tableau-auth`` command.

The variables and what each means are the tables below (:data:`SITE_VARIABLES`,
:data:`CLOUD_MANAGER_VARIABLE_TABLE`, :data:`OTHER_VARIABLES`); the documentation's
"Environment variables" page is generated from them.

Exactly one sign-in method must be complete. Keyword overrides (``server=``, ``site=``,
``api_version=``, ``username=``, ``scopes=``, ``client_id=``, ``secret_id=``, ``secret_value=``,
``pat_name=``, ``pat_secret=``, or ready-made ``credentials=``) win over the environment; an
override of ``None`` counts as not given. Any other keyword goes to the ``Client`` unchanged.

Every problem is reported at once, in one :class:`ConfigurationError` that names the variables
(never their values).
"""

from __future__ import annotations

import os
import re
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from ._core import ConnectedApp, DiskCache, PersonalAccessToken, RedisCache, UnifiedAccessToken
from .exceptions import ConfigurationError

__all__ = [
    "client_arguments",
    "cloud_manager_arguments",
    "connected_app_arguments",
    "parse_cache",
    "parse_scopes",
    "ENVIRONMENT_VARIABLES",
    "CLOUD_MANAGER_VARIABLES",
    "SITE_VARIABLES",
    "CLOUD_MANAGER_VARIABLE_TABLE",
    "OTHER_VARIABLES",
]


#: ``(keyword, variable, meaning)`` for ``Client.from_env()``: the keyword argument that
#: overrides the variable, the variable, and what it holds.
SITE_VARIABLES: Tuple[Tuple[str, str, str], ...] = (
    ("server", "TABLEAU_SERVER", "The server or Tableau Cloud pod, e.g. `https://10ay.online.tableau.com`."),
    ("site", "TABLEAU_SITE", "The site's contentUrl (as in `/#/site/<contentUrl>/`); an empty value is the default site."),
    ("api_version", "TABLEAU_API_VERSION", "Optional: the REST API version, e.g. `3.24`, or `auto` to ask the server."),
    ("client_id", "TABLEAU_CLIENT_ID", "Connected app: its client ID."),
    ("secret_id", "TABLEAU_SECRET_ID", "Connected app: the ID of one of its secrets."),
    ("secret_value", "TABLEAU_SECRET_VALUE", "Connected app: that secret's value."),
    ("username", "TABLEAU_USERNAME", "Connected app: the user to sign in as."),
    ("scopes", "TABLEAU_SCOPES", "Connected app: the scopes, separated by commas or spaces."),
    ("pat_name", "TABLEAU_PAT_NAME", "Or a personal access token: its name."),
    ("pat_secret", "TABLEAU_PAT_SECRET", "The personal access token's secret."),
    (
        "cache",
        "TABLEAU_CACHE",
        "Optional: where sessions are cached. `memory` (the default), `disk`, `disk:/some/dir`, "
        "a Redis URL (`redis://host:6379/0`, `rediss://`, a Redis Cluster "
        "`redis+cluster://h1:6379,h2:6379`, Sentinel `redis+sentinel://h1:26379,h2:26379/mymaster/0`), "
        "or `none`. Also read by `CloudManagerClient.from_env()`.",
    ),
)

#: Keyword override -> environment variable (without ``TABLEAU_CACHE``, which ``cache=``
#: replaces).
ENVIRONMENT_VARIABLES: Dict[str, str] = {k: name for k, name, _ in SITE_VARIABLES if k != "cache"}

_APP_KEYS = ("client_id", "secret_id", "secret_value", "username", "scopes")
_APP_OWN_KEYS = ("client_id", "secret_id", "secret_value")  # what only a connected app uses
_PAT_KEYS = ("pat_name", "pat_secret")
_CREDENTIAL_KEYS = _APP_KEYS + _PAT_KEYS

_KEYWORDS_FIX = "set these environment variables, or pass the matching keyword arguments ({})"


def parse_scopes(value: Union[str, Sequence[str]]) -> List[str]:
    """Scopes from ``"a,b c"`` (commas and/or whitespace) or a list; empty items are dropped."""
    items = re.split(r"[,\s]+", value) if isinstance(value, str) else list(value)
    return [s.strip() for s in items if s and s.strip()]


#: The URL schemes ``RedisCache`` takes: one server, a Redis Cluster, Sentinel (each with TLS).
_REDIS_SCHEMES = (
    "redis://", "rediss://", "redis+unix://", "unix://",
    "redis+cluster://", "rediss+cluster://", "redis+sentinel://", "rediss+sentinel://",
)


def parse_cache(value: str) -> Union[str, DiskCache, RedisCache, None]:
    """The ``cache=`` argument from a setting (``TABLEAU_CACHE``, an Airflow extra): ``memory``,
    ``disk``, ``disk:/some/dir``, a Redis URL (``redis://``, ``rediss://``, ``redis+unix://``,
    ``redis+cluster://``, ``redis+sentinel://``, and the last two with ``rediss+``), or ``none``."""
    text = value.strip()
    lowered = text.lower()
    if lowered in ("", "memory"):
        return "memory"
    if lowered in ("none", "off"):
        return None
    if lowered == "disk":
        return DiskCache()
    if lowered.startswith("disk:"):
        return DiskCache(text[len("disk:"):])
    if lowered.startswith(_REDIS_SCHEMES):
        return RedisCache(text)
    raise ConfigurationError(
        "the cache setting must be memory, disk, disk:/some/dir, a Redis URL (redis://, rediss://, "
        "redis+cluster://, redis+sentinel://), or none"
    )


class _Settings:
    """Overrides layered over the environment, remembering where each value came from."""

    def __init__(self, overrides: Mapping[str, Any], environ: Mapping[str, str]) -> None:
        self.overrides = {k: v for k, v in overrides.items() if k in ENVIRONMENT_VARIABLES and v is not None}
        self.environ = environ

    def env(self, key: str) -> Optional[str]:
        value = self.environ.get(ENVIRONMENT_VARIABLES[key])
        if value is None:
            return None
        if key != "site":  # TABLEAU_SITE="" means the default site; elsewhere empty means unset
            value = value.strip()
        return value if value or key == "site" else None

    def get(self, key: str, *, from_env: bool = True) -> Any:
        if key in self.overrides:
            return self.overrides[key]
        return self.env(key) if from_env else None

    def given(self, key: str) -> bool:
        return self.get(key) is not None

    @staticmethod
    def name(key: str) -> str:
        return ENVIRONMENT_VARIABLES[key]


def _problem_message(what: str, missing: List[str], conflicts: List[str], keys: Sequence[str], fix: Optional[str]) -> str:
    lines = [f"cannot configure {what}:"]
    if missing:
        lines.append("  missing: " + ", ".join(missing))
    lines.extend("  conflicting: " + c for c in conflicts)
    lines.append("  " + (fix or _KEYWORDS_FIX.format(", ".join(f"{k}=" for k in keys))))
    return "\n".join(lines)


def _connected_app_pieces(settings: _Settings, missing: List[str]) -> Optional[Tuple[ConnectedApp, str, List[str]]]:
    values = {k: settings.get(k) for k in _APP_KEYS}
    for key in _APP_KEYS:
        if values[key] is None:
            missing.append(settings.name(key))
    scopes: List[str] = []
    if values["scopes"] is not None:
        scopes = parse_scopes(values["scopes"])
        if not scopes:
            missing.append(settings.name("scopes") + " (it holds no scope)")
    if any(values[k] is None for k in _APP_KEYS) or not scopes:
        return None
    app = ConnectedApp(
        client_id=str(values["client_id"]), secret_id=str(values["secret_id"]), secret_value=str(values["secret_value"])
    )
    return app, str(values["username"]), scopes


def _credentials(settings: _Settings, overrides: Mapping[str, Any], missing: List[str], conflicts: List[str]) -> Any:
    given_fields = [k for k in _CREDENTIAL_KEYS if k in settings.overrides]
    if overrides.get("credentials") is not None:
        if given_fields:
            conflicts.append(
                "credentials= with " + ", ".join(f"{k}=" for k in given_fields) + ": pass the credentials or their parts"
            )
        return overrides["credentials"]

    # Keyword overrides pick the method; the environment's variables of the other method are
    # then ignored. Without such an override, the environment must hold exactly one method.
    app_override = [k for k in _APP_KEYS if k in settings.overrides]
    pat_override = [k for k in _PAT_KEYS if k in settings.overrides]
    if app_override and pat_override:
        conflicts.append(
            ", ".join(f"{k}=" for k in app_override)
            + " (connected app) with "
            + ", ".join(f"{k}=" for k in pat_override)
            + " (personal access token): choose one sign-in method"
        )
        return None
    if app_override:
        method = "app"
    elif pat_override:
        method = "pat"
    else:
        app_env = [settings.name(k) for k in _APP_KEYS if settings.env(k) is not None]
        app_own_env = [settings.name(k) for k in _APP_OWN_KEYS if settings.env(k) is not None]
        pat_env = [settings.name(k) for k in _PAT_KEYS if settings.env(k) is not None]
        if pat_env and app_own_env:
            conflicts.append(
                ", ".join(app_own_env)
                + " (connected app) with "
                + ", ".join(pat_env)
                + " (personal access token): unset one sign-in method"
            )
            return None
        if pat_env and app_env:
            conflicts.append(
                ", ".join(app_env)
                + " with "
                + ", ".join(pat_env)
                + ": a personal access token signs in as its owner with its own scopes;"
                " unset " + " and ".join(app_env) + ", or use a connected app"
            )
            return None
        if not pat_env and not app_env:
            missing.append(
                "a sign-in method: either "
                + ", ".join(settings.name(k) for k in _APP_KEYS)
                + " (connected app), or "
                + ", ".join(settings.name(k) for k in _PAT_KEYS)
                + " (personal access token)"
            )
            return None
        method = "pat" if pat_env else "app"

    if method == "pat":
        name, secret = settings.get("pat_name"), settings.get("pat_secret")
        for key, value in (("pat_name", name), ("pat_secret", secret)):
            if value is None:
                missing.append(settings.name(key))
        if name is None or secret is None:
            return None
        return PersonalAccessToken(str(name), str(secret))

    pieces = _connected_app_pieces(settings, missing)
    if pieces is None:
        return None
    app, username, scopes = pieces
    return app.credentials(username, scopes=scopes)


def _client_keywords(overrides: Mapping[str, Any], variables: Mapping[str, str]) -> Dict[str, Any]:
    """The overrides that go to the client unchanged (not those of ``variables``, nor
    ``credentials=``), and ``cache`` from ``TABLEAU_CACHE`` unless ``cache=`` is given."""
    kwargs: Dict[str, Any] = {
        k: v for k, v in overrides.items() if k not in variables and k != "credentials" and v is not None
    }
    if "cache" in overrides:  # cache=None means "no caching", not "not given"
        kwargs["cache"] = overrides["cache"]
    elif os.environ.get("TABLEAU_CACHE", "").strip():
        kwargs["cache"] = parse_cache(os.environ["TABLEAU_CACHE"])
    return kwargs


def client_arguments(**overrides: Any) -> Tuple[str, Dict[str, Any]]:
    """``(server, kwargs)`` for ``Client(server, **kwargs)``, from the environment and overrides.

    Raises one :class:`ConfigurationError` naming every missing or conflicting variable.
    """
    return _client_arguments(overrides, None)


def _client_arguments(overrides: Mapping[str, Any], fix: Optional[str]) -> Tuple[str, Dict[str, Any]]:
    settings = _Settings(overrides, os.environ)
    missing: List[str] = []
    conflicts: List[str] = []

    server = settings.get("server")
    if server is None:
        missing.append(settings.name("server"))
    site = settings.get("site")
    if site is None:
        missing.append(settings.name("site") + ' (the site\'s contentUrl; "" for the default site)')
    credentials = _credentials(settings, overrides, missing, conflicts)
    if missing or conflicts:
        raise ConfigurationError(
            _problem_message(
                "a Client from the environment", missing, conflicts, ["server", "site", *_CREDENTIAL_KEYS], fix
            )
        )

    kwargs = _client_keywords(overrides, ENVIRONMENT_VARIABLES)
    kwargs["site"] = site
    kwargs["credentials"] = credentials
    api_version = settings.get("api_version")
    if api_version is not None:
        kwargs["api_version"] = api_version
    return str(server), kwargs


def connected_app_arguments(**overrides: Any) -> Tuple[ConnectedApp, str, List[str]]:
    """``(app, username, scopes)`` from ``TABLEAU_CLIENT_ID``, ``TABLEAU_SECRET_ID``,
    ``TABLEAU_SECRET_VALUE``, ``TABLEAU_USERNAME`` and ``TABLEAU_SCOPES`` (overrides win), for
    minting a JWT without a server. Raises one :class:`ConfigurationError` naming what is missing.
    """
    return _connected_app_arguments(overrides, None)


def _connected_app_arguments(overrides: Mapping[str, Any], fix: Optional[str]) -> Tuple[ConnectedApp, str, List[str]]:
    settings = _Settings(overrides, os.environ)
    missing: List[str] = []
    pieces = _connected_app_pieces(settings, missing)
    if pieces is None:
        raise ConfigurationError(
            _problem_message("a connected app from the environment", missing, [], _APP_KEYS, fix)
        )
    return pieces


#: ``(keyword, variable, meaning)`` for ``CloudManagerClient.from_env()``.
CLOUD_MANAGER_VARIABLE_TABLE: Tuple[Tuple[str, str, str], ...] = (
    ("server", "TABLEAU_CLOUD_MANAGER_URL", "Optional: Tableau Cloud Manager's address; `https://cloudmanager.tableau.com` by default."),
    ("pat_secret", "TABLEAU_CLOUD_MANAGER_PAT_SECRET", "A personal access token made in Tableau Cloud Manager (its secret)."),
    ("pat_name", "TABLEAU_CLOUD_MANAGER_PAT_NAME", "Optional: its name. TCM's login sends only the secret; the name is for messages."),
    ("uat_issuer", "TABLEAU_UAT_ISSUER", "Or a unified access token configuration: its issuer."),
    ("uat_key_id", "TABLEAU_UAT_KEY_ID", "The configuration's key ID."),
    ("uat_private_key_file", "TABLEAU_UAT_PRIVATE_KEY_FILE", "The PEM file of its private key."),
    ("uat_tenant_id", "TABLEAU_UAT_TENANT_ID", "The tenant ID."),
    ("uat_username_claim", "TABLEAU_UAT_USERNAME_CLAIM", "Optional: the username claim (`email` by default)."),
    ("username", "TABLEAU_USERNAME", "The user to sign in as (with a unified access token)."),
    ("scopes", "TABLEAU_SCOPES", "The scopes (`tableau:tcm_*`), separated by commas or spaces."),
)

#: Keyword override -> environment variable, for Tableau Cloud Manager.
CLOUD_MANAGER_VARIABLES: Dict[str, str] = {k: name for k, name, _ in CLOUD_MANAGER_VARIABLE_TABLE}

#: ``(variables, meaning)``: what every client reads from the environment, whatever made it.
OTHER_VARIABLES: Tuple[Tuple[Tuple[str, ...], str], ...] = (
    (
        ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"),
        "A CA bundle (PEM) to trust when no `ca_bundle=` (or `verify=` path) is given and "
        "`verify` is not False: the first one set is used, as requests and curl do.",
    ),
    (
        ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY"),
        "The proxy (names in upper or lower case), when `proxy=` is not given; on macOS and "
        "Windows the system's proxy settings fill in what these leave unset. `HTTP_PROXY` is "
        "ignored when `REQUEST_METHOD` is set (CGI).",
    ),
    (
        ("XDG_CACHE_HOME", "HOME", "LOCALAPPDATA"),
        "Where `DiskCache()` keeps sessions when no directory is given: "
        "`$XDG_CACHE_HOME/tableau_connected_auth`, else `~/.cache/tableau_connected_auth`; on "
        "Windows `%LOCALAPPDATA%\\tableau_connected_auth`.",
    ),
)

_UAT_KEYS = ("uat_issuer", "uat_key_id", "uat_private_key_file", "uat_tenant_id", "username", "scopes")
_TCM_PAT_DEFAULT_NAME = "cloud-manager-pat"


def cloud_manager_arguments(**overrides: Any) -> Tuple[str, Dict[str, Any]]:
    """``(server, kwargs)`` for ``CloudManagerClient(server, **kwargs)``, from the
    ``TABLEAU_CLOUD_MANAGER_*`` / ``TABLEAU_UAT_*`` variables and overrides (which win; an
    override of ``None`` counts as not given, and ``credentials=`` replaces them all). Exactly one
    sign-in method: a TCM personal access token or a unified access token. Raises one
    :class:`ConfigurationError` naming every missing or conflicting variable (never a value).
    """
    environ = os.environ
    given = {k: v for k, v in overrides.items() if k in CLOUD_MANAGER_VARIABLES and v is not None}

    def get(key: str) -> Optional[str]:
        if key in given:
            return str(given[key])
        value = environ.get(CLOUD_MANAGER_VARIABLES[key], "").strip()
        return value or None

    missing: List[str] = []
    conflicts: List[str] = []
    credentials = overrides.get("credentials")
    uat_given = [k for k in _UAT_KEYS if k not in ("username", "scopes") and get(k) is not None]
    if credentials is None:
        if get("pat_secret") is not None and uat_given:
            conflicts.append(
                CLOUD_MANAGER_VARIABLES["pat_secret"]
                + " (personal access token) with "
                + ", ".join(CLOUD_MANAGER_VARIABLES[k] for k in uat_given)
                + " (unified access token): choose one sign-in method"
            )
        elif get("pat_secret") is not None:
            credentials = PersonalAccessToken(get("pat_name") or _TCM_PAT_DEFAULT_NAME, str(get("pat_secret")))
        elif uat_given:
            values = {k: get(k) for k in _UAT_KEYS}
            missing.extend(CLOUD_MANAGER_VARIABLES[k] for k in _UAT_KEYS if values[k] is None)
            scopes = parse_scopes(values["scopes"] or "")
            if values["scopes"] is not None and not scopes:
                missing.append(CLOUD_MANAGER_VARIABLES["scopes"] + " (it holds no scope)")
            if not missing:
                key_file = str(values["uat_private_key_file"])
                try:
                    with open(key_file, encoding="utf-8") as f:
                        pem = f.read()
                except OSError as e:
                    raise ConfigurationError(
                        f"{CLOUD_MANAGER_VARIABLES['uat_private_key_file']} cannot be read ({e.strerror})"
                    ) from None
                uat = UnifiedAccessToken(
                    issuer=str(values["uat_issuer"]),
                    key_id=str(values["uat_key_id"]),
                    private_key=pem,
                    tenant_id=str(values["uat_tenant_id"]),
                    username_claim=get("uat_username_claim") or "email",
                )
                credentials = uat.credentials(str(values["username"]), scopes=scopes)
        else:
            missing.append(
                "a sign-in method: either "
                + CLOUD_MANAGER_VARIABLES["pat_secret"]
                + " (a personal access token made in Tableau Cloud Manager), or "
                + ", ".join(CLOUD_MANAGER_VARIABLES[k] for k in _UAT_KEYS)
                + " (unified access token)"
            )
    if missing or conflicts:
        raise ConfigurationError(
            _problem_message(
                "a CloudManagerClient from the environment",
                missing,
                conflicts,
                list(CLOUD_MANAGER_VARIABLES),
                None,
            )
        )
    kwargs = _client_keywords(overrides, CLOUD_MANAGER_VARIABLES)
    kwargs["credentials"] = credentials
    return get("server") or "https://cloudmanager.tableau.com", kwargs
