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


def after_sign_in(client: tca.Client) -> int:
    names = [wb["name"] for wb in client.paginate("workbooks", page_size=1000)]
    data = client.graphql("{ workbooks { name } }")
    model = client.vds("read-metadata", "datasource-luid")
    definitions = list(client.pulse_paginate("definitions", page_size=50))
    need: tca.ScopeNeed = tca.scopes_for("GET", "workbooks")
    try:
        client.get("users")
    except tca.MissingScopeError as e:
        missing: list[str] = e.required_scopes
        return len(missing)
    except tca.MetadataApiError as e:
        return len(e.errors)
    return len(names) + len(data) + len(model) + len(definitions) + len(need.scopes)


async def after_sign_in_async(aclient: tca.AsyncClient) -> int:
    names = [wb["name"] async for wb in aclient.paginate("workbooks")]
    rows = await aclient.vds("query-datasource", "luid", query={"fields": [{"fieldCaption": "Region"}]})
    return len(names) + len(rows["data"])
