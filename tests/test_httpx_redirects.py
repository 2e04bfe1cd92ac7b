"""``HttpxAuth`` never lets httpx carry the session token to another origin on a redirect.

httpx follows redirects inside the client and copies every header but ``Authorization`` to the
next hop; ``HttpxAuth.event_hooks`` / ``async_event_hooks`` (used by ``http_client()`` and
``async_http_client()``) drop ``X-Tableau-Auth`` from any hop that is not for the server. Here
the server is a ``FakeTableau`` told to redirect ``.../workbooks`` to a recorder on another port
of 127.0.0.1 (another origin), which notes every request's headers and answers 200.
"""

from __future__ import annotations

import asyncio
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, Iterator, List

import pytest

import tableau_connected_auth as tca
from tableau_connected_auth.testing import FakeTableau

httpx = pytest.importorskip("httpx")

REDIRECTS = [301, 302, 303, 307, 308]
TOKEN_HEADER = "x-tableau-auth"


class Recorder:
    """An HTTP server on 127.0.0.1 that records each request's headers and answers 200."""

    def __init__(self) -> None:
        self.requests: List[Dict[str, str]] = []
        recorded = self.requests

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                recorded.append({k.lower(): v for k, v in self.headers.items()})
                body = b"recorded"
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = _answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    r = Recorder()
    try:
        yield r
    finally:
        r.close()


def redirect_elsewhere(fake: FakeTableau, recorder: Recorder, status: int) -> str:
    """Make the fake answer the next ``.../workbooks`` with ``status`` to the recorder."""
    assert recorder.url.rsplit(":", 1)[1] != fake.url.rsplit(":", 1)[1]  # another origin
    elsewhere = f"{recorder.url}/elsewhere"
    fake.redirect_next(elsewhere, status=status, route="workbooks")
    return elsewhere


def check_redirected(r: Any, status: int, elsewhere: str, recorder: Recorder, token: str) -> None:
    """The redirect was followed to the recorder, and the token went to the fake only."""
    assert [h.status_code for h in r.history] == [status]
    assert r.history[0].request.headers["X-Tableau-Auth"] == token  # it was added, for the fake
    assert r.status_code == 200 and str(r.url) == elsewhere and r.text == "recorded"
    assert "X-Tableau-Auth" not in r.request.headers
    assert len(recorder.requests) == 1, recorder.requests
    assert TOKEN_HEADER not in recorder.requests[0]


def check_same_origin(r: Any, token: str, redirects: int = 0) -> None:
    """A request to the fake itself still carries the token and succeeds."""
    assert r.status_code == 200 and len(r.history) == redirects, r.text
    assert r.request.headers["X-Tableau-Auth"] == token


def follow_sync(http: Any, fake: FakeTableau, recorder: Recorder, client: tca.Client, status: int) -> None:
    url = client.session().url("workbooks")
    token = client.session().token
    elsewhere = redirect_elsewhere(fake, recorder, status)
    check_redirected(http.get(url), status, elsewhere, recorder, token)
    check_same_origin(http.get(url), token)
    fake.redirect_next(url, status=status, route="workbooks")  # a redirect within the server keeps it
    check_same_origin(http.get(url), token, redirects=1)
    assert len(recorder.requests) == 1


async def follow_async(http: Any, fake: FakeTableau, recorder: Recorder, aclient: tca.AsyncClient, status: int) -> None:
    session = await aclient.session()
    url, token = session.url("workbooks"), session.token
    elsewhere = redirect_elsewhere(fake, recorder, status)
    check_redirected(await http.get(url), status, elsewhere, recorder, token)
    check_same_origin(await http.get(url), token)
    fake.redirect_next(url, status=status, route="workbooks")
    check_same_origin(await http.get(url), token, redirects=1)
    assert len(recorder.requests) == 1


def async_client_for(fake: FakeTableau) -> tca.AsyncClient:
    credentials = fake.connected_app.credentials(fake.username, scopes=["tableau:content:read"])
    return tca.AsyncClient(fake.url, site=fake.site, credentials=credentials)


@pytest.mark.parametrize("status", REDIRECTS)
def test_http_client_drops_the_token_on_a_redirect_elsewhere(
    fake: FakeTableau, recorder: Recorder, status: int
) -> None:
    client = fake.client()
    auth = client.httpx_auth()
    with auth.http_client(follow_redirects=True, timeout=10) as http:
        assert isinstance(http, httpx.Client) and http.auth is auth
        follow_sync(http, fake, recorder, client, status)


