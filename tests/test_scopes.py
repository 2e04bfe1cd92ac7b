"""Scopes that explain themselves: a missing scope is told apart from a dead session.

Tableau answers a call outside a connected-app JWT's scopes with 401002, exactly like a dead
session. FakeTableau enforces scopes per endpoint with a table of its own (crates/fake/src/
scopes.rs), so these tests fail if the client guesses the scope wrong or loops.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import warnings

import pytest

import tableau_connected_auth as tca
from tableau_connected_auth.testing import FakeTableau
from bursts import errors_of_a_burst

EMBED_ONLY = ["tableau:views:embed"]


def test_a_missing_scope_signs_in_once_then_names_the_scope(fake: FakeTableau) -> None:
    client = fake.client(scopes=EMBED_ONLY)
    with pytest.raises(tca.MissingScopeError) as info:
        client.get("workbooks")
    e = info.value
    assert isinstance(e, tca.TableauApiError)
    assert e.status == 401 and e.code == "401002"
    assert e.required_scopes == ["tableau:content:read", "tableau:workbooks:read"]
    assert e.requested_scopes == EMBED_ONLY
    assert e.api == "REST API" and e.since
    assert "tableau:content:read" in str(e) and "tableau:views:embed" in str(e)
    assert "add one to scopes" in (e.hint or "")
    # The first sign-in, and one more after the first 401002.
    assert fake.stats()["sign_ins"] == 2
    # Remembered: the next call of that family raises at once, without signing in.
    with pytest.raises(tca.MissingScopeError):
        client.get("workbooks", params={"pageSize": "5"})
    assert fake.stats()["sign_ins"] == 2


def test_fifty_threads_missing_a_scope_cause_at_most_one_re_sign_in(fake: FakeTableau) -> None:
    client = fake.client(scopes=EMBED_ONLY)
    client.session()
    errors = errors_of_a_burst(50, lambda: client.get("workbooks"))
    assert len(errors) == 50
    assert all(isinstance(e, tca.MissingScopeError) for e in errors), {type(e) for e in errors}
    assert fake.stats()["sign_ins"] <= 2


def test_a_dead_session_still_signs_in_again(fake: FakeTableau) -> None:
    client = fake.client()
    first = client.session()
    fake.expire_all_sessions()
    assert client.get("workbooks").ok
    assert client.session().token != first.token
    assert fake.stats()["sign_ins"] == 2
    # ... every time: a family that worked after a re-sign-in is not suspected later.
    fake.expire_all_sessions()
    assert client.get("workbooks").ok
    assert fake.stats()["sign_ins"] == 3


def test_a_pat_session_is_never_taken_for_a_missing_scope(fake: FakeTableau) -> None:
    client = tca.Client(fake.url, site=fake.site,
                        credentials=tca.PersonalAccessToken(fake.pat_name, fake.pat_secret))
    for _ in range(3):
        client.session()
        fake.expire_all_sessions()
        assert client.get("workbooks").ok


def test_the_async_twin_raises_the_same_error(fake: FakeTableau) -> None:
    async def main() -> None:
        aclient = tca.AsyncClient(fake.client(scopes=EMBED_ONLY))
        with pytest.raises(tca.MissingScopeError) as info:
            await aclient.get("workbooks")
        assert "tableau:workbooks:read" in info.value.required_scopes

    asyncio.run(main())
    assert fake.stats()["sign_ins"] == 2


def test_scopes_for_answers_for_people_composing_credentials() -> None:
    need = tca.scopes_for("GET", "workbooks")
    assert need.scopes == ["tableau:content:read", "tableau:workbooks:read"]
    assert need.known and need.api == "REST API"
    assert tca.scopes_for("GET", "users").scopes == ["tableau:users:read"]
    assert tca.scopes_for("POST", "/api/v1/vizql-data-service/query-datasource").scopes == [
        "tableau:viz_data_service:read"]
    assert tca.scopes_for("POST", "https://h.example.com/api/metadata/graphql").api == "Metadata API"
    assert tca.scopes_for("GET", "/api/-/pulse/definitions").scopes == [
        "tableau:insight_definitions_metrics:read"]
    same = tca.scopes_for("GET", "workbooks/0f1e2d3c-aaaa-4bbb-8ccc-000000000001/views")
    assert same.family == "GET workbooks/{id}/views"
    assert not tca.scopes_for("GET", "somethingNew").known
    assert "scopes=" in repr(need)


@pytest.mark.parametrize("bad", ["content:read", "tableau:content", "tableau::read", "tableau:a b:read",
                                 "tableau:*x:read"])
def test_malformed_scopes_are_refused_when_credentials_are_made(fake: FakeTableau, bad: str) -> None:
    with pytest.raises(tca.ConfigurationError, match="tableau:<resource>:<action>"):
        fake.connected_app.credentials("u", scopes=[bad])


def test_undocumented_wildcards_warn_once() -> None:
    # In a fresh interpreter: the warning is once per process.
    code = """
