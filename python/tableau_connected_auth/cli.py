"""The ``tableau-auth`` command (also ``python -m tableau_connected_auth``).

Commands:
    demo    start a FakeTableau on 127.0.0.1, sign in with a connected app, show the masked
            session, list workbooks with it, sign out.

Exit codes: 0 success, 1 a Tableau or network error, 2 bad usage or configuration.
Errors go to stderr without a traceback. Default output never shows a secret or token.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request
import xml.etree.ElementTree as ET
from typing import List, Optional, Sequence

from . import Client, ConfigurationError, TableauAuthError

_NS = "{http://tableau.com/api}"


def _workbook_names(body: bytes) -> List[str]:
    root = ET.fromstring(body)
    return [w.get("name", "") for w in root.iter(f"{_NS}workbook")]


def _demo(args: argparse.Namespace) -> int:
    from .testing import FakeTableau

    out = sys.stdout
    with FakeTableau() as tableau:
        print(f"FakeTableau (a stand-in for Tableau) is listening on {tableau.url}", file=out)
        app = tableau.connected_app
        print(f"connected app: {app!r}", file=out)
        credentials = app.credentials(tableau.username, scopes=["tableau:content:read"])
        with Client(tableau.url, site=tableau.site, credentials=credentials, wire_format=args.wire_format) as client:
            session = client.session()
            print(f"signed in:     {session!r}", file=out)
            again = client.session()
            print(f"cached:        the second session() call reused it: {again is session}", file=out)
            request = urllib.request.Request(session.url("workbooks"), headers=session.headers)
            with urllib.request.urlopen(request, timeout=10) as response:
                names = _workbook_names(response.read())
            print(f"workbooks:     GET {session.url('workbooks')} -> {', '.join(names)}", file=out)
            client.sign_out()
            alive = tableau.is_session_alive(session.token)
            print(f"signed out:    the token is {'still alive' if alive else 'dead'} on the server", file=out)
        stats = tableau.stats()
        print(
            "server saw:    "
            + json.dumps({k: stats[k] for k in ("sign_ins", "sign_outs", "workbooks", "requests")}),
            file=out,
        )
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tableau-auth",
        description="Sign in to the Tableau REST API with Connected Apps.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser("demo", help="sign in to a built-in FakeTableau and show what happens")
    demo.add_argument("--wire-format", choices=["xml", "json"], default="xml")
    demo.set_defaults(run=_demo)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.run(args))
    except ConfigurationError as e:
        print(f"tableau-auth: {e}", file=sys.stderr)
        return 2
    except TableauAuthError as e:
        print(f"tableau-auth: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("tableau-auth: interrupted", file=sys.stderr)
        return 130
