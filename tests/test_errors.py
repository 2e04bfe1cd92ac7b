"""Failures: each broken JWT rule is refused by FakeTableau, and each failure raises the right
typed exception with a message that says what to fix."""

from __future__ import annotations

import pickle
import time
import uuid
from typing import Any, Dict, Optional

import jwt as pyjwt
import pytest

import tableau_connected_auth as tca
from tableau_connected_auth.testing import FakeTableau


def _mint(fake: FakeTableau, *, header: Optional[Dict[str, Any]] = None, drop: tuple = (),
          secret: Optional[str] = None, algorithm: str = "HS256", **claims: Any) -> str:
    now = int(time.time())
    payload: Dict[str, Any] = {
        "iss": fake.app_client_id, "sub": fake.username, "aud": "tableau",
        "jti": str(uuid.uuid4()), "iat": now - 5, "nbf": now - 5, "exp": now + 300,
        "scp": ["tableau:content:read"],
    }
    payload.update(claims)
    for name in drop:
        payload.pop(name)
    h = {"kid": fake.app_secret_id, "iss": fake.app_client_id}
    if header is not None:
        h = header
    return pyjwt.encode(payload, secret if secret is not None else fake.app_secret_value,
                        algorithm=algorithm, headers=h)


def _sign_in_with(fake: FakeTableau, token: str) -> tca.SignInError:
    client = tca.Client(fake.url, site=fake.site, credentials=tca.Jwt(token))
    with pytest.raises(tca.SignInError) as info:
        client.session()
    return info.value


def test_a_well_formed_external_jwt_signs_in(fake: FakeTableau) -> None:
    client = tca.Client(fake.url, site=fake.site, credentials=tca.Jwt(_mint(fake)))
    assert client.session().token


@pytest.mark.parametrize("case, subcode", [
    ("wrong_secret", 127),
    ("unknown_kid", 127),
    ("missing_kid", 10083),
    ("unknown_client_id", 126),
    ("aud_not_tableau", 10084),
    ("exp_too_far", 16),
    ("exp_in_past", 16),
    ("nbf_in_future", 16),
    ("scp_a_string", 10084),
    ("scp_missing", 10099),
    ("jti_missing", 10084),
    ("unknown_user", 5),
    ("user_wrong_case", 5),
    ("alg_hs512", 10084),
])
def test_each_broken_jwt_rule_is_refused_with_401001(fake: FakeTableau, case: str, subcode: int) -> None:
    now = int(time.time())
    token = {
        "wrong_secret": lambda: _mint(fake, secret="not-the-secret-value-at-all-0123456789"),
        "unknown_kid": lambda: _mint(fake, header={"kid": str(uuid.uuid4()), "iss": fake.app_client_id}),
        "missing_kid": lambda: _mint(fake, header={"iss": fake.app_client_id}),
        "unknown_client_id": lambda: _mint(fake, header={"kid": fake.app_secret_id}, iss=str(uuid.uuid4())),
        "aud_not_tableau": lambda: _mint(fake, aud="tableau:somewhere"),
        "exp_too_far": lambda: _mint(fake, exp=now + 660),
        "exp_in_past": lambda: _mint(fake, exp=now - 10),
        "nbf_in_future": lambda: _mint(fake, nbf=now + 120),
        "scp_a_string": lambda: _mint(fake, scp="tableau:content:read"),
        "scp_missing": lambda: _mint(fake, drop=("scp",)),
        "jti_missing": lambda: _mint(fake, drop=("jti",)),
        "unknown_user": lambda: _mint(fake, sub="nobody@example.com"),
        "user_wrong_case": lambda: _mint(fake, sub=fake.username.upper()),
        "alg_hs512": lambda: _mint(fake, algorithm="HS512", secret=fake.app_secret_value * 2),
    }[case]()
    err = _sign_in_with(fake, token)
    assert err.status == 401 and err.code == "401001" and err.subcode == subcode
    assert err.hint, "every documented sub-code has a hint"
    assert f"({subcode})" in str(err)


def test_a_reused_jti_is_refused(fake: FakeTableau) -> None:
    token = _mint(fake)
    first = tca.Client(fake.url, site=fake.site, credentials=tca.Jwt(token, identity="me"))
    first.session()
    # Another Jwt named the same shares that cached session; once it is signed out, the token
    # must reach Tableau again, which refuses the jti it has already seen.
    again = tca.Client(fake.url, site=fake.site, credentials=tca.Jwt(token, identity="me"))
    assert again.session().token == first.session().token
    first.sign_out()
    err = _sign_in_with(fake, token)
    assert err.subcode == 10091 and "fresh" in str(err)


def test_a_plain_jwt_string_is_single_use(fake: FakeTableau) -> None:
    client = tca.Client(fake.url, site=fake.site, credentials=tca.Jwt(_mint(fake)))
    client.session()
    with pytest.raises(tca.ConfigurationError, match="callable"):
        client.sign_in()


