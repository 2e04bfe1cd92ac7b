"""OAuth 2.0 trust (External Authorization Server) and unified access tokens, end to end:
PyJWT verifies our JWTs with the public key, FakeTableau verifies them as Tableau does."""

from __future__ import annotations

import asyncio
import json
from typing import Any, Dict, Tuple

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

import tableau_connected_auth as tca
from tableau_connected_auth.testing import FakeTableau

ISSUER = "https://idp.example.com/oauth2/default"


def keypair(kind: str) -> Tuple[str, str]:
    key: Any
    if kind == "rsa":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    elif kind == "rsa1024":
        key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    elif kind == "p256":
        key = ec.generate_private_key(ec.SECP256R1())
    elif kind == "p384":
        key = ec.generate_private_key(ec.SECP384R1())
    else:
        key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


KEY_FOR = {"RS256": "rsa", "RS384": "rsa", "RS512": "rsa", "PS256": "rsa", "PS384": "rsa", "PS512": "rsa",
           "ES256": "p256", "ES384": "p384", "EdDSA": "ed25519"}


@pytest.mark.parametrize("algorithm", sorted(KEY_FOR))
def test_eas_jwt_verifies_with_pyjwt_and_signs_in(fake: FakeTableau, algorithm: str) -> None:
    private, public = keypair(KEY_FOR[algorithm])
    # Tableau documents RS256 only; the fake accepts the others when a test opts in.
    fake.add_external_authorization_server(ISSUER, public, audience="server", algorithms=[algorithm])
    eas = tca.ExternalAuthorizationServer(issuer=ISSUER, key_id="key-1", private_key=private, algorithm=algorithm)
    token = eas.jwt(fake.username, scopes=["tableau:content:read"], user_attributes={"Region": "East"})
    assert pyjwt.get_unverified_header(token) == {"alg": algorithm, "typ": "JWT", "kid": "key-1"}
    claims = pyjwt.decode(token, public, algorithms=[algorithm], audience="tableau", issuer=ISSUER)
    assert set(claims) == {"iss", "sub", "aud", "jti", "iat", "nbf", "exp", "scp", "Region"}
    assert claims["sub"] == fake.username and claims["scp"] == ["tableau:content:read"]
    assert claims["exp"] - claims["iat"] == 305
    s = tca.Client(fake.url, site=fake.site, credentials=eas.credentials(fake.username, scopes=["tableau:content:read"])).session()
    assert fake.is_session_alive(s.token)
    assert json.loads(fake.last_jwt_claims() or "{}")["iss"] == ISSUER


@pytest.mark.parametrize("algorithm", ["PS256", "ES256", "EdDSA"])
def test_the_fake_accepts_only_rs256_from_an_eas_unless_a_test_opts_in(fake: FakeTableau, algorithm: str) -> None:
    private, public = keypair(KEY_FOR[algorithm])
    fake.add_external_authorization_server(ISSUER, public)
    eas = tca.ExternalAuthorizationServer(issuer=ISSUER, key_id="k", private_key=private, algorithm=algorithm)
    with pytest.raises(tca.SignInError) as info:
        tca.Client(fake.url, site=fake.site, credentials=eas.credentials(fake.username, scopes=["tableau:content:read"])).session()
    assert info.value.subcode == 10084
    with pytest.raises(tca.ConfigurationError):
        fake.add_external_authorization_server(ISSUER, public, algorithms=["HS256"])


@pytest.mark.parametrize("wire_format", ["xml", "json"])
def test_eas_on_tableau_cloud_needs_the_site_luid_audience(fake: FakeTableau, wire_format: str) -> None:
    private, public = keypair("rsa")
    fake.add_external_authorization_server(ISSUER, public, audience="cloud")
    luid = fake.site_luid(fake.site)
    plain = tca.ExternalAuthorizationServer(issuer=ISSUER, key_id="k", private_key=private)
    with pytest.raises(tca.SignInError) as info:
        tca.Client(fake.url, site=fake.site, wire_format=wire_format,
                   credentials=plain.credentials(fake.username, scopes=["tableau:content:read"])).session()
    assert info.value.subcode == 10084 and "aud" in str(info.value)
    cloud = tca.ExternalAuthorizationServer(issuer=ISSUER, key_id="k", private_key=private, site_luid=luid)
    assert cloud.audience == f"tableau:{luid}"
    creds = cloud.credentials(fake.username, scopes=["tableau:content:read"])
    assert tca.Client(fake.url, site=fake.site, credentials=creds, wire_format=wire_format).session().token

    async def main() -> str:
        async with tca.AsyncClient(fake.url, site=fake.site, credentials=creds, wire_format=wire_format) as c:
            return (await c.sign_in()).token

    assert asyncio.run(main())


def test_eas_signed_with_another_key_is_refused(fake: FakeTableau) -> None:
    _, public = keypair("rsa")
    other_private, _ = keypair("rsa")
    fake.add_external_authorization_server(ISSUER, public)
    eas = tca.ExternalAuthorizationServer(issuer=ISSUER, key_id="k", private_key=other_private)
    with pytest.raises(tca.SignInError) as info:
        tca.Client(fake.url, site=fake.site, credentials=eas.credentials(fake.username, scopes=["tableau:content:read"])).session()
    assert info.value.subcode == 10083 and "kid" in str(info.value)


