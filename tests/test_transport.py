"""Hardened transport: proxies, retries, rate limits, timeouts, redirects, oversize bodies and
TLS, all on loopback."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

import tableau_connected_auth as tca
from tableau_connected_auth.testing import FakeTableau

sys.path.insert(0, os.path.dirname(__file__))
from forward_proxy import ForwardProxy  # noqa: E402


def test_explicit_proxy_carries_sign_in_and_calls(fake: FakeTableau) -> None:
    with ForwardProxy() as proxy:
        client = fake.client(proxy=proxy.url)
        s = client.session()
        assert client.get("workbooks").ok
        client.sign_out()
    methods = [m for m, _ in proxy.seen]
    assert methods == ["POST", "GET", "POST"]
    assert proxy.seen[0][1] == f"{fake.url}/api/3.24/auth/signin"
    assert not fake.is_session_alive(s.token)


def test_proxy_with_credentials_in_the_url_is_masked_everywhere(fake: FakeTableau) -> None:
    with ForwardProxy(username="proxyuser", password="proxy-pass-9f8e7d") as proxy:
        url = proxy.url.replace("http://", "http://proxyuser:proxy-pass-9f8e7d@")
        client = fake.client(proxy=url)
        assert client.session().token
        assert proxy.refused == 0 and len(proxy.seen) == 1
        assert "proxy-pass-9f8e7d" not in repr(client)
    dead = fake.client(proxy="http://proxyuser:proxy-pass-9f8e7d@127.0.0.1:1", retries=0,
                       scopes=["tableau:content:read", "tableau:views:embed"])
    with pytest.raises(tca.TransportError) as info:
        dead.session()
    assert "proxy-pass-9f8e7d" not in str(info.value) and "proxy-pass-9f8e7d" not in repr(dead)


def test_proxy_from_the_environment() -> None:
    with ForwardProxy() as proxy:
        script = textwrap.dedent("""
            from tableau_connected_auth.testing import FakeTableau
            with FakeTableau() as fake:
                print(fake.client().session().site_content_url)
        """)
        env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
        env["HTTP_PROXY"] = proxy.url
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env)
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == "mysite"
        assert [m for m, _ in proxy.seen] == ["POST"]
        env["NO_PROXY"] = "127.0.0.1"
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env)
        assert out.returncode == 0, out.stderr
        assert len(proxy.seen) == 1  # NO_PROXY bypassed it


def test_idempotent_calls_are_retried_on_transient_failures(fake: FakeTableau) -> None:
    client = fake.client()
    client.session()
    fake.fail_next(503, times=2, route="workbooks")
    assert client.get("workbooks").ok
    assert fake.stats()["workbooks"] == 3
    fake.fail_next(503, times=5, route="workbooks")
    r = fake.client(retries=1).get("workbooks")
    assert r.status == 503


def test_credential_failures_are_never_retried(fake: FakeTableau) -> None:
    with pytest.raises(tca.SignInError):
        fake.client(site="nope").session()
    assert fake.stats()["sign_in_attempts"] == 1


def test_rate_limit_wait_is_bounded_by_the_client(fake: FakeTableau) -> None:
    fake.rate_limit_next(retry_after=2)
    with pytest.raises(tca.RateLimitedError) as info:
        fake.client(rate_limit_max_wait=1).session()
    assert info.value.retry_after == 2.0
    fake.rate_limit_next(retry_after=120, html=True)
    with pytest.raises(tca.RateLimitedError) as info2:
        fake.client().session()
    assert info2.value.retry_after == 120.0


def test_a_429_without_retry_after_backs_off_and_succeeds(fake: FakeTableau) -> None:
    fake.rate_limit_next(retry_after=None)  # no header: backoff, then success
    assert fake.client().session().token
    assert fake.stats()["sign_in_attempts"] == 2


def test_verify_false_warns_once() -> None:
    script = textwrap.dedent("""
        import logging
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
        from tableau_connected_auth.testing import FakeTableau
        with FakeTableau() as fake:
            for _ in range(3):
                fake.client(verify=False).sign_in()
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stderr.count("verify=False") == 1, out.stderr


def test_connect_timeout_and_rate_limit_wait_are_checked() -> None:
    app = tca.ConnectedApp(client_id="c", secret_id="s", secret_value="v")
    creds = app.credentials("u", scopes=["tableau:content:read"])
    for kw, needle in [({"connect_timeout": 0}, "connect_timeout"), ({"connect_timeout": "1"}, "connect_timeout"),
                       ({"rate_limit_max_wait": -1}, "rate_limit_max_wait"),
                       ({"client_cert": "/nonexistent.pem"}, "client_cert"),
                       ({"client_cert": ("a", "b", "c")}, "client_cert")]:
        with pytest.raises(tca.ConfigurationError, match=needle):
            tca.Client("https://h", site="s", credentials=creds, **kw)  # type: ignore[arg-type]
