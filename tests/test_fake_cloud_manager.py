"""FakeTableau's Tableau Cloud Manager (TCM) API, driven over raw HTTP with httpx. Unified access
tokens are minted with PyJWT and cryptography, independent of the package's own signer."""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, Iterator, List, Optional, Tuple

import httpx
import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tableau_connected_auth import ConfigurationError
from tableau_connected_auth.testing import FakeTableau

ISSUER = "https://idp.example.com/tcm"
ALICE = "alice@corp.example"
TENANT_CLAIM = "https://tableau.com/tenantId"
ALL_SCOPES = ["tableau:tcm_sites:read", "tableau:tcm_users:read", "tableau:tcm_activity_log:read"]


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False, timeout=10) as client:
        yield client


def rsa_key() -> Tuple[bytes, str]:
    """A new RSA key: (private PEM, public SubjectPublicKeyInfo PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return private, public


@pytest.fixture(scope="module")
def key() -> Tuple[bytes, str]:
    return rsa_key()


@pytest.fixture
def uat_fake(fake: FakeTableau, key: Tuple[bytes, str]) -> FakeTableau:
    """The fake with a TCM UAT configuration and Alice, a cloud administrator."""
    fake.add_cloud_manager_user(ALICE)
    fake.add_cloud_manager_uat_configuration(ISSUER, key[1])
    return fake


def claims(fake: FakeTableau, email: str = ALICE, scopes: Optional[List[str]] = None, **patch: Any) -> Dict[str, Any]:
    now = int(time.time())
    body: Dict[str, Any] = {
        "iss": ISSUER,
        "email": email,
        TENANT_CLAIM: fake.tenant_id,
        "jti": str(uuid.uuid4()),
        "exp": now + 300,
        "iat": now - 5,
        "nbf": now - 5,
        "scp": ALL_SCOPES if scopes is None else scopes,
    }
    for name, value in patch.items():
        name = TENANT_CLAIM if name == "tenant" else name
        if value is None:
            body.pop(name, None)
        else:
            body[name] = value
    return body


def mint(private_pem: bytes, payload: Dict[str, Any], headers: Optional[Dict[str, Any]] = None) -> str:
    return pyjwt.encode(payload, private_pem, algorithm="RS256", headers=headers or {"kid": "tcm-key"})


def login(http: httpx.Client, fake: FakeTableau, kind: str, token: str) -> httpx.Response:
    return http.post(f"{fake.url}/api/v1/{kind}/login", json={"token": token})


def session_token(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    token: str = response.json()["sessionToken"]
    return token


def get(http: httpx.Client, fake: FakeTableau, path: str, token: Optional[str], **params: Any) -> httpx.Response:
    headers = {} if token is None else {"x-tableau-session-token": token}
    return http.get(f"{fake.url}/api/v1/tenants/{fake.tenant_id}/{path}", headers=headers, params=params)


def assert_tcm_error(response: httpx.Response, status: int, code: str) -> str:
    """A TCM-shaped error: JSON {"message", "errorCode"} and nothing else. Returns the message."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"message", "errorCode"}, body
    assert body["errorCode"] == code, body
    message: str = body["message"]
    assert message
    return message


# -------------------------------------------------------------------------------------------------
# PAT login