def test_wrong_site_says_to_check_the_content_url(fake: FakeTableau) -> None:
    with pytest.raises(tca.SignInError) as info:
        fake.client(site="MySite").session()
    assert info.value.code == "401001"
    assert "contentUrl" in str(info.value) and "display name" in str(info.value)


def test_wrong_secret_value_names_secret_id_and_value(fake: FakeTableau) -> None:
    app = tca.ConnectedApp(client_id=fake.app_client_id, secret_id=fake.app_secret_id,
                           secret_value="definitely-the-wrong-secret-value")
    client = tca.Client(fake.url, site=fake.site, credentials=app.credentials(fake.username, scopes=["tableau:content:read"]))
    with pytest.raises(tca.SignInError) as info:
        client.session()
    assert info.value.subcode == 127
    assert "secret_id" in str(info.value) and "secret_value" in str(info.value)


def test_unknown_user_mentions_case_sensitivity(fake: FakeTableau) -> None:
    with pytest.raises(tca.SignInError) as info:
        fake.client(username="Me@Example.com").session()
    assert info.value.subcode == 5 and "case-sensitive" in str(info.value)


def test_disabled_app_is_reported(fake: FakeTableau) -> None:
    fake.set_app_enabled(fake.app_client_id, False)
    with pytest.raises(tca.SignInError) as info:
        fake.client().session()
    assert info.value.subcode == 126 and "enabled" in str(info.value)


def test_an_html_answer_is_a_protocol_error(fake: FakeTableau) -> None:
    fake.html_next(status=200)
    with pytest.raises(tca.ProtocolError) as info:
        fake.client().session()
    msg = str(info.value)
    assert "HTML" in msg and "not Tableau" in msg and info.value.status == 200


def test_a_truncated_answer_is_a_protocol_error(fake: FakeTableau) -> None:
    fake.truncate_next()
    with pytest.raises(tca.ProtocolError, match="truncated"):
        fake.client().session()


def test_an_empty_answer_is_a_protocol_error(fake: FakeTableau) -> None:
    fake.empty_next(status=200)
    with pytest.raises(tca.ProtocolError, match="empty"):
        fake.client().session()


def test_a_failed_sign_in_is_not_cached(fake: FakeTableau) -> None:
    client = fake.client()
    fake.fail_next(401, code="401001")
    with pytest.raises(tca.SignInError):
        client.session()
    assert client.session().token


def test_a_long_rate_limit_raises_with_retry_after(fake: FakeTableau) -> None:
    fake.rate_limit_next(retry_after=3600)
    with pytest.raises(tca.RateLimitedError) as info:
        fake.client().session()
    assert info.value.retry_after == 3600.0 and info.value.status == 429


def test_a_short_rate_limit_is_waited_out(fake: FakeTableau) -> None:
    fake.rate_limit_next(retry_after=1)
    assert fake.client().session().token
    assert fake.stats()["sign_in_attempts"] == 2


def test_nothing_listening_is_a_transport_error() -> None:
    app = tca.ConnectedApp(client_id="c", secret_id="s", secret_value="v")
    client = tca.Client("http://127.0.0.1:1", site="x", retries=0,
                        credentials=app.credentials("u", scopes=["tableau:content:read"]))
    with pytest.raises(tca.TransportError, match="connect") as info:
        client.session()
    assert isinstance(info.value, ConnectionError)


def test_a_slow_server_is_a_timeout(fake: FakeTableau) -> None:
    fake.set_delay(2.0)
    with pytest.raises(tca.TableauTimeoutError) as info:
        fake.client(timeout=0.3).session()
    assert isinstance(info.value, TimeoutError) and "timeout=" in str(info.value)


def test_an_unknown_api_version_says_so(fake: FakeTableau) -> None:
    fake.set_max_api_version("3.20")
    with pytest.raises(tca.SignInError) as info:
        fake.client(api_version="3.24").session()
    assert info.value.code == "404003" and "api_version" in str(info.value)


def test_exceptions_pickle_with_their_fields(fake: FakeTableau) -> None:
    with pytest.raises(tca.SignInError) as info:
        fake.client(site="nope").session()
    again = pickle.loads(pickle.dumps(info.value))
    assert type(again) is tca.SignInError
    assert (again.status, again.code, str(again)) == (401, "401001", str(info.value))


def test_hierarchy() -> None:
    for cls in (tca.ConfigurationError, tca.SignInError, tca.SessionExpiredError, tca.RateLimitedError,
                tca.TransportError, tca.TableauTimeoutError, tca.ProtocolError, tca.TableauApiError):
        assert issubclass(cls, tca.TableauAuthError)
    assert issubclass(tca.ConfigurationError, ValueError)
    assert issubclass(tca.TableauTimeoutError, TimeoutError)
