"""Sessions that stay alive: shared cache, one sign-in per burst, re-auth on 401, fork, Ctrl-C
and the GIL. Counts come from FakeTableau's counters; timing margins are generous on purpose."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import textwrap
import threading
import time
from typing import Any, List

import pytest

import tableau_connected_auth as tca
from tableau_connected_auth.testing import FakeTableau
from bursts import errors_of_a_burst


def test_64_threads_times_1000_calls_make_one_sign_in(fake: FakeTableau) -> None:
    fake.set_delay(0.2, route="auth/signin")  # every thread arrives while the sign-in is in flight
    client = fake.client()
    tokens = set()

    def work() -> None:
        for _ in range(1000):
            tokens.add(client.session().token)

    assert errors_of_a_burst(64, work) == []
    assert len(tokens) == 1
    assert fake.stats()["sign_ins"] == 1
    assert fake.stats()["sign_in_attempts"] == 1


def test_request_reauthenticates_once_after_server_side_expiry(fake: FakeTableau) -> None:
    client = fake.client()
    first = client.session()
    assert client.get("workbooks").status == 200
    fake.expire_all_sessions()
    r = client.get("workbooks")
    assert r.status == 200 and r.ok
    assert fake.stats()["sign_ins"] == 2
    assert client.session().token != first.token


def test_fifty_threads_hitting_401_together_cause_one_re_sign_in(fake: FakeTableau) -> None:
    client = fake.client()
    client.session()
    fake.expire_all_sessions()
    statuses: List[int] = []
    assert errors_of_a_burst(50, lambda: statuses.append(client.get("workbooks").status)) == []
    assert statuses == [200] * 50
    assert fake.stats()["sign_ins"] == 2


def test_a_failed_sign_in_reaches_every_waiter_and_is_not_cached(fake: FakeTableau) -> None:
    fake.set_delay(0.3, route="auth/signin")
    fake.fail_next(401, code="401001")
    client = fake.client()
    errors = errors_of_a_burst(32, client.session)
    assert len(errors) == 32 and all(isinstance(e, tca.SignInError) for e in errors)
    assert fake.stats()["sign_in_attempts"] == 1
    fake.set_delay(0)
    assert client.session().token
    assert fake.stats()["sign_ins"] == 1


def test_a_session_past_max_age_is_refreshed(fake: FakeTableau) -> None:
    client = fake.client(max_session_age=1)
    first = client.session()
    time.sleep(1.2)
    assert client.session().token != first.token
    assert fake.stats()["sign_ins"] == 2


def test_expiry_hint_refreshes_before_it(fake: FakeTableau) -> None:
    fake.set_estimated_time_to_expiration("0:00:02")  # a tenth of it (0.2 s) is the margin
    client = fake.client()
    first = client.session()
    assert client.session() is first
    time.sleep(2.0)
    assert client.session().token != first.token


def test_request_shapes(fake: FakeTableau) -> None:
    client = fake.client(wire_format="json")
    r = client.get("workbooks", params={"pageSize": 10})
    r.raise_for_status()
    assert r.json()["workbooks"]["workbook"][0]["name"] == "Superstore"
    assert "pageSize=10" in r.url and "/sites/" in r.url
    assert r.headers["content-type"].startswith("application/json")
    info = client.get("/api/3.24/serverinfo")
    assert info.status == 200 and "restApiVersion" in info.text
    current = client.request("GET", f"{fake.url}/api/3.24/sessions/current")
    assert current.ok
    missing = client.get("no-such-thing")
    assert missing.status == 404
    with pytest.raises(tca.TableauApiError) as e:
        missing.raise_for_status()
    assert e.value.status == 404
    with pytest.raises(tca.ConfigurationError, match="only sent"):
        client.get("https://elsewhere.example.com/api/3.24/serverinfo")
    with pytest.raises(tca.ConfigurationError, match="not both"):
        client.post("workbooks", json={}, data="x")


def test_a_dead_token_without_refresh_raises_session_expired(fake: FakeTableau) -> None:
    # A PAT session: a 401002 that survives one re-sign-in is a dead session. (On a JWT session
    # it is a missing scope: tests/test_scopes.py.)
    client = tca.Client(fake.url, site=fake.site,
                        credentials=tca.PersonalAccessToken(fake.pat_name, fake.pat_secret))
    s = client.session()
    fake.expire_all_sessions()
    client.invalidate(s)
    r = client.get("workbooks")  # signs in again by itself
    assert r.ok
    fake.set_session_ttl(0)
    fake.expire_all_sessions()
    r = client.get("workbooks")  # the fresh session is dead at once: one retry, then the 401
    assert r.status == 401
    with pytest.raises(tca.SessionExpiredError):
        r.raise_for_status()


def _child_work(url: str, site: str, client_id: str, secret_id: str, secret_value: str,
                username: str, queue: Any) -> None:
    app = tca.ConnectedApp(client_id=client_id, secret_id=secret_id, secret_value=secret_value)
    client = tca.Client(url, site=site, credentials=app.credentials(username, scopes=["tableau:content:read"]))
    cached = client.session().token
    status = client.get("workbooks").status
    fresh = client.sign_in().token
    queue.put((cached, status, fresh))


def test_a_forked_child_reuses_the_cached_session_and_can_sign_in(fake: FakeTableau) -> None:
    client = fake.client()
    parent_token = client.session().token
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: must never return into pytest
        code = 1
        try:
            os.close(read)
            c = fake.client()
            same = c.session().token == parent_token
            ok = c.get("workbooks").status == 200
            fresh = c.sign_in().token != parent_token
            os.write(write, f"{same} {ok} {fresh}".encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    _, status = os.waitpid(pid, 0)
    answer = os.read(read, 100).decode()
    os.close(read)
    assert os.WEXITSTATUS(status) == 0 and answer == "True True True"
    # The parent keeps working with its own runtime.
    assert client.get("workbooks").status == 200
    assert fake.stats()["sign_ins"] >= 2


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_multiprocessing_children_work(fake: FakeTableau, method: str) -> None:
    fake.client().session()  # the parent has a runtime and a cached session before the fork
    ctx = multiprocessing.get_context(method)
    queue = ctx.Queue()
    procs = [ctx.Process(target=_child_work, args=(fake.url, fake.site, fake.app_client_id, fake.app_secret_id,
                                                   fake.app_secret_value, fake.username, queue))
             for _ in range(2)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    for cached, status, fresh in results:
        assert status == 200 and cached != fresh
    assert fake.client().get("workbooks").ok


def test_ctrl_c_interrupts_a_hung_sign_in_quickly_and_leaves_the_cache_consistent() -> None:
    script = textwrap.dedent("""
        import os, signal, threading, time
        from tableau_connected_auth.testing import FakeTableau
        with FakeTableau() as fake:
            fake.set_delay(3.0, route="auth/signin")
            client = fake.client()
            threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
            start = time.monotonic()
            try:
                client.session()
                print("no interrupt")
            except KeyboardInterrupt:
                print(f"interrupted after {time.monotonic() - start - 0.3:.3f}")
            fake.set_delay(0)
            s = client.session()   # joins the sign-in still in flight: no second sign-in
            print("sign_ins", fake.stats()["sign_ins"], bool(s.token))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("interrupted after"), out.stdout
    assert float(lines[0].split()[-1]) < 1.0
    assert lines[1] == "sign_ins 1 True"


def test_other_python_threads_run_while_a_call_waits(fake: FakeTableau) -> None:
    fake.set_delay(1.0, route="auth/signin")
    count = 0
    stop = threading.Event()

    def counter() -> None:
        nonlocal count
        while not stop.is_set():
            count += 1

    t = threading.Thread(target=counter)
    t.start()
    try:
        fake.client().session()
    finally:
        stop.set()
        t.join()
    assert count > 100_000  # millions without the GIL held; a held GIL would leave ~0
