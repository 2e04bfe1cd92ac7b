"""Every way Tableau signs in, through the same Client/AsyncClient and cache, in XML and JSON."""

from __future__ import annotations

import asyncio
import json
import xml.etree.ElementTree as ET
from typing import Any, Callable, Dict, List

import pytest

import tableau_connected_auth as tca
from tableau_connected_auth.testing import FakeTableau

Method = Callable[[FakeTableau], Any]

METHODS: Dict[str, Method] = {
    "connected_app": lambda f: f.connected_app.credentials(f.username, scopes=["tableau:content:read"]),
    "pat": lambda f: f.pat,
    "password": lambda f: tca.UsernamePassword("admin", f.admin_password),
    "jwt_callable": lambda f: tca.Jwt(lambda: f.connected_app.jwt(f.username, scopes=["tableau:content:read"])),
}


def _site(method: str, fake: FakeTableau) -> str:
    return "" if method == "password" else fake.site


@pytest.mark.parametrize("wire_format", ["xml", "json"])
@pytest.mark.parametrize("method", sorted(METHODS))
def test_every_method_signs_in_sync(fake: FakeTableau, method: str, wire_format: str) -> None:
    client = tca.Client(fake.url, site=_site(method, fake), credentials=METHODS[method](fake), wire_format=wire_format)
    s = client.session()
    assert s.token and fake.is_session_alive(s.token)
    content_type, _ = fake.last_sign_in_request()
    assert content_type == f"application/{wire_format}"
    assert client.get("workbooks").status == 200
    client.sign_out()
    assert not fake.is_session_alive(s.token)


@pytest.mark.parametrize("wire_format", ["xml", "json"])
@pytest.mark.parametrize("method", sorted(METHODS))
def test_every_method_signs_in_async(fake: FakeTableau, method: str, wire_format: str) -> None:
    async def main() -> None:
        async with tca.AsyncClient(fake.url, site=_site(method, fake), credentials=METHODS[method](fake),
                                   wire_format=wire_format) as client:
            s = await client.session()
            assert fake.is_session_alive(s.token)
            assert (await client.get("workbooks")).status == 200

    asyncio.run(main())
    assert fake.stats()["sign_ins"] == 1 and fake.stats()["sign_outs"] == 1


def _attrs(body: str) -> Dict[str, Any]:
    root = ET.fromstring(body)
    creds = root.find("credentials")
    assert root.tag == "tsRequest" and creds is not None
    return {"credentials": dict(creds.attrib), "children": [(c.tag, dict(c.attrib)) for c in creds]}


def test_sign_in_bodies_match_the_spec_attribute_for_attribute(fake: FakeTableau) -> None:
    tca.Client(fake.url, site="mysite", credentials=fake.pat).session()
    assert _attrs(fake.last_sign_in_request()[1]) == {
        "credentials": {"personalAccessTokenName": fake.pat_name, "personalAccessTokenSecret": fake.pat_secret},
        "children": [("site", {"contentUrl": "mysite"})],
    }
    tca.Client(fake.url, site="", credentials=tca.UsernamePassword("admin", fake.admin_password)).session()
    body = fake.last_sign_in_request()[1]
    assert "&amp;" in body or "&#" in body  # the admin password holds & < > " ' and must be escaped
    assert _attrs(body) == {
        "credentials": {"name": "admin", "password": fake.admin_password},
        "children": [("site", {"contentUrl": ""})],
    }
    fake.client().session()
    parsed = _attrs(fake.last_sign_in_request()[1])
    assert list(parsed["credentials"]) == ["jwt"] and parsed["children"] == [("site", {"contentUrl": "mysite"})]
    tca.Client(fake.url, site="mysite", credentials=fake.pat, wire_format="json").sign_in()
    assert json.loads(fake.last_sign_in_request()[1]) == {"credentials": {
        "personalAccessTokenName": fake.pat_name, "personalAccessTokenSecret": fake.pat_secret,
        "site": {"contentUrl": "mysite"}}}


def test_a_jwt_callable_is_called_for_every_sign_in(fake: FakeTableau) -> None:
    calls: List[str] = []

    def mint() -> str:
        token = fake.connected_app.jwt(fake.username, scopes=["tableau:content:read"])
        calls.append(token)
        return token

    client = tca.Client(fake.url, site=fake.site, credentials=tca.Jwt(mint))
    for _ in range(3):
        client.sign_in()
    assert len(calls) == 3 and len(set(calls)) == 3
    assert fake.stats()["sign_ins"] == 3


def test_a_failing_jwt_callable_is_a_configuration_error(fake: FakeTableau) -> None:
    def broken() -> str:
        raise KeyError("vault unreachable")

    with pytest.raises(tca.ConfigurationError, match="KeyError"):
        tca.Client(fake.url, site=fake.site, credentials=tca.Jwt(broken)).session()
    with pytest.raises(tca.ConfigurationError, match="str"):
        tca.Client(fake.url, site=fake.site, credentials=tca.Jwt(lambda: 42)).session()  # type: ignore[arg-type,return-value]