@pytest.mark.parametrize("wire_format", ["xml", "json"])
def test_unified_access_token_end_to_end(fake: FakeTableau, wire_format: str) -> None:
    private, public = keypair("rsa")
    fake.add_uat_configuration(ISSUER, public, "tenant-42", username_claim="upn")
    uat = tca.UnifiedAccessToken(issuer=ISSUER, key_id="uat-1", private_key=private, tenant_id="tenant-42",
                                 username_claim="upn")
    token = uat.jwt(fake.username, scopes=["tableau:content:read"])
    assert pyjwt.get_unverified_header(token) == {"alg": "RS256", "typ": "JWT", "kid": "uat-1"}
    claims = pyjwt.decode(token, public, algorithms=["RS256"], issuer=ISSUER, options={"verify_aud": False})
    assert set(claims) == {"iss", "jti", "iat", "nbf", "exp", "scp", "https://tableau.com/tenantId", "upn"}
    assert claims["upn"] == fake.username and claims["https://tableau.com/tenantId"] == "tenant-42"
    creds = uat.credentials(fake.username, scopes=["tableau:content:read"])
    client = tca.Client(fake.url, site=fake.site, credentials=creds, api_version="3.27", wire_format=wire_format)
    assert client.session().token
    body = fake.last_sign_in_request()[1]
    if wire_format == "xml":
        assert 'isUat="true"' in body
    else:
        assert json.loads(body)["credentials"]["isUat"] is True

    async def main() -> bool:
        a = tca.AsyncClient(fake.url, site=fake.site, credentials=creds, api_version="3.27", wire_format=wire_format)
        return (await a.session()).token == client.session().token

    assert asyncio.run(main())


def test_uat_with_the_wrong_tenant_is_refused(fake: FakeTableau) -> None:
    private, public = keypair("rsa")
    fake.add_uat_configuration(ISSUER, public, "tenant-42")
    uat = tca.UnifiedAccessToken(issuer=ISSUER, key_id="k", private_key=private, tenant_id="tenant-43")
    with pytest.raises(tca.SignInError) as info:
        tca.Client(fake.url, site=fake.site, api_version="3.28",
                   credentials=uat.credentials(fake.username, scopes=["tableau:content:read"])).session()
    assert info.value.subcode == 10084


BAD_KEYS: Dict[str, Tuple[Any, str]] = {
    "not a pem": (lambda: tca.ExternalAuthorizationServer(issuer=ISSUER, key_id="k", private_key="nope"), "not PEM"),
    "public key": (lambda: tca.ExternalAuthorizationServer(issuer=ISSUER, key_id="k", private_key=keypair("rsa")[1]), "public key"),
    "ec key for RS256": (lambda: tca.ExternalAuthorizationServer(issuer=ISSUER, key_id="k", private_key=keypair("p256")[0]), "not an RSA"),
    "rsa key for ES256": (lambda: tca.ExternalAuthorizationServer(issuer=ISSUER, key_id="k", private_key=keypair("rsa")[0], algorithm="ES256"), "P-256"),
    "p256 for ES384": (lambda: tca.ExternalAuthorizationServer(issuer=ISSUER, key_id="k", private_key=keypair("p256")[0], algorithm="ES384"), "P-384"),
    "unknown algorithm": (lambda: tca.ExternalAuthorizationServer(issuer=ISSUER, key_id="k", private_key=keypair("rsa")[0], algorithm="HS256"), "not supported"),
    "both audiences": (lambda: tca.ExternalAuthorizationServer(issuer=ISSUER, key_id="k", private_key=keypair("rsa")[0], audience="tableau", site_luid="x"), "not both"),
    "empty issuer": (lambda: tca.ExternalAuthorizationServer(issuer="", key_id="k", private_key=keypair("rsa")[0]), "issuer is empty"),
    "uat ec key": (lambda: tca.UnifiedAccessToken(issuer=ISSUER, key_id="k", private_key=keypair("p256")[0], tenant_id="t"), "not an RSA"),
    "uat reserved claim": (lambda: tca.UnifiedAccessToken(issuer=ISSUER, key_id="k", private_key=keypair("rsa")[0], tenant_id="t", username_claim="exp"), "reserved"),
    "uat empty tenant": (lambda: tca.UnifiedAccessToken(issuer=ISSUER, key_id="k", private_key=keypair("rsa")[0], tenant_id=""), "tenant_id is empty"),
}


@pytest.mark.parametrize("case", sorted(BAD_KEYS))
def test_bad_key_configuration_is_refused_at_construction(case: str) -> None:
    make, needle = BAD_KEYS[case]
    with pytest.raises(tca.ConfigurationError, match=needle):
        make()


def test_small_rsa_keys_are_refused() -> None:
    private, _ = keypair("rsa1024")
    with pytest.raises(tca.ConfigurationError) as info:
        tca.ExternalAuthorizationServer(issuer=ISSUER, key_id="k", private_key=private)
    assert "2048" in str(info.value)


def test_reprs_hide_the_private_key() -> None:
    private, _ = keypair("rsa")
    eas = tca.ExternalAuthorizationServer(issuer=ISSUER, key_id="k", private_key=private)
    uat = tca.UnifiedAccessToken(issuer=ISSUER, key_id="k", private_key=private, tenant_id="t")
    body = private.splitlines()[1]
    for text in (repr(eas), str(eas), repr(uat)):
        assert body not in text and "private_key=***" in text
    creds = repr(eas.credentials("u", scopes=["tableau:content:read"]))
    assert body not in creds and creds.startswith("ExternalAuthorizationServer(issuer=")
