"""Boundaries a session or a secret must never cross: user, origin, trust settings, process.

Each test here reproduces an attack or a careless use and checks that nothing crossed: the
other user's session is never handed out, the other origin receives no byte, the insecure
client's session never reaches the careful one, a forked child is never stuck on a lock.
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Iterator, List, Tuple

import pytest

import tableau_connected_auth as tca
from tableau_connected_auth.testing import FakeTableau

SCOPES = ["tableau:content:read"]
NS = "{http://tableau.com/api}"


def current_user(client: tca.Client) -> str:
    """The user name Tableau says the client's session belongs to (GET sessions/current)."""
    response = client.get("/api/3.24/sessions/current")
    assert response.status == 200, response.text
    user = ET.fromstring(response.content).find(f".//{NS}user")
    assert user is not None
    return user.attrib["name"]


# --- 1. one user is never handed another user's session --------------------------------------


def test_100_short_lived_jwt_callables_for_two_users_never_mix_up(fake: FakeTableau) -> None:
    other = "other@example.com"
    fake.add_user(other, site=fake.site)
    app = fake.connected_app
    mixed_up = 0
    for i in range(100):
        user = fake.username if i % 2 == 0 else other
        client = tca.Client(
            fake.url, site=fake.site, credentials=tca.Jwt(lambda u=user: app.jwt(u, scopes=SCOPES))  # type: ignore[misc]
        )
        if current_user(client) != user:
            mixed_up += 1
        del client
        gc.collect()  # CPython reuses the freed lambda's address for the next one
    assert mixed_up == 0
    assert fake.stats()["sign_ins"] == 100


def test_a_jwt_callable_that_changes_user_is_refused_and_its_session_signed_out(fake: FakeTableau) -> None:
    other = "other@example.com"
    fake.add_user(other, site=fake.site)
    users = iter([fake.username, other])
    client = tca.Client(
        fake.url, site=fake.site, credentials=tca.Jwt(lambda: fake.connected_app.jwt(next(users), scopes=SCOPES))
    )
    first = client.session()
    with pytest.raises(tca.ConfigurationError) as info:
        client.sign_in()
    assert "another user" in str(info.value) and "identity=" in str(info.value)
    assert client.session().token == first.token  # the first user's session is still the cached one
    assert current_user(client) == fake.username
    deadline = time.monotonic() + 5
    while fake.stats()["sign_outs"] < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert fake.stats()["sign_outs"] == 1  # the refused session did not live on


def test_a_jwt_callable_that_changes_user_is_refused_on_a_re_sign_in_after_a_401_too(fake: FakeTableau) -> None:
    other = "other@example.com"
    fake.add_user(other, site=fake.site)
    users = iter([fake.username, other, other])
    client = tca.Client(
        fake.url, site=fake.site, credentials=tca.Jwt(lambda: fake.connected_app.jwt(next(users), scopes=SCOPES))
    )
    assert current_user(client) == fake.username
    fake.expire_all_sessions()
    with pytest.raises(tca.ConfigurationError, match="another user"):
        client.get("workbooks")  # the dead session's re-sign-in (a lookup) mints for the other user


def test_jwts_share_sessions_only_when_given_the_same_identity(fake: FakeTableau) -> None:
    mint = lambda: fake.connected_app.jwt(fake.username, scopes=SCOPES)  # noqa: E731
    a = tca.Client(fake.url, site=fake.site, credentials=tca.Jwt(mint))
    b = tca.Client(fake.url, site=fake.site, credentials=tca.Jwt(mint))
    assert a.session().token != b.session().token  # same callable, two Jwt objects: not shared
    c = tca.Client(fake.url, site=fake.site, credentials=tca.Jwt(mint, identity="reporting"))
    d = tca.Client(fake.url, site=fake.site, credentials=tca.Jwt(lambda: mint(), identity="reporting"))
    assert c.session().token == d.session().token
    assert fake.stats()["sign_ins"] == 3
    with pytest.raises(tca.ConfigurationError, match="identity"):
        tca.Jwt(mint, identity=" ")


# --- 2. sign-in credentials stay at the configured origin -------------------------------------