def test_pat_login_answers_a_session_of_the_tenant(fake: FakeTableau, http: httpx.Client) -> None:
    assert uuid.UUID(fake.tenant_id)
    assert fake.cloud_manager_username == "cloudadmin@example.com"
    assert fake.cloud_manager_pat_secret != fake.pat_secret
    sent = json.dumps({"token": fake.cloud_manager_pat_secret})
    before = datetime.now(timezone.utc).replace(microsecond=0)
    response = http.post(
        f"{fake.url}/api/v1/pat/login", content=sent, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"sessionToken", "tenantId", "userId", "sessionExpiration"}
    assert body["tenantId"] == fake.tenant_id
    assert uuid.UUID(body["userId"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["sessionExpiration"])
    expires = datetime.strptime(body["sessionExpiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert timedelta(hours=4) - timedelta(seconds=2) <= expires - before <= timedelta(hours=4, seconds=2)
    assert fake.last_cloud_manager_login() == ("/api/v1/pat/login", sent)
    assert fake.is_session_alive(body["sessionToken"])
    assert get(http, fake, "sites", body["sessionToken"]).status_code == 200


def test_pat_login_refuses_site_pats_and_unknown_secrets(fake: FakeTableau, http: httpx.Client) -> None:
    for secret in (fake.pat_secret, "no-such-secret"):
        response = login(http, fake, "pat", secret)
        message = assert_tcm_error(response, 401, "E_401_TCM_INVALID_CREDENTIALS")
        assert secret not in response.text
        assert "site PATs" in message


def test_pat_login_refuses_users_who_are_not_cloud_admins(fake: FakeTableau, http: httpx.Client) -> None:
    bob = fake.add_cloud_manager_user("bob@example.com", cloud_admin=False)
    fake.add_cloud_manager_pat("bob-secret", username="bob@example.com")
    message = assert_tcm_error(login(http, fake, "pat", "bob-secret"), 403, "E_403_TCM_NOT_CLOUD_ADMIN")
    assert "Only cloud administrators" in message
    assert fake.add_cloud_manager_user("bob@example.com") == bob  # now a cloud admin, same id
    assert login(http, fake, "pat", "bob-secret").json()["userId"] == bob


@pytest.mark.parametrize(
    "body",
    [
        {"token": "SECRET", "name": "my-pat"},
        {"personalAccessTokenName": "my-pat", "personalAccessTokenSecret": "SECRET"},
        {"token": ""},
        {"token": 1},
        ["SECRET"],
    ],
)
def test_pat_login_body_is_the_token_alone(fake: FakeTableau, http: httpx.Client, body: Any) -> None:
    sent = json.loads(json.dumps(body).replace("SECRET", fake.cloud_manager_pat_secret))
    response = http.post(f"{fake.url}/api/v1/pat/login", json=sent)
    assert_tcm_error(response, 400, "E_400_TCM_BAD_REQUEST")
    assert fake.stats()["cloud_manager_sign_in_failures"] == 1


def test_registration_errors_are_configuration_errors(fake: FakeTableau) -> None:
    with pytest.raises(ConfigurationError):
        fake.add_cloud_manager_pat("x", username="nobody@example.com")
    with pytest.raises(ConfigurationError):
        fake.add_cloud_manager_uat_configuration(ISSUER, "not a PEM")
    with pytest.raises(ConfigurationError):
        fake.add_cloud_manager_user("")


# -------------------------------------------------------------------------------------------------
# Unified access token login


def test_uat_login(uat_fake: FakeTableau, http: httpx.Client, key: Tuple[bytes, str]) -> None:
    jwt = mint(key[0], claims(uat_fake))
    sent = json.dumps({"token": jwt})
    response = http.post(
        f"{uat_fake.url}/api/v1/jwt/login", content=sent, headers={"Content-Type": "application/json"}
    )
    token = session_token(response)
    assert response.json()["userId"] == uat_fake.add_cloud_manager_user(ALICE)
    assert uat_fake.last_cloud_manager_login() == ("/api/v1/jwt/login", sent)
    for path in ("sites", "users", "activitylog"):
        assert get(http, uat_fake, path, token).status_code == 200


@pytest.mark.parametrize(
    "what, patch, says",
    [
        ("another issuer", {"iss": "https://other.example.com"}, "iss"),
        ("no issuer", {"iss": None}, "iss"),
        ("another tenant", {"tenant": str(uuid.uuid4())}, "tenantId"),
        ("no tenant", {"tenant": None}, "tenantId"),
        ("expired", {"exp": -10}, "exp"),
        ("exp more than 10 minutes ahead", {"exp": 660}, "exp"),
        ("no exp", {"exp": None}, "exp"),
        ("nbf ahead", {"nbf": 120}, "nbf"),
        ("iat ahead", {"iat": 120}, "iat"),
        ("no jti", {"jti": None}, "jti"),
        ("no scp", {"scp": None}, "scp"),
        ("no username claim", {"email": None}, "email"),
        ("not a user of the tenant", {"email": "eve@corp.example"}, "no user of the tenant"),
    ],
)
def test_uat_login_refuses_each_bad_claim(
    uat_fake: FakeTableau, http: httpx.Client, key: Tuple[bytes, str], what: str, patch: Dict[str, Any], says: str
) -> None:
    now = int(time.time())
    for name in ("exp", "nbf", "iat"):
        if isinstance(patch.get(name), int):
            patch = {**patch, name: now + patch[name]}
    jwt = mint(key[0], claims(uat_fake, **patch))
    response = login(http, uat_fake, "jwt", jwt)
    message = assert_tcm_error(response, 401, "E_401_TCM_INVALID_JWT")
    assert says in message, what
    assert jwt not in response.text


def test_uat_login_refuses_a_foreign_key_a_missing_kid_and_a_replay(
    uat_fake: FakeTableau, http: httpx.Client, key: Tuple[bytes, str]
) -> None:
    stranger = rsa_key()[0]
    message = assert_tcm_error(login(http, uat_fake, "jwt", mint(stranger, claims(uat_fake))), 401, "E_401_TCM_INVALID_JWT")
    assert "signature" in message
    no_kid = pyjwt.encode(claims(uat_fake), key[0], algorithm="RS256")
    assert "kid" in assert_tcm_error(login(http, uat_fake, "jwt", no_kid), 401, "E_401_TCM_INVALID_JWT")
    jwt = mint(key[0], claims(uat_fake))
    session_token(login(http, uat_fake, "jwt", jwt))
    message = assert_tcm_error(login(http, uat_fake, "jwt", jwt), 401, "E_401_TCM_INVALID_JWT")
    assert "jti" in message and "already used" in message


def test_uat_login_refuses_users_who_are_not_cloud_admins(
    uat_fake: FakeTableau, http: httpx.Client, key: Tuple[bytes, str]
) -> None:
    uat_fake.add_cloud_manager_user("carol@corp.example", cloud_admin=False)
    response = login(http, uat_fake, "jwt", mint(key[0], claims(uat_fake, email="carol@corp.example")))
    assert "Only cloud administrators" in assert_tcm_error(response, 403, "E_403_TCM_NOT_CLOUD_ADMIN")


def test_one_uat_configuration_for_a_site_sign_in_and_tcm(
    uat_fake: FakeTableau, http: httpx.Client, key: Tuple[bytes, str]
) -> None:
    fake = uat_fake
    fake.add_user(ALICE, site="mysite")
    fake.add_uat_configuration(ISSUER, key[1], fake.tenant_id, site="mysite")
    scopes = ["tableau:content:read", "tableau:tcm_sites:read"]
    site_jwt = mint(key[0], claims(fake, scopes=scopes))
    response = http.post(
        f"{fake.url}/api/3.27/auth/signin",
        json={"credentials": {"jwt": site_jwt, "isUat": True, "site": {"contentUrl": "mysite"}}},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 200, response.text
    site_token = response.json()["credentials"]["token"]
    tcm_token = session_token(login(http, fake, "jwt", mint(key[0], claims(fake, scopes=scopes))))
    assert get(http, fake, "sites", tcm_token).status_code == 200
    site_luid = fake.site_luid("mysite")
    workbooks = http.get(f"{fake.url}/api/3.27/sites/{site_luid}/workbooks", headers={"X-Tableau-Auth": site_token})
    assert workbooks.status_code == 200
    stats = fake.stats()
    assert (stats["sign_ins"], stats["cloud_manager_sign_ins"]) == (1, 1)


def test_uat_sessions_need_the_scope_of_each_list(
    uat_fake: FakeTableau, http: httpx.Client, key: Tuple[bytes, str]
) -> None:
    token = session_token(login(http, uat_fake, "jwt", mint(key[0], claims(uat_fake, scopes=["tableau:tcm_sites:read"]))))
    assert get(http, uat_fake, "sites", token).status_code == 200
    for path, scope in (("users", "tableau:tcm_users:read"), ("activitylog", "tableau:tcm_activity_log:read")):
        message = assert_tcm_error(get(http, uat_fake, path, token), 403, "E_403_TCM_MISSING_SCOPE")
        assert scope in message
    pat = session_token(login(http, uat_fake, "pat", uat_fake.cloud_manager_pat_secret))
    assert get(http, uat_fake, "users", pat).status_code == 200


# -------------------------------------------------------------------------------------------------
# Lists


def test_sites_page_by_number(fake: FakeTableau, http: httpx.Client) -> None:
    for i in range(4):
        fake.add_site(f"extra-{i}", f"Extra {i}")
    token = session_token(login(http, fake, "pat", fake.cloud_manager_pat_secret))
    seen: List[Dict[str, Any]] = []
    for number in (1, 2, 3):
        response = get(http, fake, "sites", token, pageNumber=number, pageSize=2)
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"sites"}  # no totals, no token
        assert len(body["sites"]) == 2
        seen.extend(body["sites"])
    assert get(http, fake, "sites", token, pageNumber=4, pageSize=2).json() == {"sites": []}
    urls = [site["contentUrl"] for site in seen]
    assert urls == sorted(urls) and set(urls) == {"", "mysite", "extra-0", "extra-1", "extra-2", "extra-3"}
    for site in seen:
        assert set(site) == {"siteUUID", "name", "contentUrl", "tenantId", "podLocation", "status"}
        assert site["siteUUID"] == fake.site_luid(site["contentUrl"])
        assert site["tenantId"] == fake.tenant_id
    for bad in ({"pageNumber": 0}, {"pageSize": 0}, {"pageSize": 1001}, {"pageSize": "x"}, {"pageToken": "a"}):
        assert_tcm_error(get(http, fake, "sites", token, **bad), 400, "E_400_TCM_BAD_REQUEST")


def test_users_page_by_token(fake: FakeTableau, http: httpx.Client) -> None:
    for name in ("dan@example.com", "amy@example.com", "eve@example.com", "zed@example.com"):
        fake.add_cloud_manager_user(name, cloud_admin=False)
    token = session_token(login(http, fake, "pat", fake.cloud_manager_pat_secret))
    users: List[Dict[str, Any]] = []
    params: Dict[str, Any] = {"pageSize": 2}
    pages = 0
    while True:
        body = get(http, fake, "users", token, **params).json()
        pages += 1
        users.extend(body["users"])
        if not body.get("nextPageToken"):
            break
        params = {"pageSize": 2, "pageToken": body["nextPageToken"]}
    assert pages == 3
    assert [u["email"] for u in users] == [
        "amy@example.com",
        "cloudadmin@example.com",
        "dan@example.com",
        "eve@example.com",
        "zed@example.com",
    ]
    assert [u["cloudAdmin"] for u in users] == [False, True, False, False, False]
    assert all({"userId", "email", "displayName", "cloudAdmin"} <= set(u) for u in users)
    assert_tcm_error(get(http, fake, "users", token, pageToken="not-a-token"), 400, "E_400_TCM_INVALID_PAGE_TOKEN")


def test_activity_log_pages_by_token(fake: FakeTableau, http: httpx.Client) -> None:
    token = session_token(login(http, fake, "pat", fake.cloud_manager_pat_secret))
    first = get(http, fake, "activitylog", token, pageSize=10).json()
    assert len(first["files"]) == 10 and first["nextPageToken"]
    rest = get(http, fake, "activitylog", token, pageSize=10, pageToken=first["nextPageToken"]).json()
    assert rest["files"] and "nextPageToken" not in rest
    assert all(set(f) == {"path", "size"} for f in first["files"] + rest["files"])


# -------------------------------------------------------------------------------------------------
# Sessions


def test_sign_out_and_expire_all_sessions_end_tcm_sessions(fake: FakeTableau, http: httpx.Client) -> None:
    token = session_token(login(http, fake, "pat", fake.cloud_manager_pat_secret))
    response = http.delete(f"{fake.url}/api/v2/sessions", headers={"x-tableau-session-token": token})
    assert response.status_code == 204 and response.content == b""
    assert not fake.is_session_alive(token)
    assert_tcm_error(get(http, fake, "sites", token), 401, "E_401_TCM_INVALID_SESSION")

    token = session_token(login(http, fake, "pat", fake.cloud_manager_pat_secret))
    assert fake.is_session_alive(token)
    fake.expire_all_sessions()
    assert not fake.is_session_alive(token)
    assert_tcm_error(get(http, fake, "users", token), 401, "E_401_TCM_INVALID_SESSION")
    assert_tcm_error(get(http, fake, "users", None), 401, "E_401_TCM_NO_SESSION_TOKEN")


def test_session_ttl_applies_to_tcm(fake: FakeTableau, http: httpx.Client) -> None:
    fake.set_session_ttl(0.3)
    token = session_token(login(http, fake, "pat", fake.cloud_manager_pat_secret))
    assert get(http, fake, "sites", token).status_code == 200
    time.sleep(0.4)
    assert_tcm_error(get(http, fake, "sites", token), 401, "E_401_TCM_INVALID_SESSION")


def test_tcm_and_site_tokens_do_not_cross(fake: FakeTableau, http: httpx.Client) -> None:
    tcm_token = session_token(login(http, fake, "pat", fake.cloud_manager_pat_secret))
    site_session = fake.client().session()
    refused = http.get(site_session.url("workbooks"), headers={"X-Tableau-Auth": tcm_token})
    assert refused.status_code == 401 and 'code="401002"' in refused.text
    assert http.get(site_session.url("workbooks"), headers=site_session.headers).status_code == 200
    assert_tcm_error(get(http, fake, "sites", site_session.token), 401, "E_401_TCM_INVALID_SESSION")
    other_tenant = http.get(
        f"{fake.url}/api/v1/tenants/{uuid.uuid4()}/sites", headers={"x-tableau-session-token": tcm_token}
    )
    assert_tcm_error(other_tenant, 403, "E_403_TCM_TENANT_MISMATCH")


def test_stats_count_tcm_apart_from_the_site(fake: FakeTableau, http: httpx.Client) -> None:
    fake.client().session()
    token = session_token(login(http, fake, "pat", fake.cloud_manager_pat_secret))
    assert_tcm_error(login(http, fake, "pat", "wrong"), 401, "E_401_TCM_INVALID_CREDENTIALS")
    assert get(http, fake, "sites", token).status_code == 200
    assert get(http, fake, "users", token).status_code == 200
    stats = fake.stats()
    assert (stats["sign_in_attempts"], stats["sign_ins"], stats["active_sessions"]) == (1, 1, 1)
    assert stats["cloud_manager_sign_in_attempts"] == 2
    assert stats["cloud_manager_sign_ins"] == 1
    assert stats["cloud_manager_sign_in_failures"] == 1
    assert stats["cloud_manager_requests"] == 2
    assert stats["active_cloud_manager_sessions"] == 1
    assert dict(stats["rejections"])["E_401_TCM_INVALID_CREDENTIALS"] == 1
    assert http.delete(f"{fake.url}/api/v2/sessions", headers={"x-tableau-session-token": token}).status_code == 204
    stats = fake.stats()
    assert (stats["cloud_manager_sign_outs"], stats["sign_outs"], stats["active_cloud_manager_sessions"]) == (1, 0, 0)
    fake.reset_stats()
    stats = fake.stats()
    for name in (
        "cloud_manager_sign_in_attempts",
        "cloud_manager_sign_ins",
        "cloud_manager_sign_in_failures",
        "cloud_manager_sign_outs",
        "cloud_manager_requests",
    ):
        assert stats[name] == 0, name


# -------------------------------------------------------------------------------------------------
# Misbehaviours


def test_fail_next_and_rate_limit_next_on_tcm_routes(fake: FakeTableau, http: httpx.Client) -> None:
    secret = fake.cloud_manager_pat_secret
    fake.fail_next(503, route="tcm/login")
    assert_tcm_error(login(http, fake, "pat", secret), 503, "E_503_TCM_INJECTED")
    fake.fail_next(500, code="E_500_CUSTOM", route="tcm/pat/login")
    assert_tcm_error(login(http, fake, "pat", secret), 500, "E_500_CUSTOM")
    token = session_token(login(http, fake, "pat", secret))

    fake.rate_limit_next(retry_after=7, route="tcm")
    response = get(http, fake, "sites", token)
    assert_tcm_error(response, 429, "E_429_TCM_TOO_MANY_REQUESTS")
    assert response.headers["retry-after"] == "7"
    assert get(http, fake, "sites", token).status_code == 200
    # "tcm" is not the logins, and a site route ("users") never matches a TCM path.
    fake.fail_next(500, route="users")
    fake.fail_next(502, route="tcm")
    token = session_token(login(http, fake, "pat", secret))
    assert_tcm_error(get(http, fake, "users", token), 502, "E_502_TCM_INJECTED")
    assert get(http, fake, "users", token).status_code == 200
    stats = fake.stats()
    assert stats["cloud_manager_sign_in_attempts"] == 4 and stats["cloud_manager_sign_ins"] == 2
    assert stats["cloud_manager_sign_in_failures"] == 0
