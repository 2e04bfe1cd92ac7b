"""Sessions shared across processes: DiskCache and RedisCache (issue 9).

Real processes (multiprocessing with fork and spawn) and a real redis-server; FakeTableau counts
the sign-ins. Children report token digests, never tokens.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import stat
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

import shared_workers as w
from processes import app_spec, run, sign_ins, sixteen_start_together
import tableau_connected_auth as tca
from redis_server import RedisServer, Resp, shared_url
from tableau_connected_auth.testing import FakeTableau

Spec = Dict[str, Any]


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    url = shared_url()
    if url:
        yield url
        return
    try:
        server = RedisServer()
    except RuntimeError as e:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(e))
    try:
        yield server.url
    finally:
        server.close()


@pytest.fixture(params=["disk", "redis"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Spec:
    if request.param == "disk":
        return {"cache": "disk", "path": str(tmp_path / "cache")}
    url = request.getfixturevalue("redis_url")
    return {"cache": "redis", "url": url, "prefix": f"tca-test-{uuid.uuid4().hex[:12]}"}




def fresh_process_session(spec: Spec, method: str = "spawn") -> str:
    """The token digest a brand-new process gets from `session()`."""
    ctx = multiprocessing.get_context(method)
    results = ctx.Queue()
    run(ctx, w.first_session, [(spec, results)])
    digest: str = results.get(timeout=10)
    return digest


def stored_entries(spec: Spec) -> Dict[str, bytes]:
    """What the shared cache holds: {name: sealed bytes}."""
    if spec["cache"] == "disk":
        d = Path(spec["path"])
        return {p.name: p.read_bytes() for p in d.glob("*.session")} if d.exists() else {}
    r = Resp(spec["url"])
    try:
        keys = r.command("KEYS", f"{spec['prefix']}:session:*")
        assert isinstance(keys, list)
        out = {}
        for k in keys:
            assert isinstance(k, bytes)
            v = r.command("GET", k)
            assert isinstance(v, bytes)
            out[k.decode()] = v
        return out
    finally:
        r.close()


def put_entry(spec: Spec, name: str, value: bytes) -> None:
    if spec["cache"] == "disk":
        path = Path(spec["path"]) / name
        path.write_bytes(value)
        path.chmod(0o600)
        return
    r = Resp(spec["url"])
    try:
        r.command("SET", name, value, "PX", 600_000)
    finally:
        r.close()


def lock_is_held(spec: Spec) -> bool:
    if spec["cache"] == "disk":
        locks = list(Path(spec["path"]).glob("*.lock"))
        return bool(locks) and w.lock_held(str(locks[0]))
    r = Resp(spec["url"])
    try:
        keys = r.command("KEYS", f"{spec['prefix']}:lock:*")
        return bool(keys)
    finally:
        r.close()


def wait_for(condition: Any, timeout: float = 20, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def client_for(spec: Spec) -> tca.Client:
    return w.make_client(spec)


# --- single-flight across processes -------------------------------------------------------------


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_16_processes_starting_together_sign_in_once(fake: FakeTableau, backend: Spec, method: str) -> None:
    sixteen_start_together(fake, app_spec(fake, **backend), method)


def test_async_clients_in_three_processes_sign_in_once(fake: FakeTableau, backend: Spec) -> None:
    fake.set_delay(0.1, route="auth/signin")
    spec = app_spec(fake, **backend)
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(3), ctx.Queue()
    run(ctx, w.async_tasks, [(spec, barrier, results)] * 3)
    digests = [results.get(timeout=10) for _ in range(3)]
    assert digests[0] == digests[1] == digests[2] and len(digests[0]) == 1
    assert sign_ins(fake) == 1


def test_two_pat_users_in_8_processes_sign_in_once_each_and_kill_no_session(
    fake: FakeTableau, backend: Spec
) -> None:
    specs = []
    for who in ("ana", "bo"):
        fake.add_user(f"{who}@example.com")
        fake.add_pat(f"pat-{who}", f"pat-secret-of-{who}-0123456789", username=f"{who}@example.com")
        specs.append({"server": fake.url, "site": fake.site, "pat_name": f"pat-{who}",
                      "pat_secret": f"pat-secret-of-{who}-0123456789", **backend})
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(8), ctx.Queue()
    run(ctx, w.sessions_of_many, [(specs, barrier, results)] * 8)
    got = [results.get(timeout=10) for _ in range(8)]
    assert len({tuple(digests) for digests, _ in got}) == 1, "each PAT has one session everywhere"
    assert len(set(got[0][0])) == 2
    # Every process called the API after all had taken their sessions: none was killed.
    assert all(statuses == [200, 200] for _, statuses in got)
    assert sign_ins(fake) == 2


def test_a_session_signed_in_without_the_shared_cache_is_published_by_a_client_with_it(
    fake: FakeTableau, backend: Spec
) -> None:
    """Clients of one process share one session whatever their cache=. A client with a shared
    cache that finds a session another client of the process signed in without it publishes it
    (once, in the background): a fresh process then reuses it instead of signing in, which with
    a personal access token would end it."""
    spec = {"server": fake.url, "site": fake.site, "pat_name": fake.pat_name, "pat_secret": fake.pat_secret,
            **backend}
    plain = w.make_client({**spec, "cache": "memory"})
    token = plain.session().token
    shared = client_for(spec)
    assert shared.session().token == token  # the process-wide entry: no sign-in
    wait_for(lambda: bool(stored_entries(spec)), what="the session to be published")
    assert fresh_process_session(spec) == w.digest(token)
    assert sign_ins(fake) == 1
    assert plain.get("workbooks").status_code == 200  # not ended by a second sign-in of the PAT
    published = stored_entries(spec)
    for _ in range(100):
        assert shared.session().token == token
    time.sleep(0.2)
    assert stored_entries(spec) == published  # adopted once, not once per hit


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_a_cloud_manager_session_is_shared_by_8_processes_and_kept_apart_from_site_sessions(
    fake: FakeTableau, backend: Spec, method: str
) -> None:
    fake.set_delay(0.2, route="tcm/login")
    spec = {**backend, "server": fake.url, "tcm_pat_secret": fake.cloud_manager_pat_secret}
    ctx = multiprocessing.get_context(method)
    barrier, results = ctx.Barrier(8), ctx.Queue()
    run(ctx, w.cloud_manager_session_then_call, [(spec, barrier, results)] * 8)
    answers = {results.get(timeout=10) for _ in range(8)}
    assert len(answers) == 1, answers
    digest, status = next(iter(answers))
    assert status == 200
    stats = fake.stats()
    assert (stats["cloud_manager_sign_ins"], stats["sign_ins"]) == (1, 0)
    # A site client with the same cache finds nothing of TCM's: it signs in to its site.
    site = client_for(app_spec(fake, **backend))
    assert w.digest(site.session().token) != digest and site.get("workbooks").ok
    assert (fake.stats()["cloud_manager_sign_ins"], fake.stats()["sign_ins"]) == (1, 1)


def test_a_lock_holder_killed_with_sigkill_does_not_block_the_others(fake: FakeTableau, backend: Spec) -> None:
    # Disk: the OS drops the flock when its holder dies, long before lock_timeout.
    # Redis: the lock key outlives its holder until its TTL (lock_timeout) ends.
    lock_timeout = 60.0 if backend["cache"] == "disk" else 2.0
    spec = app_spec(fake, lock_timeout=lock_timeout, **backend)
    fake.set_delay(3.0, route="auth/signin")
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Event()
    holder = ctx.Process(target=w.hold_sign_in, args=(spec, ready))
    holder.start()
    assert ready.wait(30)
    wait_for(lambda: lock_is_held(spec), what="the holder to take the lock")
    os.kill(holder.pid or 0, signal.SIGKILL)
    holder.join(10)
    assert holder.exitcode == -signal.SIGKILL
    fake.set_delay(0.0, route="auth/signin")
    started = time.monotonic()
    results = ctx.Queue()
    run(ctx, w.first_session, [(spec, results)] * 4)
    elapsed = time.monotonic() - started
    digests = {results.get(timeout=10) for _ in range(4)}
    assert len(digests) == 1
    assert elapsed < lock_timeout + 10, f"the others waited {elapsed:.1f} s"
    if backend["cache"] == "disk":
        assert elapsed < 15, f"a dead holder's flock must not block ({elapsed:.1f} s)"


def test_a_child_forked_while_the_lock_is_held_does_not_keep_it_after_its_parent_dies(
    fake: FakeTableau, tmp_path: Path
) -> None:
    # A flock lives as long as any descriptor of it. A forked child closes the lock descriptors
    # it inherited, so a parent killed mid sign-in does not leave its lock to a long-lived child.
    spec = app_spec(fake, cache="disk", path=str(tmp_path / "cache"))
    fake.set_delay(3.0, route="auth/signin")
    ctx = multiprocessing.get_context("spawn")
    child_pid = ctx.Queue()
    parent = ctx.Process(target=w.fork_while_holding_the_lock, args=(spec, child_pid))
    parent.start()
    child = child_pid.get(timeout=30)
    try:
        assert lock_is_held(spec)
        os.kill(parent.pid or 0, signal.SIGKILL)
        parent.join(10)
        wait_for(lambda: not lock_is_held(spec), timeout=5, what="the lock to be free while the child lives")
        os.kill(child, 0)  # the child is still alive
    finally:
        os.kill(child, signal.SIGKILL)


def test_a_slow_sign_in_keeps_its_lock_alive_so_waiters_do_not_stampede(fake: FakeTableau, backend: Spec) -> None:
    # The first sign-in is rate limited for 3 s, three times the lock_timeout: the holder renews
    # its lock meanwhile, and the waiters keep waiting instead of signing in themselves.
    fake.rate_limit_next(times=1, retry_after=3, route="auth/signin")
    spec = app_spec(fake, lock_timeout=1.0, **backend)
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(4), ctx.Queue()
    run(ctx, w.session_then_call, [(spec, barrier, results)] * 4)
    got = [results.get(timeout=10) for _ in range(4)]
    assert len({digest for digest, _ in got}) == 1
    assert sign_ins(fake) == 1


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads through /proc")
def test_a_disk_hit_in_a_fresh_process_starts_no_runtime(fake: FakeTableau, tmp_path: Path) -> None:
    spec = app_spec(fake, cache="disk", path=str(tmp_path / "cache"))
    token = client_for(spec).session().token
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    run(ctx, w.threads_around_first_session, [(spec, results)])
    digest, before, after = results.get(timeout=10)
    assert digest == w.digest(token) and sign_ins(fake) == 1
    assert after == before, "the runtime's worker threads were started for a disk hit"


def test_password_credentials_are_shared_too(fake: FakeTableau, tmp_path: Path) -> None:
    fake.add_user("pw@example.com", password="correct horse battery")
    spec = {"server": fake.url, "site": fake.site, "username": "pw@example.com",
            "password": "correct horse battery", "cache": "disk", "path": str(tmp_path / "c")}
    token = client_for(spec).session().token
    (name, blob), = stored_entries(spec).items()
    assert token.encode() not in blob and "pw@example.com" not in name
    assert fresh_process_session(spec) == w.digest(token)
    assert sign_ins(fake) == 1


def test_a_fifo_in_place_of_an_entry_does_not_hang(fake: FakeTableau, tmp_path: Path) -> None:
    spec = app_spec(fake, cache="disk", path=str(tmp_path / "cache"))
    fresh_process_session(spec)
    (path,) = Path(spec["path"]).glob("*.session")
    path.unlink()
    os.mkfifo(path, 0o600)
    started = time.monotonic()
    fresh_process_session(spec)
    assert time.monotonic() - started < 20 and sign_ins(fake) == 2


# --- what is stored, and who can read it ----------------------------------------------------------


def test_files_and_directory_are_private_even_with_a_permissive_umask(fake: FakeTableau, tmp_path: Path) -> None:
    cache_dir = tmp_path / "deeper" / "cache"
    old = os.umask(0)
    try:
        client_for(app_spec(fake, cache="disk", path=str(cache_dir))).session()
    finally:
        os.umask(old)
    assert stat.S_IMODE(cache_dir.stat().st_mode) == 0o700
    names = sorted(p.name for p in cache_dir.iterdir())
    assert len(names) == 2 and names[0].endswith(".lock") and names[1].endswith(".session"), names
    for p in cache_dir.iterdir():
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p


def test_the_default_directory_follows_xdg_cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert tca.DiskCache().path == str(tmp_path / "xdg" / "tableau_connected_auth")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert tca.DiskCache().path == str(tmp_path / "home" / ".cache" / "tableau_connected_auth")


def test_no_token_secret_or_username_is_stored_in_clear(fake: FakeTableau, backend: Spec) -> None:
    spec = app_spec(fake, **backend)
    session = client_for(spec).session()
    entries = stored_entries(spec)
    assert len(entries) == 1
    (name, blob), = entries.items()
    for clear in (session.token, fake.app_secret_value, fake.username, session.user_id, session.site_id):
        assert clear.encode() not in blob
        assert clear not in name
    assert blob.startswith(b"TCA\x02")
    if backend["cache"] == "redis":
        r = Resp(spec["url"])
        ttl = r.command("PTTL", name)
        r.close()
        assert isinstance(ttl, int) and 0 < ttl <= 240 * 60 * 1000, "entries expire with the session"


def test_an_entry_sealed_for_another_secret_is_not_used(fake: FakeTableau, backend: Spec) -> None:
    fake.add_connected_app("app-b", "secret-id-b", "secret-value-b-0123456789abcdef")
    spec_a = app_spec(fake, **backend)
    spec_b = app_spec(fake, client_id="app-b", secret_id="secret-id-b",
                      secret_value="secret-value-b-0123456789abcdef", **backend)
    token_a = client_for(spec_a).session().token
    (name_a, blob_a), = stored_entries(spec_a).items()
    client_for(spec_b).session()
    name_b = next(n for n in stored_entries(spec_b) if n != name_a)
    put_entry(spec_b, name_b, blob_a)  # B's entry now holds A's sealed session
    assert sign_ins(fake) == 2
    digest_b = fresh_process_session(spec_b)
    assert digest_b != w.digest(token_a), "a session sealed under A's secret must not reach B"
    assert sign_ins(fake) == 3, "B signed in itself"
    assert fresh_process_session(spec_b) == digest_b and sign_ins(fake) == 3, "and replaced the entry"


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "world-readable", "symlink"])
def test_corrupt_or_foreign_cache_files_are_ignored_and_replaced(
    fake: FakeTableau, tmp_path: Path, damage: str
) -> None:
    spec = app_spec(fake, cache="disk", path=str(tmp_path / "cache"))
    first = fresh_process_session(spec)
    (path,) = Path(spec["path"]).glob("*.session")
    good = path.read_bytes()
    outside = tmp_path / "elsewhere.session"
    if damage == "garbage":
        path.write_bytes(os.urandom(200))
    elif damage == "truncated":
        path.write_bytes(good[: len(good) // 2])
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "world-readable":
        path.chmod(0o644)  # a valid entry, but readable by others: not trusted
    elif damage == "symlink":
        outside.write_bytes(good)
        outside.chmod(0o600)
        path.unlink()
        path.symlink_to(outside)
    second = fresh_process_session(spec)
    assert second != first and sign_ins(fake) == 2, "the damaged entry was not used"
    assert path.is_file() and not path.is_symlink()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert fresh_process_session(spec) == second and sign_ins(fake) == 2, "and it was replaced"
    if damage == "symlink":
        assert outside.read_bytes() == good, "the symlink's target was not written through"


def test_an_open_directory_is_not_used_and_says_how_to_fix_it(
    fake: FakeTableau, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    open_dir = tmp_path / "open"
    open_dir.mkdir()
    open_dir.chmod(0o755)
    caplog.set_level(logging.WARNING, logger="tableau_connected_auth")
    client = client_for(app_spec(fake, cache="disk", path=str(open_dir)))
    assert client.get("workbooks").status_code == 200
    assert list(open_dir.iterdir()) == []
    warnings = [r.getMessage() for r in caplog.records if "DiskCache" in r.getMessage()]
    assert len(warnings) == 1 and "chmod 700" in warnings[0], warnings


# --- invalidation, sign-out, close ------------------------------------------------------------------


def test_invalidate_removes_the_shared_entry_only_if_it_still_holds_that_token(
    fake: FakeTableau, backend: Spec
) -> None:
    spec = app_spec(fake, **backend)
    client = client_for(spec)
    first = client.session()
    assert client.invalidate("some-other-token") is False
    assert len(stored_entries(spec)) == 1
    assert client.invalidate(first) is True
    assert stored_entries(spec) == {}
    # Another process signs in anew and publishes; an old token no longer removes anything.
    second = fresh_process_session(spec)
    assert second != w.digest(first.token) and sign_ins(fake) == 2
    assert client.invalidate(first) is False
    assert len(stored_entries(spec)) == 1
    # This process picks up the other process's session without signing in.
    assert w.digest(client.session().token) == second and sign_ins(fake) == 2


def test_sign_out_ends_the_shared_session_everywhere_but_close_leaves_it(fake: FakeTableau, backend: Spec) -> None:
    spec = app_spec(fake, **backend)
    with client_for(spec) as client:
        token = client.session().token
    assert fake.is_session_alive(token), "closing a client keeps a shared session for the others"
    assert len(stored_entries(spec)) == 1
    other = client_for(spec)
    assert other.session().token == token
    other.sign_out()
    assert not fake.is_session_alive(token)
    assert stored_entries(spec) == {}
    assert fake.stats()["sign_outs"] == 1


def test_sign_out_in_a_process_that_never_used_the_session_still_ends_it(fake: FakeTableau, tmp_path: Path) -> None:
    spec = app_spec(fake, cache="disk", path=str(tmp_path / "cache"))
    fresh_process_session(spec)
    token_digest = fresh_process_session(spec)
    assert sign_ins(fake) == 1
    # A different client object in this process has nothing in memory for the key yet.
    client_for(spec).sign_out()
    assert fake.stats()["sign_outs"] == 1 and stored_entries(spec) == {}
    assert fresh_process_session(spec) != token_digest and sign_ins(fake) == 2


def test_a_dead_token_is_not_taken_back_from_the_shared_cache(fake: FakeTableau, backend: Spec) -> None:
    spec = app_spec(fake, **backend)
    client = client_for(spec)
    old = client.session().token
    fake.expire_all_sessions()
    assert client.get("workbooks").status_code == 200, "one re-sign-in, not the dead token again"
    assert sign_ins(fake) == 2
    new = client.session().token
    assert new != old
    assert fresh_process_session(spec) == w.digest(new) and sign_ins(fake) == 2


def test_explicit_sign_in_replaces_the_shared_entry(fake: FakeTableau, backend: Spec) -> None:
    spec = app_spec(fake, **backend)
    client = client_for(spec)
    client.session()
    fresh = client.sign_in()
    assert fresh_process_session(spec) == w.digest(fresh.token) and sign_ins(fake) == 2


def test_a_site_switch_is_published_under_the_new_sites_key(fake: FakeTableau, backend: Spec) -> None:
    fake.add_site("finance")
    fake.add_user(fake.username, site="finance")
    spec = app_spec(fake, **backend)
    switched = client_for(spec).switch_site("finance")
    assert fresh_process_session({**spec, "site": "finance"}) == w.digest(switched.token)
    assert sign_ins(fake) == 1


def test_a_stale_entry_is_refreshed_once(fake: FakeTableau, backend: Spec) -> None:
    spec = app_spec(fake, **backend)
    first = fresh_process_session({**spec, "max_session_age": 1.0})  # refresh due in 1 s
    time.sleep(1.2)
    second = fresh_process_session(spec)
    assert second != first and sign_ins(fake) == 2, "a stale entry is not handed out"
    assert fresh_process_session(spec) == second and sign_ins(fake) == 2, "its replacement is"


# --- Redis outages -----------------------------------------------------------------------------------


def test_a_redis_lock_that_never_expires_is_broken_after_twice_lock_timeout(fake: FakeTableau, redis_url: str) -> None:
    spec = app_spec(fake, cache="redis", url=redis_url, prefix=f"stuck-{uuid.uuid4().hex[:8]}", lock_timeout=0.4)
    client = client_for(spec)
    first = client.session()
    (entry,) = stored_entries(spec)
    lock = entry.replace(":session:", ":lock:")
    r = Resp(redis_url)
    try:
        assert r.command("SET", lock, "a holder that crashed after setting no TTL") == b"OK"
        client.invalidate(first)  # drops the entry here and in Redis: the next call must sign in
        started = time.monotonic()
        assert client.session().token != first.token
        waited = time.monotonic() - started
        assert r.command("EXISTS", lock) == 0, "the stuck lock was removed (and ours released)"
        assert sign_ins(fake) == 2
        # 2 x lock_timeout, not the whole sign-in bound (over a minute with these settings).
        assert waited < 20, waited
    finally:
        r.close()


def test_redis_stopped_in_the_middle_of_a_run_never_fails_a_call(
    fake: FakeTableau, caplog: pytest.LogCaptureFixture
) -> None:
    server = RedisServer()
    try:
        caplog.set_level(logging.INFO, logger="tableau_connected_auth")
        spec = app_spec(fake, cache="redis", url=server.url, prefix=f"outage-{uuid.uuid4().hex[:8]}")
        client = client_for(spec)
        first = client.session()
        assert fresh_process_session(spec) == w.digest(first.token) and sign_ins(fake) == 1

        server.stop()
        assert client.get("workbooks").status_code == 200  # a memory hit needs no Redis
        client.invalidate(first)
        started = time.monotonic()
        second = client.session()  # Redis is down: sign in directly
        assert time.monotonic() - started < 5
        assert second.token != first.token and sign_ins(fake) == 2
        assert client.get("workbooks").status_code == 200
        client.invalidate(second)
        assert client.session().token != second.token  # still fine, still no Redis
        fresh_process_session(spec)  # a new process with Redis down signs in too
        outages = [r for r in caplog.records if "not answering" in r.getMessage()]
        assert len(outages) == 1, "the outage is logged once"

        server.start()  # back on the same port
        time.sleep(2.2)  # the outage back-off
        client.invalidate(client.session())
        third = client.session()
        assert fresh_process_session(spec) == w.digest(third.token), "shared again once Redis is back"
        assert any("answers again" in r.getMessage() for r in caplog.records)
    finally:
        server.close()


def test_an_unreachable_redis_degrades_and_never_shows_its_password(
    fake: FakeTableau, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="tableau_connected_auth")
    cache = tca.RedisCache("redis://:hunter2-redis-pw@127.0.0.1:1/0")
    client = fake.client(cache=cache)
    assert client.get("workbooks").status_code == 200
    shown = repr(cache) + str(cache) + cache.url + repr(client) + caplog.text
    assert "hunter2-redis-pw" not in shown
    assert "redis://:***@127.0.0.1:1/0" in repr(cache)
    assert "not answering" in caplog.text


# --- cache=None and arguments --------------------------------------------------------------------------


def test_cache_none_signs_in_every_time_and_shares_nothing(fake: FakeTableau) -> None:
    shared = fake.client()
    shared_token = shared.session().token
    client = fake.client(cache=None)
    assert client.cache is None
    one, two = client.session(), client.session()
    assert len({one.token, two.token, shared_token}) == 3
    assert sign_ins(fake) == 3
    assert client.get("workbooks").status_code == 200, "calls use the client's own latest session"
    assert shared.session().token == shared_token, "the memory cache was not touched"
    assert sign_ins(fake) == 3


def test_cache_none_calls_share_the_clients_own_session_so_a_pat_does_not_end_them(fake: FakeTableau) -> None:
    client = tca.Client(fake.url, site=fake.site, credentials=fake.pat, cache=None)
    statuses: List[int] = []
    threads = [threading.Thread(target=lambda: statuses.append(client.get("workbooks").status_code))
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200] * 8
    assert sign_ins(fake) == 1


def test_cache_none_sign_out_ends_the_last_session(fake: FakeTableau) -> None:
    client = fake.client(cache=None)
    token = client.session().token
    client.sign_out()
    assert not fake.is_session_alive(token)


def test_the_cache_argument_is_checked(fake: FakeTableau, tmp_path: Path) -> None:
    assert fake.client().cache == "memory"
    assert fake.client(cache="memory").cache == "memory"
    disk = tca.DiskCache(tmp_path / "c")
    client = fake.client(cache=disk)
    assert isinstance(client.cache, tca.DiskCache) and client.cache.path == str(tmp_path / "c")
    assert "DiskCache" in repr(client)
    for bad, says in [("disk", "DiskCache"), (5, "int"), ("", "memory")]:
        with pytest.raises(tca.ConfigurationError, match=says):
            fake.client(cache=bad)
    with pytest.raises(tca.ConfigurationError, match="Jwt minted elsewhere"):
        tca.Client(fake.url, site=fake.site, credentials=tca.Jwt("a.b.c"), cache=disk)
    with pytest.raises(tca.ConfigurationError, match="not a Redis URL"):
        tca.RedisCache("http://127.0.0.1:6379")
    with pytest.raises(tca.ConfigurationError, match="prefix"):
        tca.RedisCache("redis://127.0.0.1:6379", prefix="has space")
    with pytest.raises(tca.ConfigurationError, match="empty"):
        tca.DiskCache("")
    with pytest.raises(tca.ConfigurationError, match="lock_timeout"):
        tca.DiskCache(tmp_path, lock_timeout=0)
    assert tca.RedisCache("redis://h:6379/2", prefix="p", lock_timeout=3).lock_timeout == 3.0
    assert issubclass(tca.ConfigurationError, ValueError)


def test_async_client_takes_the_cache_argument(fake: FakeTableau, tmp_path: Path) -> None:
    import asyncio

    spec = app_spec(fake, cache="disk", path=str(tmp_path / "c"))

    async def main() -> str:
        async with tca.AsyncClient(fake.url, site=fake.site, credentials=w.credentials(spec),
                                   cache=w.make_cache(spec)) as client:
            session = await client.session()
            assert (await client.get("workbooks")).status_code == 200
            assert client.invalidate(session) is True
            return session.token

    token = asyncio.run(main())
    assert fake.is_session_alive(token), "aclose keeps a shared session"
    wait_for(lambda: stored_entries(spec) == {}, what="the background removal of the invalidated entry")


def test_settings_pick_a_cache(fake: FakeTableau, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tableau_connected_auth._env import parse_cache

    assert parse_cache("memory") == "memory" and parse_cache(" none ") is None
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    disk = parse_cache("disk")
    assert isinstance(disk, tca.DiskCache) and disk.path == str(tmp_path / "tableau_connected_auth")
    other = parse_cache(f"disk:{tmp_path / 'x'}")
    assert isinstance(other, tca.DiskCache) and other.path == str(tmp_path / "x")
    redis = parse_cache("redis://:pw-in-url@127.0.0.1:6379/1")
    assert isinstance(redis, tca.RedisCache) and "pw-in-url" not in repr(redis)
    with pytest.raises(tca.ConfigurationError, match="cache setting"):
        parse_cache("sqlite:///x")
    for name in ("TABLEAU_CLIENT_ID", "TABLEAU_SECRET_ID", "TABLEAU_SECRET_VALUE", "TABLEAU_USERNAME",
                 "TABLEAU_SCOPES", "TABLEAU_PAT_NAME", "TABLEAU_PAT_SECRET", "TABLEAU_API_VERSION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TABLEAU_SERVER", fake.url)
    monkeypatch.setenv("TABLEAU_SITE", fake.site)
    monkeypatch.setenv("TABLEAU_PAT_NAME", fake.pat_name)
    monkeypatch.setenv("TABLEAU_PAT_SECRET", fake.pat_secret)
    monkeypatch.setenv("TABLEAU_CACHE", f"disk:{tmp_path / 'env'}")
    client = tca.Client.from_env()
    assert isinstance(client.cache, tca.DiskCache) and client.cache.path == str(tmp_path / "env")
    assert tca.Client.from_env(cache=None).cache is None, "an explicit cache=None wins"
    client.session()
    assert len(list((tmp_path / "env").glob("*.session"))) == 1
