"""Sign-in end to end against FakeTableau: the happy paths."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
import uuid

import jwt as pyjwt
import pytest

import tableau_connected_auth as tca
from tableau_connected_auth.testing import FakeTableau


def _get(url: str, headers: dict) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as r:
            return int(r.status)
    except urllib.error.HTTPError as e:
        return int(e.code)


def test_session_signs_in_once_then_answers_from_the_cache(fake: FakeTableau) -> None:
    client = fake.client()
    s = client.session()
    assert client.session() is s
    assert fake.stats()["sign_ins"] == 1
    assert s.site_content_url == "mysite"
    assert s.site_id and s.user_id and s.token
    assert s.token.endswith("|" + s.site_id)  # Tableau Cloud token shape from the fake
    assert s.headers == {"X-Tableau-Auth": s.token}
    assert s.url("workbooks") == f"{fake.url}/api/{s.api_version}/sites/{s.site_id}/workbooks"
    assert s.server == fake.url
    assert s.expires_at is not None and s.expires_at > s.signed_in_at
    assert _get(s.url("workbooks"), s.headers) == 200


def test_two_clients_with_the_same_configuration_share_one_session(fake: FakeTableau) -> None:
    a, b = fake.client(), fake.client()
    assert a.session().token == b.session().token
    assert fake.stats()["sign_ins"] == 1
    other_scopes = fake.client(scopes=["tableau:content:read", "tableau:views:embed"])
    assert other_scopes.session().token != a.session().token
    assert fake.stats()["sign_ins"] == 2


def test_sign_out_kills_the_token_and_the_next_session_signs_in_again(fake: FakeTableau) -> None:
    client = fake.client()
    s = client.session()
    client.sign_out()
    assert not fake.is_session_alive(s.token)
    assert _get(s.url("workbooks"), s.headers) == 401
    s2 = client.session()
    assert s2.token != s.token
    assert fake.stats()["sign_ins"] == 2


def test_sign_out_of_a_dead_session_does_not_raise(fake: FakeTableau) -> None:
    client = fake.client()
    client.session()
    fake.expire_all_sessions()
    client.sign_out()
    client.sign_out()  # nothing cached: a no-op
    assert fake.stats()["sign_outs"] == 1


def test_sign_in_is_always_fresh_and_replaces_the_cache(fake: FakeTableau) -> None:
    client = fake.client()
    first = client.session()
    fresh = client.sign_in()
    assert fresh.token != first.token
    assert client.session() is fresh
    assert fake.stats()["sign_ins"] == 2


def test_invalidate_is_compare_and_swap(fake: FakeTableau) -> None:
    client = fake.client()
    s = client.session()
    assert not client.invalidate("some-other-token")
    assert client.session() is s
    assert client.invalidate(s)
    assert not client.invalidate(s)
    s2 = client.session()
    assert s2.token != s.token
    assert fake.stats()["sign_ins"] == 2


def test_context_manager_signs_out_on_exit(fake: FakeTableau) -> None:
    with fake.client() as client:
        token = client.session().token
        assert fake.is_session_alive(token)
    assert not fake.is_session_alive(token)
    with pytest.raises(tca.ConfigurationError, match="closed"):
        client.session()


def test_json_wire_format(fake: FakeTableau) -> None:
    client = fake.client(wire_format="json")
    s = client.session()
    content_type, body = fake.last_sign_in_request()
    assert content_type == "application/json"
    sent = json.loads(body)
    assert sent["credentials"]["site"] == {"contentUrl": "mysite"}
    assert s.site_content_url == "mysite" and s.token


def test_xml_sign_in_body_is_what_the_spec_says(fake: FakeTableau) -> None:
    fake.client().session()
    content_type, body = fake.last_sign_in_request()
    assert content_type == "application/xml"
    assert body.startswith('<tsRequest><credentials jwt="')
    assert body.endswith('"><site contentUrl="mysite"/></credentials></tsRequest>')


def test_default_site_is_the_empty_content_url(fake: FakeTableau) -> None:
    s = fake.client(site="").session()
    assert s.site_content_url == ""


def test_personal_access_token_sign_in_and_sharing(fake: FakeTableau) -> None:
    pat = fake.pat
    a = tca.Client(fake.url, site="mysite", credentials=pat)
    b = tca.Client(fake.url, site="mysite", credentials=tca.PersonalAccessToken(fake.pat_name, fake.pat_secret))
    s = a.session()
    # The same PAT in the same process: one session, so the PAT does not kill its own session.
    assert b.session().token == s.token
    assert fake.stats()["sign_ins"] == 1
    assert fake.is_session_alive(s.token)


def test_password_sign_in(fake: FakeTableau) -> None:
    creds = tca.UsernamePassword("admin", fake.admin_password)
    s = tca.Client(fake.url, site="", credentials=creds).session()
    assert s.token and fake.is_session_alive(s.token)


def test_minted_jwt_has_exactly_the_spec_claims(fake: FakeTableau) -> None:
    app = fake.connected_app
    token = app.jwt("me@example.com", scopes=["tableau:content:read"], lifetime=120,
                    user_attributes={"Region": "East", "Teams": ["a", "b"]}, groups=["Sales"],
                    on_demand_access=True)
    header = pyjwt.get_unverified_header(token)
    assert header == {"alg": "HS256", "typ": "JWT", "kid": fake.app_secret_id, "iss": fake.app_client_id}
    claims = pyjwt.decode(token, fake.app_secret_value, algorithms=["HS256"], audience="tableau")
    assert set(claims) == {"iss", "sub", "aud", "jti", "iat", "nbf", "exp", "scp",
                           "https://tableau.com/oda", "https://tableau.com/groups", "Region", "Teams"}
    assert claims["iss"] == fake.app_client_id
    assert claims["sub"] == "me@example.com"
    assert claims["aud"] == "tableau"
    assert uuid.UUID(claims["jti"]).version == 4
    assert claims["iat"] == claims["nbf"]
    assert claims["exp"] - claims["iat"] == 125  # lifetime + the 5 s backdating
    assert claims["scp"] == ["tableau:content:read"]
    assert claims["https://tableau.com/oda"] == "true"
    assert claims["https://tableau.com/groups"] == ["Sales"]
    assert claims["Region"] == "East" and claims["Teams"] == ["a", "b"]
    plain = pyjwt.decode(app.jwt("me@example.com", scopes=["tableau:views:embed"]),
                         fake.app_secret_value, algorithms=["HS256"], audience="tableau")
    assert set(plain) == {"iss", "sub", "aud", "jti", "iat", "nbf", "exp", "scp"}
    assert plain["exp"] - plain["iat"] == 305
    assert plain["jti"] != claims["jti"]


def test_every_sign_in_mints_a_fresh_jwt(fake: FakeTableau) -> None:
    client = fake.client()
    for _ in range(3):
        client.sign_in()  # the fake refuses any jti it has seen before
    assert fake.stats()["sign_ins"] == 3


def test_transient_503_is_retried_with_a_fresh_jwt(fake: FakeTableau) -> None:
    fake.fail_next(503, times=2)
    s = fake.client().session()
    assert s.token
    st = fake.stats()
    assert st["sign_in_attempts"] == 3 and st["sign_ins"] == 1


def test_demo_command_runs_and_shows_no_secret() -> None:
    out = subprocess.run([sys.executable, "-m", "tableau_connected_auth", "demo"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "signed in:" in out.stdout and "token=***" in out.stdout
    assert "workbooks:" in out.stdout and "dead" in out.stdout
    assert '"sign_ins": 1' in out.stdout
    assert "|" not in out.stdout.split("signed in:")[1].split("\n")[0]  # no Cloud-style token
