"""Hardened transport: proxies, retries, rate limits, timeouts, redirects, oversize bodies and
TLS, all on loopback."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest

import tableau_connected_auth as tca
from tableau_connected_auth.testing import FakeTableau

sys.path.insert(0, os.path.dirname(__file__))
from forward_proxy import ForwardProxy, Socks5Proxy  # noqa: E402


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


def test_a_socks5h_proxy_resolves_the_host_name_itself(fake: FakeTableau) -> None:
    port = int(fake.url.rsplit(":", 1)[1])
    with Socks5Proxy() as proxy:
        client = tca.Client(f"http://localhost:{port}", site=fake.site, credentials=fake.connected_app.credentials(
            fake.username, scopes=["tableau:content:read"]), proxy=proxy.url("socks5h"))
        s = client.session()
        assert client.get("workbooks").ok
        client.sign_out()
        assert proxy.seen and set(proxy.seen) == {("localhost", port)}  # the name, not an address
    assert not fake.is_session_alive(s.token)


def test_a_socks5_proxy_with_credentials_is_masked_everywhere(fake: FakeTableau) -> None:
    port = int(fake.url.rsplit(":", 1)[1])
    with Socks5Proxy(username="sockuser", password="socks-pass-4d3c2b") as proxy:
        url = proxy.url("socks5").replace("socks5://", "socks5://sockuser:socks-pass-4d3c2b@")
        client = fake.client(proxy=url)
        assert client.session().token
        assert proxy.refused == 0 and set(proxy.seen) == {("127.0.0.1", port)}
        assert "socks-pass-4d3c2b" not in repr(client)
        wrong = fake.client(proxy=url.replace("socks-pass-4d3c2b", "wrong-pass-1a2b3c"), retries=0,
                            scopes=["tableau:content:read", "tableau:views:embed"])
        with pytest.raises(tca.TransportError) as info:
            wrong.session()
        assert proxy.refused == 1
        assert "wrong-pass-1a2b3c" not in str(info.value) and "wrong-pass-1a2b3c" not in repr(wrong)


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


@pytest.fixture
def tls_fake():  # type: ignore[no-untyped-def]
    with FakeTableau(tls=True) as t:
        yield t


def _handshake_failures(fake: FakeTableau, expected: int) -> int:
    """The fake counts a failed handshake on its own thread, a moment after the client gave up:
    wait (bounded) for the count to reach `expected`, then return it."""
    deadline = time.monotonic() + 5
    while fake.stats()["tls_handshake_failures"] < expected and time.monotonic() < deadline:
        time.sleep(0.01)
    return int(fake.stats()["tls_handshake_failures"])


def _write(tmp_path, name: str, text: str) -> str:  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_tls_with_a_private_ca_needs_ca_bundle(tls_fake: FakeTableau, tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert tls_fake.url.startswith("https://") and tls_fake.ca_pem
    with pytest.raises(tca.TransportError) as info:
        tls_fake.client(retries=0).session()
    assert "ca_bundle" in str(info.value) and "TLS" in str(info.value)
    assert _handshake_failures(tls_fake, 1) == 1
    with pytest.raises(tca.TransportError):
        tls_fake.client(retries=3, scopes=["tableau:views:embed"]).session()
    assert _handshake_failures(tls_fake, 2) == 2
    time.sleep(0.5)  # retries would have come within the first backoff (<= 0.2 s)
    assert tls_fake.stats()["tls_handshake_failures"] == 2  # TLS failures are not retried
    ca = _write(tmp_path, "ca.pem", tls_fake.ca_pem or "")
    assert tls_fake.client(ca_bundle=ca).session().token
    assert tls_fake.client(verify=ca, scopes=["tableau:content:read", "tableau:views:embed"]).session().token


def test_verify_false_accepts_any_certificate(tls_fake: FakeTableau) -> None:
    assert tls_fake.client(verify=False).get("workbooks").ok


def test_requests_ca_bundle_from_the_environment(tls_fake: FakeTableau, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ca = _write(tmp_path, "ca.pem", tls_fake.ca_pem or "")
    script = textwrap.dedent(f"""
        import tableau_connected_auth as tca
        app = tca.ConnectedApp(client_id={tls_fake.app_client_id!r}, secret_id={tls_fake.app_secret_id!r},
                               secret_value={tls_fake.app_secret_value!r})
        client = tca.Client({tls_fake.url!r}, site="mysite",
                            credentials=app.credentials({tls_fake.username!r}, scopes=["tableau:content:read"]))
        print(client.session().site_content_url)
    """)
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        env = {k: v for k, v in os.environ.items() if k not in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")}
        env[name] = ca
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env)
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == "mysite"


def test_mutual_tls_with_a_client_certificate(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with FakeTableau(require_client_cert=True) as fake:
        ca = _write(tmp_path, "ca.pem", fake.ca_pem or "")
        cert_pem, key_pem = fake.client_identity or ("", "")
        cert, key = _write(tmp_path, "cert.pem", cert_pem), _write(tmp_path, "key.pem", key_pem)
        both = _write(tmp_path, "both.pem", cert_pem + key_pem)
        with pytest.raises(tca.TransportError):
            fake.client(ca_bundle=ca, retries=0).session()
        assert fake.client(ca_bundle=ca, client_cert=(cert, key)).session().token
        assert fake.client(ca_bundle=ca, client_cert=both, scopes=["tableau:views:embed"]).session().token
        with pytest.raises(tca.ConfigurationError, match="no private key"):
            fake.client(ca_bundle=ca, client_cert=cert)


def test_tls_through_a_proxy_tunnel(tls_fake: FakeTableau, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ca = _write(tmp_path, "ca.pem", tls_fake.ca_pem or "")
    with ForwardProxy() as proxy:
        assert tls_fake.client(ca_bundle=ca, proxy=proxy.url).get("workbooks").ok
    assert proxy.seen[0][0] == "CONNECT"


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirected_sign_in_is_re_posted(fake: FakeTableau, status: int) -> None:
    fake.redirect_next(f"{fake.url}/api/3.24/auth/signin", status=status)
    assert fake.client().session().token
    assert fake.stats()["sign_in_attempts"] == 2
    assert fake.last_sign_in_request()[1].startswith("<tsRequest><credentials jwt=")


def test_a_redirect_from_https_to_http_is_refused(tls_fake: FakeTableau, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ca = _write(tmp_path, "ca.pem", tls_fake.ca_pem or "")
    plain = tls_fake.url.replace("https://", "http://")
    tls_fake.redirect_next(f"{plain}/api/3.24/auth/signin", status=308)
    with pytest.raises(tca.ProtocolError, match="refused"):
        tls_fake.client(ca_bundle=ca).session()
    assert tls_fake.stats()["sign_in_attempts"] == 1  # a refused downgrade is never retried


def test_redirect_loops_are_bounded(fake: FakeTableau) -> None:
    fake.redirect_next(f"{fake.url}/api/3.24/auth/signin", times=20)
    with pytest.raises(tca.ProtocolError, match="redirected more than"):
        fake.client().session()


def test_405_on_sign_in_hints_at_https(fake: FakeTableau) -> None:
    fake.fail_next(405, code="405000")
    with pytest.raises(tca.SignInError) as info:
        fake.client().session()
    assert "https://" in str(info.value)


def test_oversize_answers_are_refused(fake: FakeTableau) -> None:
    fake.oversize_next(2 * 1024 * 1024)
    with pytest.raises(tca.ProtocolError, match="larger than 1024 KiB"):
        fake.client().session()


def test_stopping_a_tls_fake_never_deadlocks_with_logging() -> None:
    # rustls logs on the fake's thread through Python logging (it needs the GIL); stopping the
    # fake must release the GIL while it waits for that thread.
    script = textwrap.dedent("""
        import logging
        logging.basicConfig(level=logging.DEBUG, format="%(name)s %(message)s")
        import tableau_connected_auth as tca
        from tableau_connected_auth.testing import FakeTableau
        for _ in range(15):
            with FakeTableau(tls=True) as fake:
                try:
                    fake.client(retries=0).session()
                except tca.TransportError:
                    pass
            fake = FakeTableau(require_client_cert=True)
            try:
                fake.client(retries=0).session()
            except tca.TransportError:
                pass
            del fake  # dropped without stop(): must not wait for the server thread
        print("done")
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "done"
