"""The ``tableau-auth`` command (also ``python -m tableau_connected_auth``).

Commands:
    jwt     mint one connected-app JWT and print it (for curl, embedding, debugging)
    token   sign in and print only the session token (for shell scripts); with
            ``--cloud-manager``, a Tableau Cloud Manager session token
    whoami  sign in, show the session (token masked) and the user and site from
            ``GET sessions/current``, then sign out; with ``--cloud-manager``, the Tableau Cloud
            Manager tenant and user the login answered
    demo    start a FakeTableau on 127.0.0.1, sign in with a connected app, show the masked
            session, list workbooks with it, sign out
    fake    run a FakeTableau on 127.0.0.1 and print the TABLEAU_* variables that point the
            other commands at it (``FakeTableau.environment()``: its connected app and its
            Tableau Cloud Manager PAT), until interrupted

All commands read the variables of ``Client.from_env()`` (TABLEAU_SERVER, TABLEAU_SITE,
TABLEAU_API_VERSION, TABLEAU_CLIENT_ID, TABLEAU_SECRET_ID, TABLEAU_SECRET_VALUE,
TABLEAU_USERNAME, TABLEAU_SCOPES, or TABLEAU_PAT_NAME and TABLEAU_PAT_SECRET); flags such as
``--server`` and ``--site`` win over them. With ``--cloud-manager`` they read the variables of
``CloudManagerClient.from_env()`` instead (TABLEAU_CLOUD_MANAGER_URL and
TABLEAU_CLOUD_MANAGER_PAT_SECRET, or the TABLEAU_UAT_* variables). Secrets are read from the environment only, never from
flags, which other users can see in the process list. ``--json`` prints one JSON object.
``--stats`` (``token``, ``whoami``) adds the counters of ``tableau_connected_auth.stats()``: one
line on stderr, or the key "stats" with ``--json``.

Exit codes: 0 success, 1 a Tableau or network error, 2 bad usage or configuration, 130
interrupted. Errors go to stderr without a traceback (as JSON with ``--json``). Only ``token`` and
``jwt`` print a secret, because that is what they are for; every other output masks tokens.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shlex
import signal
import sys
import time
import urllib.request
import xml.etree.ElementTree as ET
from types import FrameType
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

from . import Client, CloudManagerClient, CloudManagerSession, ConfigurationError, Session, TableauAuthError, stats
from ._stats import summary

__all__ = ["main", "EXIT_OK", "EXIT_ERROR", "EXIT_USAGE", "EXIT_INTERRUPTED"]

EXIT_OK = 0
"""Success."""
EXIT_ERROR = 1
"""Tableau refused or failed (sign-in error, API error, rate limit) or the network did."""
EXIT_USAGE = 2
"""Bad command line, or a missing or conflicting configuration."""
EXIT_INTERRUPTED = 130
"""Interrupted (Ctrl-C)."""

_NS = "{http://tableau.com/api}"


def _workbook_names(body: bytes) -> List[str]:
    root = ET.fromstring(body)
    return [w.get("name", "") for w in root.iter(f"{_NS}workbook")]


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, sort_keys=False))


def _print_result(args: argparse.Namespace, body: Dict[str, Any]) -> None:
    """The JSON object of ``--json`` (with the counters under "stats" for ``--stats``)."""
    if getattr(args, "stats", False):
        body = {**body, "stats": dict(stats())}
    _print_json(body)


def _print_stats(args: argparse.Namespace) -> None:
    """``--stats`` without ``--json``: the counters on stderr (stdout stays the command's)."""
    if getattr(args, "stats", False) and not args.json:
        print(f"tableau-auth: stats: {summary(stats())}", file=sys.stderr)


def _iso(session: Union[Session, CloudManagerSession]) -> Optional[str]:
    return session.expires_at.isoformat() if session.expires_at is not None else None


# --- configuration from flags and the environment ---------------------------------------------


def _overrides(args: argparse.Namespace, keys: Sequence[str]) -> Dict[str, Any]:
    return {k: getattr(args, k, None) for k in keys}


_CLIENT_FLAGS = ("server", "site", "api_version", "client_id", "secret_id", "username", "scopes", "pat_name")


_FLAGS_FIX = (
    "set these environment variables, or pass the matching flags (see tableau-auth COMMAND --help); "
    "secrets are read from the environment only"
)


def _client(args: argparse.Namespace) -> Client:
    from ._env import _client_arguments

    server, kwargs = _client_arguments(_overrides(args, _CLIENT_FLAGS), _FLAGS_FIX)
    if args.timeout is not None:
        kwargs["timeout"] = args.timeout
    return Client(server, **kwargs)


_SITE_ONLY_FLAGS = ("site", "api_version", "client_id", "secret_id")


def _cloud_manager_client(args: argparse.Namespace) -> CloudManagerClient:
    from ._env import cloud_manager_arguments

    given = [f"--{k.replace('_', '-')}" for k in _SITE_ONLY_FLAGS if getattr(args, k, None) is not None]
    if given:
        raise ConfigurationError(
            ", ".join(given) + " cannot be used with --cloud-manager: Tableau Cloud Manager has no site, "
            "API version or connected app"
        )
    server, kwargs = cloud_manager_arguments(**_overrides(args, ("server", "pat_name", "username", "scopes")))
    if args.timeout is not None:
        kwargs["timeout"] = args.timeout
    return CloudManagerClient(server, **kwargs)


def _cloud_manager_fields(session: CloudManagerSession) -> Dict[str, Any]:
    return {
        "server": session.server,
        "tenant_id": session.tenant_id,
        "user_id": session.user_id,
        "expires_at": _iso(session),
    }


# --- commands -----------------------------------------------------------------------------------


def _jwt(args: argparse.Namespace) -> int:
    from ._env import _connected_app_arguments

    app, username, scopes = _connected_app_arguments(
        _overrides(args, ("client_id", "secret_id", "username", "scopes")), _FLAGS_FIX
    )
    attributes: Dict[str, List[str]] = {}
    for item in args.attribute or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigurationError(f"--attribute takes KEY=VALUE; got {key!r} without '='")
        attributes.setdefault(key, []).append(value)
    user_attributes = {k: v[0] if len(v) == 1 else v for k, v in attributes.items()}
    token = app.jwt(
        username,
        scopes=scopes,
        lifetime=args.lifetime,
        user_attributes=user_attributes or None,
        groups=args.group,
        on_demand_access=args.on_demand_access,
    )
    if args.json:
        _print_json({"jwt": token, "header": _jwt_part(token, 0), "claims": _jwt_part(token, 1)})
    else:
        print(token)
    return EXIT_OK


def _jwt_part(token: str, index: int) -> Any:
    part = token.split(".")[index]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def _token(args: argparse.Namespace) -> int:
    if args.cloud_manager:
        tcm = _cloud_manager_client(args).session()
        token, fields = tcm.token, _cloud_manager_fields(tcm)
    else:
        session = _client(args).session()
        token, fields = session.token, _session_fields(session)
    if args.json:
        _print_result(args, {"token": token, **fields})
    else:
        print(token)
    _print_stats(args)
    return EXIT_OK


def _session_fields(session: Session) -> Dict[str, Any]:
    return {
        "server": session.server,
        "api_version": session.api_version,
        "site": session.site_content_url,
        "site_id": session.site_id,
        "user_id": session.user_id,
        "expires_at": _iso(session),
    }


def _whoami_cloud_manager(args: argparse.Namespace) -> int:
    with _cloud_manager_client(args) as client:
        session = client.session()
        if args.json:
            _print_result(args, _cloud_manager_fields(session))
        else:
            print(f"server:   {session.server} (Tableau Cloud Manager)")
            print(f"tenant:   {session.tenant_id}")
            print(f"user:     {session.user_id}")
            print(f"session:  {session!r}")
            print(f"expires:  {_iso(session) or 'unknown'}")
    _print_stats(args)
    return EXIT_OK


def _whoami(args: argparse.Namespace) -> int:
    if args.cloud_manager:
        return _whoami_cloud_manager(args)
    with _client(args) as client:
        session = client.session()
        # Read (XML or JSON) by the Rust core's parser; raises the typed errors.
        current = client.get(f"/api/{session.api_version}/sessions/current").current_session()
        if args.json:
            _print_result(
                args,
                {
                    **_session_fields(session),
                    "site": {"id": current.site_id, "name": current.site_name, "content_url": current.site_content_url},
                    "user": {"id": current.user_id, "name": current.user_name, "site_role": current.user_site_role},
                }
            )
        else:
            print(f"server:   {session.server} (REST API {session.api_version})")
            print(f"site:     {current.site_name or '?'} (contentUrl {json.dumps(current.site_content_url)}, id {current.site_id})")
            print(f"user:     {current.user_name or '?'} ({current.user_site_role or '?'}, id {current.user_id})")
            print(f"session:  {session!r}")
            print(f"expires:  {_iso(session) or 'unknown'}")
    _print_stats(args)
    return EXIT_OK


def _demo(args: argparse.Namespace) -> int:
    from .testing import FakeTableau

    text = not args.json
    out = sys.stdout
    report: Dict[str, Any] = {}
    with FakeTableau() as tableau:
        if text:
            print(f"FakeTableau (a stand-in for Tableau) is listening on {tableau.url}", file=out)
        app = tableau.connected_app
        if text:
            print(f"connected app: {app!r}", file=out)
        credentials = app.credentials(tableau.username, scopes=["tableau:content:read"])
        with Client(tableau.url, site=tableau.site, credentials=credentials, wire_format=args.wire_format) as client:
            session = client.session()
            if text:
                print(f"signed in:     {session!r}", file=out)
            again = client.session()
            if text:
                print(f"cached:        the second session() call reused it: {again is session}", file=out)
            request = urllib.request.Request(session.url("workbooks"), headers=session.headers)
            with urllib.request.urlopen(request, timeout=10) as response:
                names = _workbook_names(response.read())
            if text:
                print(f"workbooks:     GET {session.url('workbooks')} -> {', '.join(names)}", file=out)
            client.sign_out()
            alive = tableau.is_session_alive(session.token)
            if text:
                print(f"signed out:    the token is {'still alive' if alive else 'dead'} on the server", file=out)
        stats = tableau.stats()
        saw = {k: stats[k] for k in ("sign_ins", "sign_outs", "workbooks", "requests")}
        if text:
            print("server saw:    " + json.dumps(saw), file=out)
        else:
            report = {
                "fake_tableau": tableau.url,
                "connected_app": repr(app),
                "signed_in": repr(session),
                "cached": again is session,
                "workbooks": names,
                "signed_out": not alive,
                "server_saw": saw,
            }
            _print_json(report)
    return EXIT_OK


def _fake(args: argparse.Namespace) -> int:
    from .testing import FakeTableau

    def stop(signum: int, frame: Optional[FrameType]) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    with FakeTableau() as tableau:
        env = tableau.environment()
        text = (
            json.dumps(env, indent=2) + "\n"
            if args.json
            else "".join(f"export {k}={shlex.quote(v)}\n" for k, v in env.items())
        )
        if args.env_file:
            partial = args.env_file + ".partial"
            with open(partial, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(partial, args.env_file)  # appears whole: a waiting script never reads half
        else:
            sys.stdout.write(text)
            sys.stdout.flush()
        print(f"FakeTableau is listening on {tableau.url}; stop it with Ctrl-C", file=sys.stderr)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            if args.env_file:
                try:
                    os.remove(args.env_file)
                except FileNotFoundError:
                    pass
    return EXIT_OK


# --- the parser ---------------------------------------------------------------------------------


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print one JSON object")
    return common


def _app_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("connected app (secret value from TABLEAU_SECRET_VALUE)")
    group.add_argument("--client-id", metavar="ID", help="connected app client ID [TABLEAU_CLIENT_ID]")
    group.add_argument("--secret-id", metavar="ID", help="connected app secret ID [TABLEAU_SECRET_ID]")
    group.add_argument("--username", metavar="NAME", help="user to sign in as [TABLEAU_USERNAME]")
    group.add_argument("--scopes", metavar="SCOPES", help="scopes, comma or space separated [TABLEAU_SCOPES]")


def _server_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("server")
    group.add_argument("--server", metavar="URL", help="Tableau server or pod [TABLEAU_SERVER]")
    group.add_argument("--site", metavar="CONTENT_URL", help='site contentUrl, "" for the default site [TABLEAU_SITE]')
    group.add_argument("--api-version", metavar="V", help="REST API version or 'auto' [TABLEAU_API_VERSION]")
    group.add_argument("--timeout", type=float, metavar="SECONDS", help="request timeout (default 30)")
    _app_flags(parser)
    pat = parser.add_argument_group("or a personal access token (secret from TABLEAU_PAT_SECRET)")
    pat.add_argument("--pat-name", metavar="NAME", help="personal access token name [TABLEAU_PAT_NAME]")
    tcm = parser.add_argument_group(
        "Tableau Cloud Manager (secret from TABLEAU_CLOUD_MANAGER_PAT_SECRET, or the TABLEAU_UAT_* variables)"
    )
    tcm.add_argument(
        "--cloud-manager",
        action="store_true",
        help="sign in to Tableau Cloud Manager instead of a site; --server is then its address "
        "[TABLEAU_CLOUD_MANAGER_URL, default https://cloudmanager.tableau.com] and --pat-name the "
        "TCM token's name [TABLEAU_CLOUD_MANAGER_PAT_NAME]",
    )


def _stats_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stats",
        action="store_true",
        help="also show this process's counters (sign-ins, cache hits and misses, waits, 429s): "
        'on stderr, or under "stats" with --json',
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tableau-auth",
        description="Sign in to the Tableau REST API with Connected Apps.",
        epilog="Exit codes: 0 ok, 1 Tableau or network error, 2 usage or configuration error, 130 interrupted.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    common = _common()

    jwt = commands.add_parser("jwt", parents=[common], help="mint a connected-app JWT and print it")
    _app_flags(jwt)
    jwt.add_argument("--lifetime", type=float, metavar="SECONDS", help="seconds until exp (at most 600)")
    jwt.add_argument("--attribute", action="append", metavar="KEY=VALUE", help="a user attribute claim (repeatable)")
    jwt.add_argument(
        "--on-demand-access",
        action="store_true",
        help="on-demand access: Tableau makes the user on the site when they sign in (claim https://tableau.com/oda)",
    )
    jwt.add_argument(
        "--group", action="append", metavar="NAME", help="a group the user joins with on-demand access (repeatable)"
    )
    jwt.set_defaults(run=_jwt)

    token = commands.add_parser("token", parents=[common], help="sign in and print only the session token")
    _server_flags(token)
    _stats_flag(token)
    token.set_defaults(run=_token)

    whoami = commands.add_parser("whoami", parents=[common], help="sign in, show who and where (token masked), sign out")
    _server_flags(whoami)
    _stats_flag(whoami)
    whoami.set_defaults(run=_whoami)

    demo = commands.add_parser("demo", parents=[common], help="sign in to a built-in FakeTableau and show what happens")
    demo.add_argument("--wire-format", choices=["xml", "json"], default="xml")
    demo.set_defaults(run=_demo)

    fake = commands.add_parser("fake", parents=[common], help="run a FakeTableau and print TABLEAU_* variables for it")
    fake.add_argument("--env-file", metavar="PATH", help="write the variables to PATH (removed on exit), not stdout")
    fake.set_defaults(run=_fake)
    return parser


def _report(error: TableauAuthError, as_json: bool) -> None:
    if as_json:
        fields = {k: getattr(error, k, None) for k in ("status", "code", "subcode", "summary", "detail", "hint")}
        print(json.dumps({"error": type(error).__name__, "message": str(error), **fields}), file=sys.stderr)
        return
    label = "configuration error" if isinstance(error, ConfigurationError) else type(error).__name__
    print(f"tableau-auth: {label}: {error}", file=sys.stderr)
    if error.hint and error.hint not in str(error):
        print(f"tableau-auth: hint: {error.hint}", file=sys.stderr)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line; returns the exit code (see the module docstring)."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit:  # argparse: --help (0) or a usage error (2, message on stderr)
        return EXIT_OK if exit.code in (0, None) else EXIT_USAGE
    run: Optional[Callable[[argparse.Namespace], int]] = getattr(args, "run", None)
    if run is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    as_json = bool(getattr(args, "json", False))
    try:
        return int(run(args))
    except ConfigurationError as e:
        _report(e, as_json)
        return EXIT_USAGE
    except TableauAuthError as e:
        _report(e, as_json)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("tableau-auth: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. `tableau-auth jwt | head -c 10`
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