@pytest.mark.parametrize("wire_format", ["xml", "json"])
def test_impersonation_adds_the_user_element(fake: FakeTableau, wire_format: str) -> None:
    other = fake.add_user("other@example.com")
    s = fake.client(impersonate=other, wire_format=wire_format).session()
    assert s.user_id == other
    body = fake.last_sign_in_request()[1]
    if wire_format == "xml":
        assert _attrs(body)["children"] == [("site", {"contentUrl": "mysite"}), ("user", {"id": other})]
    else:
        assert json.loads(body)["credentials"]["user"] == {"id": other}


def test_api_version_auto_asks_serverinfo_once_per_host(fake: FakeTableau) -> None:
    fake.set_max_api_version("3.26")
    a = fake.client(api_version="auto")
    b = tca.Client(fake.url, site=fake.site, credentials=fake.pat, api_version="auto")
    assert a.session().api_version == "3.26"
    assert b.session().api_version == "3.26"
    assert a.session().url("workbooks").startswith(f"{fake.url}/api/3.26/sites/")
    assert a.get("workbooks").ok
    assert fake.stats()["server_info"] == 1


def test_api_version_auto_refuses_jwt_on_an_old_server(fake: FakeTableau) -> None:
    fake.set_max_api_version("3.15")
    with pytest.raises(tca.ConfigurationError, match="3.16 or later; the server speaks at most 3.15"):
        fake.client(api_version="auto").session()
    assert fake.stats()["sign_in_attempts"] == 0


def test_a_pinned_version_too_old_for_the_method_is_refused_up_front(fake: FakeTableau) -> None:
    with pytest.raises(tca.ConfigurationError, match="3.27"):
        tca.Client(fake.url, site=fake.site, api_version="3.26",
                   credentials=_uat_credentials())


def _uat_credentials() -> Any:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    uat = tca.UnifiedAccessToken(issuer="https://idp.example.com", key_id="k1", private_key=pem, tenant_id="t-1")
    return uat.credentials("me@example.com", scopes=["tableau:content:read"])


@pytest.mark.parametrize("wire_format", ["xml", "json"])
def test_switch_site_caches_the_new_session_under_that_site(fake: FakeTableau, wire_format: str) -> None:
    fake.add_site("other", "Other Site")
    fake.add_user(fake.username, site="other")
    client = tca.Client(fake.url, site=fake.site, credentials=fake.pat, wire_format=wire_format)
    old = client.session()
    switched = client.switch_site("other")
    assert switched.site_content_url == "other" and switched.token != old.token
    assert not fake.is_session_alive(old.token)
    other = tca.Client(fake.url, site="other", credentials=fake.pat, wire_format=wire_format)
    assert other.session().token == switched.token
    assert fake.stats()["sign_ins"] == 1 and fake.stats()["switch_site"] == 1
    same = other.switch_site("other")
    assert same.token == switched.token


def test_switch_site_async(fake: FakeTableau) -> None:
    fake.add_site("other", "Other Site")
    fake.add_user(fake.username, site="other")

    async def main() -> str:
        client = tca.AsyncClient(fake.url, site=fake.site, credentials=fake.pat)
        await client.session()
        return (await client.switch_site("other")).site_content_url

    assert asyncio.run(main()) == "other"


def test_api_version_auto_falls_back_when_serverinfo_is_missing(fake: FakeTableau, caplog: pytest.LogCaptureFixture) -> None:
    fake.fail_next(404, code="404003", route="serverinfo")
    s = fake.client(api_version="auto").session()
    assert s.api_version == tca.DEFAULT_API_VERSION
    assert any("serverinfo is not available" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("wire_format", ["xml", "json"])
def test_current_session_is_read_by_the_core_in_xml_and_json(fake: FakeTableau, wire_format: str) -> None:
    client = tca.Client(fake.url, site=fake.site, credentials=METHODS["connected_app"](fake), wire_format=wire_format)
    s = client.session()
    response = client.get(f"/api/{s.api_version}/sessions/current")
    assert response.headers["content-type"].startswith(f"application/{wire_format}")
    current = response.current_session()
    assert isinstance(current, tca.CurrentSession)
    assert (current.site_id, current.site_content_url, current.site_name) == (s.site_id, fake.site, "My Site")
    assert (current.user_id, current.user_name, current.user_site_role) == (s.user_id, fake.username, "Explorer")
    assert s.token not in repr(current) and fake.username in repr(current)

    # Not a sessions/current answer: a protocol error; an error answer: what raise_for_status raises.
    with pytest.raises(tca.ProtocolError, match="lacks session"):
        client.get(f"/api/{s.api_version}/serverinfo").current_session()
    missing = client.get("no-such-collection")
    assert missing.status == 404
    with pytest.raises(tca.TableauAuthError) as raised:
        missing.raise_for_status()
    with pytest.raises(type(raised.value)):
        missing.current_session()
    client.sign_out()
