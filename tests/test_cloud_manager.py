"""CloudManagerClient and AsyncCloudManagerClient against FakeTableau's Tableau Cloud Manager.

FakeTableau verifies TCM logins itself (its own JWT checks, not our signer), counts TCM sign-ins
apart from site sign-ins, and pages tenant sites by pageNumber and users by pageToken."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, List, Tuple

import jwt as pyjwt
import pytest

import tableau_connected_auth as tca
from tableau_connected_auth.testing import FakeTableau

from bursts import errors_of_a_burst

ISSUER = "https://idp.example.com/tcm"


def tcm_stats(fake: FakeTableau) -> Tuple[int, int]:
    """(TCM sign-ins, site sign-ins) the fake answered."""
    s = fake.stats()
    return int(s["cloud_manager_sign_ins"]), int(s["sign_ins"])


def rsa_pair() -> Tuple[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return private, public


def uat_for(fake: FakeTableau, scopes: List[str]) -> Any:
    private, public = rsa_pair()
    fake.add_cloud_manager_uat_configuration(ISSUER, public)
    uat = tca.UnifiedAccessToken(issuer=ISSUER, key_id="k1", private_key=private, tenant_id=fake.tenant_id)
    return uat.credentials(fake.cloud_manager_username, scopes=scopes)


def add_sites(fake: FakeTableau, n: int) -> None:
    for i in range(n):
        fake.add_site(f"tcm-site-{i:02d}", f"TCM Site {i:02d}")


# --- sign-in -------------------------------------------------------------------------------------


def test_a_tcm_pat_signs_in_with_only_its_secret_and_is_cached(fake: FakeTableau) -> None:
    client = fake.cloud_manager_client()
    s = client.session()
    assert s.tenant_id == fake.tenant_id and s.user_id
    assert s.headers == {"x-tableau-session-token": s.token}
    assert s.expires_at is not None and s.signed_in_at < s.expires_at
    assert s.url("sites") == f"{fake.url}/api/v1/tenants/{fake.tenant_id}/sites"
    login = fake.last_cloud_manager_login()
    assert login is not None
    path, body = login
    assert path == "/api/v1/pat/login"
    assert json.loads(body) == {"token": fake.cloud_manager_pat_secret}
    assert client.session().token == s.token and client.cached_session() is not None
    # One TCM sign-in, no site sign-in.
    assert tcm_stats(fake) == (1, 0)
    assert fake.is_session_alive(s.token)
    client.sign_out()
    assert not fake.is_session_alive(s.token)
    assert fake.stats()["cloud_manager_sign_outs"] == 1


def test_a_unified_access_token_signs_in_sync_and_async(fake: FakeTableau) -> None:
    creds = uat_for(fake, ["tableau:tcm_sites:read", "tableau:tcm_users:read"])
    s = tca.CloudManagerClient(fake.url, credentials=creds).session()
    assert s.tenant_id == fake.tenant_id
    login = fake.last_cloud_manager_login()
    assert login is not None and login[0] == "/api/v1/jwt/login"
    # The fake verified it with its own checks; PyJWT reads the same claims.
    jwt = json.loads(login[1])["token"]
    claims = pyjwt.decode(jwt, options={"verify_signature": False})
    assert claims["iss"] == ISSUER and claims["https://tableau.com/tenantId"] == fake.tenant_id
    assert claims["scp"] == ["tableau:tcm_sites:read", "tableau:tcm_users:read"]

    async def main() -> str:
        async with tca.AsyncCloudManagerClient(fake.url, credentials=creds, cache=None) as client:
            return (await client.session()).tenant_id

    assert asyncio.run(main()) == fake.tenant_id
    assert tcm_stats(fake) == (2, 0)


def test_one_uat_configuration_signs_in_to_cloud_manager_and_to_a_site(fake: FakeTableau) -> None:
    private, public = rsa_pair()
    fake.add_cloud_manager_uat_configuration(ISSUER, public)
    fake.add_uat_configuration(ISSUER, public, fake.tenant_id, site=fake.site)
    uat = tca.UnifiedAccessToken(issuer=ISSUER, key_id="k1", private_key=private, tenant_id=fake.tenant_id)
    tcm = tca.CloudManagerClient(
        fake.url, credentials=uat.credentials(fake.cloud_manager_username, scopes=["tableau:tcm_sites:read"])
    )
    site = tca.Client(
        fake.url,
        site=fake.site,
        api_version="3.27",
        credentials=uat.credentials(fake.username, scopes=["tableau:content:read"]),
    )
    assert tcm.session().tenant_id == fake.tenant_id
    assert site.session().site_content_url == fake.site
    assert site.get("workbooks").ok
    assert tcm_stats(fake) == (1, 1)


def test_credentials_tcm_does_not_take_are_refused_before_any_io(fake: FakeTableau) -> None:
    for creds in (fake.connected_app.credentials(fake.username, scopes=["tableau:content:read"]),
                  tca.UsernamePassword("admin", fake.admin_password)):
        with pytest.raises(tca.ConfigurationError, match="Tableau Cloud Manager"):
            tca.CloudManagerClient(fake.url, credentials=creds)
    with pytest.raises(TypeError, match="no site"):
        tca.CloudManagerClient(fake.url, site="x", credentials=fake.cloud_manager_pat)  # type: ignore[call-arg]
    assert fake.stats()["requests"] == 0 and tcm_stats(fake) == (0, 0)


def test_a_site_pat_is_refused_with_a_hint_and_no_secret(fake: FakeTableau) -> None:
    client = tca.CloudManagerClient(fake.url, credentials=fake.pat, retries=0)
    with pytest.raises(tca.SignInError) as e:
        client.session()
    assert e.value.status == 401
    assert "make the PAT in Tableau Cloud Manager" in e.value.hint
    for text in (str(e.value), repr(e.value)):
        assert fake.pat_secret not in text
    assert fake.stats()["cloud_manager_sign_in_failures"] == 1 and fake.stats()["sign_in_attempts"] == 0


def test_only_cloud_administrators_may_sign_in(fake: FakeTableau) -> None:
    fake.add_cloud_manager_user("viewer@example.com", cloud_admin=False)
    fake.add_cloud_manager_pat("viewer-secret-value", username="viewer@example.com")
    client = tca.CloudManagerClient(fake.url, credentials=tca.PersonalAccessToken("viewer", "viewer-secret-value"))
    with pytest.raises(tca.SignInError) as e:
        client.session()
    assert e.value.status == 403 and "cloud administrators" in e.value.hint


# --- calls and paging ----------------------------------------------------------------------------


def test_tenant_sites_are_listed_across_pages(fake: FakeTableau) -> None:
    add_sites(fake, 9)
    client = fake.cloud_manager_client()
    direct = client.get("sites", params={"pageSize": 1000}).json()["sites"]
    before = fake.stats()["cloud_manager_requests"]
    listed = list(client.paginate("sites", page_size=4))
    assert [x["siteUUID"] for x in listed] == [x["siteUUID"] for x in direct]
    assert len(listed) == len(direct) >= 11  # the fake's own sites and the nine added
    assert {x["contentUrl"] for x in listed} >= {f"tcm-site-{i:02d}" for i in range(9)}
    # The first page says no pageNumber: page 1 is asked again to learn that numbering starts
    # at 1 (its items are not given twice), then pages 2.. up to the first that is not full.
    pages = len(listed) // 4 + 1
    assert fake.stats()["cloud_manager_requests"] - before == 1 + pages
    assert tcm_stats(fake) == (1, 0)


def test_users_are_listed_by_page_token_and_async(fake: FakeTableau) -> None:
    for i in range(5):
        fake.add_cloud_manager_user(f"admin{i}@example.com")
    client = fake.cloud_manager_client()
    expected = client.get("users", params={"pageSize": 1000}).json()["users"]

    async def main() -> List[Any]:
        a = tca.AsyncCloudManagerClient(fake.url, credentials=fake.cloud_manager_pat)
        return [u async for u in a.paginate("users", page_size=2)]

    assert asyncio.run(main()) == expected == list(client.paginate("users", page_size=2))
    assert len(expected) >= 6


def test_paging_arguments_are_checked(fake: FakeTableau) -> None:
    client = fake.cloud_manager_client()
    with pytest.raises(tca.ConfigurationError, match="page_size"):
        client.paginate("sites", page_size=0)
    with pytest.raises(tca.ConfigurationError, match="pageToken"):
        client.paginate("users", params={"pageToken": "x"})
    assert fake.stats()["requests"] == 0


def test_absolute_paths_and_errors_of_calls(fake: FakeTableau) -> None:
    client = fake.cloud_manager_client()
    tenant = client.session().tenant_id
    assert client.get(f"/api/v1/tenants/{tenant}/sites").ok
    answer = client.get("no-such-thing")
    assert answer.status_code == 404
    with pytest.raises(tca.TableauApiError) as e:
        answer.raise_for_status()
    assert "relative path is under your tenant" in e.value.hint
    with pytest.raises(tca.ConfigurationError, match="only sent to its own server"):
        client.get("https://evil.example.com/api/v1/tenants")


def test_a_uat_session_without_the_scope_is_refused_with_a_hint(fake: FakeTableau) -> None:
    client = tca.CloudManagerClient(fake.url, credentials=uat_for(fake, ["tableau:tcm_sites:read"]))
    assert client.get("sites").ok
    answer = client.get("users")
    assert answer.status_code == 403
    with pytest.raises(tca.TableauApiError) as e:
        answer.raise_for_status()
    assert "tableau:tcm_" in e.value.hint
    assert tcm_stats(fake) == (1, 0)  # a 403 is not a dead session: no re-sign-in


# --- dead sessions -------------------------------------------------------------------------------


def test_a_dead_token_costs_one_re_sign_in_for_a_burst_of_50_threads(fake: FakeTableau) -> None:
    client = fake.cloud_manager_client()
    old = client.session().token
    fake.expire_all_sessions()
    assert not fake.is_session_alive(old)
    statuses: List[int] = []
    errors = errors_of_a_burst(50, lambda: statuses.append(client.get("sites").status_code))
    assert errors == [] and statuses == [200] * 50
    assert tcm_stats(fake) == (2, 0)
    assert client.session().token != old


def test_a_dead_token_costs_one_re_sign_in_for_50_asyncio_tasks(fake: FakeTableau) -> None:
    async def main() -> List[int]:
        client = tca.AsyncCloudManagerClient(fake.url, credentials=fake.cloud_manager_pat)
        await client.session()
        fake.expire_all_sessions()
        answers = await asyncio.gather(*(client.get("sites") for _ in range(50)))
        return [a.status_code for a in answers]

    assert asyncio.run(main()) == [200] * 50
    assert tcm_stats(fake) == (2, 0)


def test_a_dead_session_is_refreshed_by_session_ttl(fake: FakeTableau) -> None:
    fake.set_session_ttl(1.0)
    client = fake.cloud_manager_client()
    s = client.session()
    assert s.expires_at is not None
    # Refreshed before it ends: a tenth of its life ahead.
    import time

    time.sleep(1.0)
    assert client.session().token != s.token


# --- caches --------------------------------------------------------------------------------------


def test_a_tcm_session_never_shares_a_cache_entry_with_a_site_session(fake: FakeTableau, tmp_path: Path) -> None:
    # The same PAT secret registered for both: the same credentials object, two sessions.
    fake.add_cloud_manager_pat(fake.pat_secret)
    cache = tca.DiskCache(str(tmp_path))
    site = tca.Client(fake.url, site=fake.site, credentials=fake.pat, cache=cache)
    tcm = tca.CloudManagerClient(fake.url, credentials=fake.pat, cache=cache)
    site_token, tcm_token = site.session().token, tcm.session().token
    assert site_token != tcm_token
    assert tcm.session().tenant_id == fake.tenant_id and site.session().site_id
    assert site.get("workbooks").ok and tcm.get("sites").ok
    assert tcm_stats(fake) == (1, 1)
    assert len(list(tmp_path.glob("*.session"))) == 2
    for entry in tmp_path.glob("*.session"):
        assert tcm_token.encode() not in entry.read_bytes()


# --- configuration from the environment ----------------------------------------------------------


def test_from_env_reads_the_cloud_manager_variables(fake: FakeTableau, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TABLEAU_UAT_ISSUER", "TABLEAU_UAT_KEY_ID", "TABLEAU_UAT_PRIVATE_KEY_FILE", "TABLEAU_UAT_TENANT_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TABLEAU_CLOUD_MANAGER_URL", fake.url)
    monkeypatch.delenv("TABLEAU_CLOUD_MANAGER_PAT_SECRET", raising=False)
    with pytest.raises(tca.ConfigurationError) as e:
        tca.CloudManagerClient.from_env()
    assert "TABLEAU_CLOUD_MANAGER_PAT_SECRET" in str(e.value)
    monkeypatch.setenv("TABLEAU_CLOUD_MANAGER_PAT_SECRET", fake.cloud_manager_pat_secret)
    client = tca.CloudManagerClient.from_env(cache=None)
    assert client.server == fake.url and client.session().tenant_id == fake.tenant_id
    assert fake.cloud_manager_pat_secret not in repr(client)
    monkeypatch.setenv("TABLEAU_UAT_ISSUER", ISSUER)
    with pytest.raises(tca.ConfigurationError, match="choose one sign-in method") as e:
        tca.AsyncCloudManagerClient.from_env()
    assert fake.cloud_manager_pat_secret not in str(e.value)


def test_from_env_builds_a_unified_access_token(
    fake: FakeTableau, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    private, public = rsa_pair()
    fake.add_cloud_manager_uat_configuration(ISSUER, public)
    key_file = tmp_path / "uat.pem"
    key_file.write_text(private)
    monkeypatch.delenv("TABLEAU_CLOUD_MANAGER_PAT_SECRET", raising=False)
    env = {
        "TABLEAU_CLOUD_MANAGER_URL": fake.url,
        "TABLEAU_UAT_ISSUER": ISSUER,
        "TABLEAU_UAT_KEY_ID": "k1",
        "TABLEAU_UAT_PRIVATE_KEY_FILE": str(key_file),
        "TABLEAU_UAT_TENANT_ID": fake.tenant_id,
        "TABLEAU_USERNAME": fake.cloud_manager_username,
        "TABLEAU_SCOPES": "tableau:tcm_sites:read",
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert tca.CloudManagerClient.from_env().session().tenant_id == fake.tenant_id
    monkeypatch.delenv("TABLEAU_SCOPES")
    with pytest.raises(tca.ConfigurationError, match="TABLEAU_SCOPES"):
        tca.CloudManagerClient.from_env()
