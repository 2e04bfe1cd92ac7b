"""Checked with mypy --strict in CI: the typed surface a user writes against."""

from __future__ import annotations

from typing import Dict, Optional

import tableau_connected_auth as tca


def list_workbooks_url(server: str, client_id: str, secret_id: str, secret_value: str) -> str:
    app = tca.ConnectedApp(client_id=client_id, secret_id=secret_id, secret_value=secret_value)
    creds = app.credentials("me@example.com", scopes=["tableau:content:read"], lifetime=300)
    with tca.Client(server, site="mysite", credentials=creds, timeout=10.0) as client:
        s: tca.Session = client.session()
        headers: Dict[str, str] = s.headers
        assert headers["X-Tableau-Auth"]
        url: str = s.url("workbooks")
        client.invalidate(s)
        return url


def describe(error: tca.TableauAuthError) -> Optional[str]:
    if isinstance(error, tca.SignInError):
        return error.hint
    if isinstance(error, tca.RateLimitedError):
        return str(error.retry_after)
    return error.code