class Recorder:
    """A TCP listener on 127.0.0.1 that counts connections and bytes, and answers nothing useful."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.received = b""
        self._stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.1)
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.settimeout(1)
            try:
                while True:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    self.received += chunk
                    if b"\r\n\r\n" in self.received:
                        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                        break
            except OSError:
                pass
            conn.close()

    def close(self) -> None:
        self._stop = True
        self.thread.join()
        self.sock.close()


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    r = Recorder()
    yield r
    r.close()


def other_origins(fake: FakeTableau, recorder: Recorder) -> List[str]:
    port = int(fake.url.rsplit(":", 1)[1])
    return [
        f"http://127.0.0.1:{recorder.port}/api/3.24/auth/signin",  # another port
        f"http://localhost:{recorder.port}/api/3.24/auth/signin",  # another host
        f"http://localhost:{port}/api/3.24/auth/signin",  # the same port under another name
    ]


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("method", ["pat", "password", "connected_app"])
def test_a_sign_in_redirected_to_another_origin_sends_it_nothing(
    fake: FakeTableau, recorder: Recorder, status: int, method: str
) -> None:
    credentials = {
        "pat": fake.pat,
        "password": tca.UsernamePassword(username=fake.username, password=fake.admin_password),
        "connected_app": fake.connected_app.credentials(fake.username, scopes=SCOPES),
    }[method]
    for target in other_origins(fake, recorder):
        fake.redirect_next(target, status=status, route="auth/signin")
        client = tca.Client(fake.url, site=fake.site, credentials=credentials, cache=None)
        with pytest.raises(tca.ProtocolError) as info:
            client.session()
        origin = target.split("/api/")[0]
        assert origin in str(info.value) and "pass it directly as the server" in str(info.value)
    assert recorder.connections == 0 and recorder.received == b""
    assert fake.stats()["sign_ins"] == 0


def test_a_redirect_to_the_same_origin_is_still_followed(fake: FakeTableau) -> None:
    fake.redirect_next("/api/3.24/auth/signin", status=308, route="auth/signin")
    assert fake.client().session().token
    assert fake.stats()["sign_in_attempts"] == 2


def test_a_redirect_from_https_to_http_sends_nothing(recorder: Recorder, tmp_path: Path) -> None:
    with FakeTableau(tls=True) as fake:
        ca = tmp_path / "ca.pem"
        ca.write_text(fake.ca_pem or "")
        port = fake.url.rsplit(":", 1)[1]
        for target in (f"http://127.0.0.1:{recorder.port}/x", f"http://127.0.0.1:{port}/api/3.24/auth/signin"):
            fake.redirect_next(target, status=301, route="auth/signin")
            client = tca.Client(fake.url, site=fake.site, credentials=fake.pat, ca_bundle=str(ca))
            with pytest.raises(tca.ProtocolError, match="in clear"):
                client.session()
        assert fake.stats()["sign_ins"] == 0
    assert recorder.connections == 0


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_requests_and_tsc_never_carry_the_token_to_another_origin(
    fake: FakeTableau, recorder: Recorder, status: int
) -> None:
    import requests

    from tableau_connected_auth import tsc

    client = fake.client()
    session = client.session()
    elsewhere = f"http://127.0.0.1:{recorder.port}/elsewhere"
    http = requests.Session()
    http.auth = client.requests_auth()
    fake.redirect_next(elsewhere, status=status, route="workbooks")
    assert http.get(session.url("workbooks"), timeout=10).status_code == 200  # the recorder's answer
    server = tsc.server(client)
    fake.redirect_next(elsewhere, status=status, route="workbooks")
    with pytest.raises(Exception):
        server.workbooks.get()  # the recorder's empty answer is no workbook list
    assert recorder.connections == 2, "both redirects were followed to the other origin"
    assert b"x-tableau-auth" not in recorder.received.lower()
    assert session.token.encode() not in recorder.received


def test_a_plain_httpx_client_that_follows_a_redirect_elsewhere_gets_its_session_ended(
    fake: FakeTableau, recorder: Recorder
) -> None:
    import httpx

    client = fake.client()
    session = client.session()
    fake.redirect_next(f"http://127.0.0.1:{recorder.port}/elsewhere", status=302, route="workbooks")
    with httpx.Client(auth=client.httpx_auth(), follow_redirects=True, timeout=10) as http:
        with pytest.raises(tca.ProtocolError, match="event_hooks"):
            http.get(session.url("workbooks"))
    # httpx sent it (an httpx.Auth never sees redirect hops), so the token must be dead.
    assert session.token.encode() in recorder.received
    assert not fake.is_session_alive(session.token)
    assert client.session().token != session.token


# --- 4. trust settings split the cache ---------------------------------------------------------


def test_an_unverified_client_never_shares_its_session_with_a_verifying_one(tmp_path: Path) -> None:
    with FakeTableau(tls=True) as fake:
        ca = tmp_path / "ca.pem"
        ca.write_text(fake.ca_pem or "")
        creds = fake.connected_app.credentials(fake.username, scopes=SCOPES)
        careless = tca.Client(fake.url, site=fake.site, credentials=creds, verify=False)
        careful = tca.Client(fake.url, site=fake.site, credentials=creds, ca_bundle=str(ca))
        also_careful = tca.Client(fake.url, site=fake.site, credentials=creds, verify=str(ca))
        assert careless.session().token != careful.session().token
        assert careful.session().token == also_careful.session().token  # verify=path is ca_bundle=path
        assert fake.stats()["sign_ins"] == 2


# --- 9. small ones -------------------------------------------------------------------------------


def test_a_post_through_request_is_not_retried_on_503(fake: FakeTableau) -> None:
    client = fake.client()
    client.session()
    before = fake.stats()["requests"]
    fake.fail_next(503, route="workbooks")
    response = client.post("workbooks", data=b"<tsRequest/>")
    assert response.status == 503
    assert fake.stats()["requests"] - before == 1


def test_a_get_through_request_is_retried_on_503(fake: FakeTableau) -> None:
    client = fake.client()
    client.session()
    before = fake.stats()["requests"]
    fake.fail_next(503, route="workbooks")
    assert client.get("workbooks").status == 200
    assert fake.stats()["requests"] - before == 2


def test_a_single_use_jwt_reports_the_transport_error_not_already_used(fake: FakeTableau) -> None:
    token = fake.connected_app.jwt(fake.username, scopes=SCOPES)
    client = tca.Client("http://127.0.0.1:1", site=fake.site, credentials=tca.Jwt(token), retries=3)
    with pytest.raises(tca.TransportError) as info:
        client.session()
    assert "already used" not in str(info.value)


def test_an_injected_sign_in_failure_spends_the_jwt_like_a_server_that_fails_late(fake: FakeTableau) -> None:
    token = fake.connected_app.jwt(fake.username, scopes=SCOPES)
    body = (
        f'<tsRequest><credentials jwt="{token}"><site contentUrl="{fake.site}"/></credentials></tsRequest>'
    ).encode()

    def post() -> Tuple[int, str]:
        request = urllib.request.Request(
            f"{fake.url}/api/3.24/auth/signin", data=body, headers={"Content-Type": "application/xml"}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    for inject in (
        lambda: fake.fail_next(503, route="auth/signin"),
        lambda: fake.rate_limit_next(route="auth/signin"),
        lambda: fake.html_next(status=502, route="auth/signin"),
        lambda: fake.empty_next(status=500, route="auth/signin"),
    ):
        token = fake.connected_app.jwt(fake.username, scopes=SCOPES)
        body = body.split(b'jwt="')[0] + b'jwt="' + token.encode() + b'"' + body.split(b'"', 2)[2]
        inject()
        assert post()[0] >= 429
        status, answer = post()  # the same JWT again, as a careless retry would send it
        assert status == 401 and "(10091)" in answer, answer
    # A client retries with a fresh JWT each time, so it gets through.
    fake.fail_next(503, times=2, route="auth/signin")
    assert fake.client().session().token


# --- 5/6. password stretching: off the event loop, and a fork in the middle of it ------------------


def _password_client(fake: FakeTableau, cache_dir: Path) -> tca.Client:
    creds = tca.UsernamePassword(username=fake.username, password=fake.admin_password)
    return tca.Client(fake.url, site=fake.site, credentials=creds, cache=tca.DiskCache(str(cache_dir)))


@pytest.mark.skipif(sys.platform == "win32", reason="fork")
def test_a_fork_while_a_password_is_being_stretched_leaves_the_child_working(fake: FakeTableau, tmp_path: Path) -> None:
    # Each run uses a new password, so the stretch (600,000 PBKDF2 rounds) really runs.
    for attempt in range(3):
        password = f"pw-{attempt}-{os.getpid()}"
        fake.add_user(f"u{attempt}@example.com", site=fake.site, password=password)
        creds = tca.UsernamePassword(username=f"u{attempt}@example.com", password=password)
        client = tca.Client(fake.url, site=fake.site, credentials=creds, cache=tca.DiskCache(str(tmp_path / "c")))
        worker = threading.Thread(target=client.session)
        worker.start()
        time.sleep(0.02)  # the stretch is under way on a runtime thread
        pid = os.fork()
        if pid == 0:  # the child: a client of its own must sign in, not hang on a lock
            code = 1
            try:
                child = tca.Client(
                    fake.url, site=fake.site, credentials=creds, cache=tca.DiskCache(str(tmp_path / "c")), timeout=10
                )
                code = 0 if child.session().token else 1
            finally:
                os._exit(code)
        deadline = time.monotonic() + 30
        status = None
        while time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.02)
        else:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("the forked child hung")
        worker.join()
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def test_an_async_client_stretches_a_password_off_the_event_loop(fake: FakeTableau, tmp_path: Path) -> None:
    password = f"pw-async-{os.getpid()}"
    fake.add_user("async@example.com", site=fake.site, password=password)
    creds = tca.UsernamePassword(username="async@example.com", password=password)

    async def main() -> int:
        ticks = 0
        stop = asyncio.Event()

        async def ticker() -> None:
            nonlocal ticks
            while not stop.is_set():
                ticks += 1
                await asyncio.sleep(0.002)

        task = asyncio.ensure_future(ticker())
        await asyncio.sleep(0)
        client = tca.AsyncClient(fake.url, site=fake.site, credentials=creds, cache=tca.DiskCache(str(tmp_path / "c")))
        await client.session()
        stop.set()
        await task
        return ticks

    # 600,000 rounds take a few hundred ms: on the loop, the ticker would run about twice.
    assert asyncio.run(main()) >= 10