@pytest.mark.parametrize("status", REDIRECTS)
def test_async_http_client_drops_the_token_on_a_redirect_elsewhere(
    fake: FakeTableau, recorder: Recorder, status: int
) -> None:
    aclient = async_client_for(fake)
    auth = aclient.httpx_auth()

    async def main() -> None:
        async with auth.async_http_client(follow_redirects=True, timeout=10) as http:
            assert isinstance(http, httpx.AsyncClient) and http.auth is auth
            await follow_async(http, fake, recorder, aclient, status)

    asyncio.run(main())


@pytest.mark.parametrize("status", REDIRECTS)
def test_event_hooks_on_a_users_client_drop_the_token_on_a_redirect_elsewhere(
    fake: FakeTableau, recorder: Recorder, status: int
) -> None:
    client = fake.client()
    auth = client.httpx_auth()
    with httpx.Client(auth=auth, event_hooks=auth.event_hooks, follow_redirects=True, timeout=10) as http:
        follow_sync(http, fake, recorder, client, status)


@pytest.mark.parametrize("status", REDIRECTS)
def test_async_event_hooks_on_a_users_client_drop_the_token_on_a_redirect_elsewhere(
    fake: FakeTableau, recorder: Recorder, status: int
) -> None:
    aclient = async_client_for(fake)
    auth = aclient.httpx_auth()

    async def main() -> None:
        hooks = auth.async_event_hooks
        async with httpx.AsyncClient(auth=auth, event_hooks=hooks, follow_redirects=True, timeout=10) as http:
            await follow_async(http, fake, recorder, aclient, status)

    asyncio.run(main())


def test_a_blocking_clients_auth_in_async_http_client(fake: FakeTableau, recorder: Recorder) -> None:
    client = fake.client()

    async def main() -> None:
        async with client.httpx_auth().async_http_client(follow_redirects=True, timeout=10) as http:
            url, token = client.session().url("workbooks"), client.session().token
            elsewhere = redirect_elsewhere(fake, recorder, 307)
            check_redirected(await http.get(url), 307, elsewhere, recorder, token)

    asyncio.run(main())


def test_the_factories_keep_the_callers_event_hooks(fake: FakeTableau, recorder: Recorder) -> None:
    client = fake.client()
    auth = client.httpx_auth()
    seen: List[str] = []

    def on_request(request: Any) -> None:
        seen.append(f"request {request.url.port}")

    def on_response(response: Any) -> None:
        seen.append(f"response {response.status_code}")

    theirs: Dict[str, List[Callable[..., Any]]] = {"request": [on_request], "response": [on_response]}
    with auth.http_client(event_hooks=theirs, follow_redirects=True, timeout=10) as http:
        assert theirs == {"request": [on_request], "response": [on_response]}  # not changed
        url, token = client.session().url("workbooks"), client.session().token
        elsewhere = redirect_elsewhere(fake, recorder, 302)
        check_redirected(http.get(url), 302, elsewhere, recorder, token)
    fake_port, recorder_port = fake.url.rsplit(":", 1)[1], recorder.url.rsplit(":", 1)[1]
    hops = [f"request {fake_port}", "response 302", f"request {recorder_port}", "response 200"]
    assert seen == hops

    aclient = async_client_for(fake)
    aauth = aclient.httpx_auth()
    seen.clear()
    recorder.requests.clear()

    async def on_request_async(request: Any) -> None:
        on_request(request)

    async def on_response_async(response: Any) -> None:
        on_response(response)

    async def main() -> None:
        hooks = {"request": [on_request_async], "response": [on_response_async]}
        async with aauth.async_http_client(event_hooks=hooks, follow_redirects=True, timeout=10) as http:
            session = await aclient.session()
            elsewhere = redirect_elsewhere(fake, recorder, 302)
            check_redirected(await http.get(session.url("workbooks")), 302, elsewhere, recorder, session.token)

    asyncio.run(main())
    assert seen == hops


def test_event_hooks_are_fresh_and_of_the_right_kind(fake: FakeTableau) -> None:
    auth = fake.client().httpx_auth()
    hooks = auth.event_hooks
    hooks["request"].append(print)
    assert len(auth.event_hooks["request"]) == 1  # a new dict and list each time
    assert not asyncio.iscoroutinefunction(auth.event_hooks["request"][0])
    assert asyncio.iscoroutinefunction(auth.async_event_hooks["request"][0])
    assert fake.stats()["sign_ins"] == 0  # no sign-in just to make hooks