import warnings, tableau_connected_auth as tca
app = tca.ConnectedApp(client_id="c", secret_id="s", secret_value="v")
with warnings.catch_warnings(record=True) as seen:
    warnings.simplefilter("always")
    app.credentials("u", scopes=["tableau:*"])
    app.credentials("u", scopes=["tableau:*"])
    app.jwt("u", scopes=["tableau:*", "tableau:*:*"])
    app.credentials("u", scopes=["tableau:projects:*", "tableau:content:read"])
for w in seen:
    print(w.category.__name__, w.lineno, w.message)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    lines = out.strip().splitlines()
    assert len(lines) == 2, out
    assert lines[0].startswith("UserWarning 6 scope \"tableau:*\" is not documented")
    assert lines[1].startswith("UserWarning 8 scope \"tableau:*:*\" is not documented")


def test_every_adapter_reports_a_missing_scope_and_stops_signing_in(fake: FakeTableau) -> None:
    """The requests and httpx adapters follow the same rule as request() (the core's
    Client::judge): one re-sign-in, then MissingScopeError, then no more sign-ins."""
    import httpx
    import requests

    def via_requests(client: tca.Client) -> int:
        http = requests.Session()
        http.auth = client.requests_auth()
        return http.get(client.session().url("workbooks"), timeout=10).status_code

    def via_httpx(client: tca.Client) -> int:
        with httpx.Client(auth=client.httpx_auth(), timeout=10) as h:
            return h.get(client.session().url("workbooks")).status_code

    def via_httpx_async(client: tca.Client) -> int:
        async def main() -> int:
            aclient = tca.AsyncClient(client)
            async with httpx.AsyncClient(auth=aclient.httpx_auth(), timeout=10) as h:
                return (await h.get((await aclient.session()).url("workbooks"))).status_code
        return asyncio.run(main())

    for name, call in {"requests": via_requests, "httpx": via_httpx, "httpx async": via_httpx_async}.items():
        client = fake.client(scopes=EMBED_ONLY, username=fake.add_user(f"{name.replace(' ', '_')}@example.com") and
                             f"{name.replace(' ', '_')}@example.com")
        client.session()
        before = fake.stats()["sign_ins"]
        with pytest.raises(tca.MissingScopeError):
            call(client)
        assert fake.stats()["sign_ins"] == before + 1, name
        with pytest.raises(tca.MissingScopeError):
            call(client)
        assert fake.stats()["sign_ins"] == before + 1, f"{name} signed in again for a known missing scope"


def test_the_new_errors_and_their_logs_hold_no_secret(fake: FakeTableau, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    caplog.set_level(logging.DEBUG, logger="tableau_connected_auth")
    client = fake.client(scopes=EMBED_ONLY)
    token = client.session().token
    with pytest.raises(tca.MissingScopeError) as missing:
        client.get("workbooks")
    fresh = client.session().token
    fake.set_metadata_access_denied(True)
    with pytest.raises(tca.MetadataApiError) as metadata:
        fake.client().graphql("{ workbooks { name } }")
    secrets = [token, fresh, fake.app_secret_value, fake.pat_secret]
    shown = [str(missing.value), repr(missing.value), str(missing.value.hint), str(metadata.value),
             repr(metadata.value), caplog.text]
    for text in shown:
        for secret in secrets:
            assert secret not in text
    assert "401002 again on a fresh session" in caplog.text  # the log says what happened
