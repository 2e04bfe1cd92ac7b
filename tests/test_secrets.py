"""No secret value, password, PAT secret, JWT or session token ever appears in a repr, str,
exception message or log record."""

from __future__ import annotations

import logging
import uuid
import subprocess
import sys
from typing import List

import pytest

import tableau_connected_auth as tca
from tableau_connected_auth.testing import FakeTableau


def _assert_clean(texts: List[str], secrets: List[str]) -> None:
    for text in texts:
        for secret in secrets:
            assert secret not in text, f"a secret leaked into: {text[:200]!r}"


def test_no_secret_in_any_repr_str_exception_or_log(fake: FakeTableau, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="tableau_connected_auth")
    texts: List[str] = []
    secrets: List[str] = [fake.app_secret_value, fake.pat_secret, fake.admin_password]

    app = fake.connected_app
    creds = app.credentials(fake.username, scopes=["tableau:content:read"])
    jwt = app.jwt(fake.username, scopes=["tableau:content:read"])
    secrets.append(jwt)
    pat = tca.PersonalAccessToken(fake.pat_name, fake.pat_secret)
    pw = tca.UsernamePassword("admin", fake.admin_password)
    external = tca.Jwt(jwt)

    sessions = []
    for c in (creds, pat, pw):
        client = tca.Client(fake.url, site="mysite" if c is not pw else "", credentials=c)
        s = client.session()
        sessions.append(s)
        secrets.append(s.token)
        secrets.extend(s.token.split("|")[:2])  # the third part is the (public) site LUID
        texts += [repr(client), str(client), repr(s), str(s)]
        client.sign_in()
        client.invalidate(s)
        client.sign_out()
    used = tca.Client(fake.url, site="mysite", credentials=external)
    texts += [repr(used.session())]
    used.sign_out()
    texts += [repr(o) for o in (app, creds, pat, pw, external)]
    texts += [str(o) for o in (app, creds, pat, pw, external)]

    # Failures of every kind, with real secrets in play.
    failures = [
        lambda: tca.Client(fake.url, site="nope", credentials=creds).session(),
        lambda: tca.Client(fake.url, site="mysite", credentials=tca.PersonalAccessToken(fake.pat_name, "wrong" + fake.pat_secret)).session(),
        lambda: tca.Client(fake.url, site="", credentials=tca.UsernamePassword("admin", fake.admin_password + "x")).session(),
        lambda: tca.Client(fake.url, site="mysite", credentials=tca.Jwt(jwt)).session(),  # jti reuse
        lambda: used.sign_in(),  # a plain Jwt is single use
        lambda: tca.ConnectedApp(client_id="c", secret_id="s", secret_value=fake.app_secret_value + " "),
        lambda: tca.Client(fake.url, site="mysite", credentials=creds, proxy="http://user:" + fake.pat_secret + "@:bad"),
    ]

    def html_answer() -> None:
        fake.html_next(status=200)
        tca.Client(fake.url, site="mysite", credentials=creds, retries=0).sign_in()

    failures.append(html_answer)
    for number, fail in enumerate(failures):
        try:
            fail()
        except tca.TableauAuthError as e:
            texts += [str(e), repr(e), str(e.args), str(vars(e))]
        else:
            pytest.fail(f"failure #{number} raised nothing; the fake served: {fake.stats()}")

    texts += [r.getMessage() for r in caplog.records]
    assert any("signed in" in r.getMessage() for r in caplog.records), "INFO records should arrive"
    _assert_clean(texts, [s for s in secrets if s])


def test_demo_output_shows_no_token() -> None:
    out = subprocess.run([sys.executable, "-m", "tableau_connected_auth", "demo"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "token=***" in out.stdout
    for line in out.stdout.splitlines():
        assert "|" not in line or line.startswith("server saw"), line


def test_no_secret_leaks_from_the_async_eas_uat_request_and_switch_paths(
    fake: FakeTableau, caplog: pytest.LogCaptureFixture
) -> None:
    import asyncio

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    caplog.set_level(logging.DEBUG)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    fake.add_external_authorization_server("https://idp.example.com", public)
    fake.add_uat_configuration("https://uat.example.com", public, "tenant-1")
    fake.add_site("other", "Other")
    fake.add_user(fake.username, site="other")
    eas = tca.ExternalAuthorizationServer(issuer="https://idp.example.com", key_id="k", private_key=private)
    uat = tca.UnifiedAccessToken(issuer="https://uat.example.com", key_id="k", private_key=private, tenant_id="tenant-1")
    secrets: List[str] = [line for line in private.splitlines() if "-----" not in line]
    texts: List[str] = [repr(eas), repr(uat)]

    async def run_all() -> None:
        for creds, version in ((eas.credentials(fake.username, scopes=["tableau:content:read"]), "3.24"),
                               (uat.credentials(fake.username, scopes=["tableau:content:read"]), "3.27"),
                               (fake.pat, "3.24")):
            async with tca.AsyncClient(fake.url, site=fake.site, credentials=creds, api_version=version) as client:
                s = await client.session()
                secrets.extend([s.token, *s.token.split("|")[:2]])
                r = await client.get("workbooks")
                texts.extend([repr(client), repr(s), repr(r), r.url])
                fake.expire_all_sessions()
                r = await client.get("workbooks")  # re-sign-in after a 401
                fresh = await client.session()
                secrets.append(fresh.token)
                texts.append(repr(fresh))
        switcher = tca.AsyncClient(fake.url, site=fake.site, credentials=fake.pat)
        switched = await switcher.switch_site("other")
        secrets.append(switched.token)
        texts.append(repr(switched))
        for bad in (tca.AsyncClient(fake.url, site="nope", credentials=fake.pat),
                    tca.AsyncClient(fake.url, site=fake.site, credentials=tca.PersonalAccessToken(fake.pat_name, fake.pat_secret + "x"))):
            try:
                await bad.session()
            except tca.TableauAuthError as e:
                texts.extend([str(e), repr(e), str(vars(e))])
            else:
                raise AssertionError("expected a failure")

    asyncio.run(run_all())
    secrets += [fake.pat_secret]
    texts += [r.getMessage() for r in caplog.records]
    _assert_clean(texts, [s for s in secrets if s])


def test_no_cloud_manager_pat_secret_or_token_in_any_repr_error_or_log(
    fake: FakeTableau, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="tableau_connected_auth")
    client = fake.cloud_manager_client()
    s = client.session()
    fake.expire_all_sessions()
    assert client.get("sites").ok  # a re-sign-in, logged
    s2 = client.session()
    aclient = tca.AsyncCloudManagerClient(fake.url, credentials=fake.cloud_manager_pat)
    texts = [repr(client), str(client), repr(s), str(s), repr(s2), repr(aclient), repr(fake.cloud_manager_pat)]
    wrong = "wrong-" + uuid.uuid4().hex
    with pytest.raises(tca.SignInError) as e:
        tca.CloudManagerClient(fake.url, credentials=tca.PersonalAccessToken("x", wrong)).session()
    texts += [str(e.value), repr(e.value), str(vars(e.value))]
    texts += [r.getMessage() for r in caplog.records]
    assert any("Tableau Cloud Manager" in r.getMessage() for r in caplog.records)
    _assert_clean(texts, [fake.cloud_manager_pat_secret, wrong, s.token, s2.token])
