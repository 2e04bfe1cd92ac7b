"""RedisCache with a real Redis Cluster and a real Sentinel group (issue 17, "Fleets").

The cluster (three primaries joined with ``redis-cli --cluster create``) and the Sentinel group
(a primary, its replica and two sentinels) are started here, on 127.0.0.1, once per test run.
Real processes (multiprocessing) take sessions; FakeTableau counts the sign-ins. Under CI
(``CI`` set) missing redis-server/redis-cli binaries fail these tests instead of skipping them.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
import uuid
from typing import Any, Dict, Iterator, List, Tuple

import pytest

import fleet_workers as fw
import shared_workers as w
from processes import app_spec, run, sign_ins, sixteen_start_together
import tableau_connected_auth as tca
from redis_server import RedisCluster, RedisSentinel, RedisServer, info
from tableau_connected_auth.testing import FakeTableau

Spec = Dict[str, Any]


def started(make: Any) -> Any:
    try:
        return make()
    except RuntimeError as e:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(e))


@pytest.fixture(scope="session")
def cluster() -> Iterator[RedisCluster]:
    c = started(RedisCluster)
    try:
        yield c
    finally:
        c.close()


@pytest.fixture(scope="session")
def sentinel() -> Iterator[RedisSentinel]:
    s = started(RedisSentinel)
    try:
        yield s
    finally:
        s.close()


def redis_spec(fake: FakeTableau, url: str) -> Spec:
    """The fake's default app, sharing through the Redis at `url` under a prefix of its own."""
    return app_spec(fake, cache="redis", url=url, prefix=f"tca-fleet-{uuid.uuid4().hex[:12]}")


def fresh_process(spec: Spec) -> Tuple[str, int, List[str]]:
    """(digest, status, warnings) of a brand-new (forked) process's session and call."""
    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()
    run(ctx, fw.session_and_call, [(spec, results)])
    got: Tuple[str, int, List[str]] = results.get(timeout=10)
    return got


class Readers:
    """Waves of fresh processes, each taking a session and calling once, until stopped: every
    one of them reaches Redis for its first look. Nothing else may fork while they run (a
    process forked by another thread at the same moment would hold a reader's exit pipe open)."""

    def __init__(self, spec: Spec, per_wave: int = 4) -> None:
        self.spec, self.per_wave = spec, per_wave
        self.got: List[Tuple[str, int, List[str]]] = []
        self.errors: List[BaseException] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> "Readers":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(180)

    def _loop(self) -> None:
        ctx = multiprocessing.get_context("fork")
        try:
            while not self._stop.is_set():
                results = ctx.Queue()
                run(ctx, fw.session_and_call, [(self.spec, results)] * self.per_wave)
                self.got += [results.get(timeout=10) for _ in range(self.per_wave)]
        except BaseException as e:  # reported by the test
            self.errors.append(e)


def asking_calls(node: RedisServer) -> int:
    """How many ASKING commands (sent after an ASK redirection) ``node`` has served."""
    stats = info(node, "commandstats").get("cmdstat_asking", "calls=0")
    return int(stats.split("calls=")[1].split(",")[0])


def keys_of(cluster: RedisCluster, spec: Spec, kind: str = "session") -> Dict[str, RedisServer]:
    return cluster.keys(f"{spec['prefix']}:{kind}:*")


# --- Redis Cluster --------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_cluster_16_processes_starting_together_sign_in_once(
    fake: FakeTableau, cluster: RedisCluster, method: str
) -> None:
    sixteen_start_together(fake, redis_spec(fake, cluster.url()), method)


def test_cluster_keys_are_hash_tagged_so_entry_and_lock_share_a_slot(
    fake: FakeTableau, cluster: RedisCluster
) -> None:
    spec = redis_spec(fake, cluster.url(seeds=1))  # one seed: the other nodes are discovered
    fake.set_delay(1.0, route="auth/signin")
    client = w.make_client(spec)
    holder = threading.Thread(target=client.session)
    holder.start()
    deadline = time.monotonic() + 20
    while not keys_of(cluster, spec, "lock"):
        assert time.monotonic() < deadline, "the sign-in never took the lock"
        time.sleep(0.01)
    ((lock, lock_node),) = keys_of(cluster, spec, "lock").items()
    holder.join(30)
    ((entry, entry_node),) = keys_of(cluster, spec).items()
    tag = entry.split(":session:")[1]
    assert tag.startswith("{") and tag.endswith("}") and len(tag) == 66, entry
    assert lock == f"{spec['prefix']}:lock:{tag}"
    slot = cluster.keyslot(entry)
    assert slot == cluster.keyslot(lock) == cluster.keyslot(tag[1:-1])
    assert entry_node is lock_node is cluster.owner(slot)
    # Sessions of different identities spread over the nodes (their slots are their own).
    nodes = set()
    for i in range(12):
        fake.add_user(f"u{i}@example.com")
        other = w.make_client({**spec, "username": f"u{i}@example.com"})
        fake.set_delay(0.0, route="auth/signin")
        other.session()
    for key, node in keys_of(cluster, spec).items():
        assert cluster.owner(cluster.keyslot(key)) is node
        nodes.add(node.port)
    assert len(nodes) >= 2, "13 sessions all landed on one node"


def test_cluster_slot_moved_mid_run_never_fails_a_call_and_sharing_goes_on(
    fake: FakeTableau, cluster: RedisCluster
) -> None:
    spec = redis_spec(fake, cluster.url())
    _, status, warnings = fresh_process(spec)
    assert status == 200 and warnings == [] and sign_ins(fake) == 1
    ((entry, node),) = keys_of(cluster, spec).items()
    slot = cluster.keyslot(entry)
    to = next(n for n in cluster.nodes if n is not node)

    asked_before = asking_calls(to)
    ctx = multiprocessing.get_context("fork")
    stop, writer_results = ctx.Event(), ctx.Queue()
    steps: List[str] = []
    # Meanwhile one process signs in again and again: each time it takes the lock, publishes
    # and releases it (SET NX, SET, a script), all in the moving slot. (Started before the
    # readers: two threads forking at once would leak each other's process sentinels.)
    writer = ctx.Process(target=fw.sign_in_until, args=(spec, stop, writer_results))
    writer.start()
    with Readers(spec) as readers:
        def between(step: str) -> None:  # let the clients work at each stage of the move
            steps.append(step)
            seen = len(readers.got)
            deadline = time.monotonic() + 60
            while len(readers.got) < seen + 8 and not readers.errors:
                assert time.monotonic() < deadline, f"no reader finished at {step}"
                time.sleep(0.05)

        cluster.move_slot(slot, to, between)
        stop.set()
        writer.join(30)
    assert writer.exitcode == 0 and readers.errors == []
    assert steps == ["migrating", "migrated", "moved"]
    signed_in, statuses, writer_warnings = writer_results.get(timeout=10)
    assert signed_in >= 1 and statuses == [200] * signed_in
    assert writer_warnings == [], "every lock, publish and release went through"
    assert len(readers.got) >= 24
    assert all(status == 200 for _, status, _ in readers.got), "every call succeeded"
    assert [m for _, _, m in readers.got if m] == [], "no reader saw Redis fail"
    # No reader signed in: each found a session in Redis, whatever stage the slot was at.
    assert sign_ins(fake) == 1 + signed_in
    assert asking_calls(to) > asked_before, "clients followed ASK redirections mid-move"
    print(f"slot {slot} moved: {len(readers.got)} readers, {signed_in} writer sign-ins, "
          f"{asking_calls(to) - asked_before} ASKING on the new owner")
    ((entry_after, node_after),) = keys_of(cluster, spec).items()
    assert entry_after == entry and node_after is to, "the entry moved with its slot"
    # Sharing goes on after the move: a fresh process uses the last published session.
    _, status, warnings = fresh_process(spec)
    assert status == 200 and warnings == [] and sign_ins(fake) == 1 + signed_in


def test_a_plain_redis_url_to_a_cluster_node_warns_once_to_use_redis_cluster(
    fake: FakeTableau, cluster: RedisCluster, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="tableau_connected_auth")
    spec = redis_spec(fake, cluster.url())
    fresh_process(spec)  # learn the session's storage id from its cluster key
    ((entry,),) = [tuple(keys_of(cluster, spec))]
    plain_key = entry.replace("{", "").replace("}", "")  # the key a redis:// URL uses
    wrong = next(n for n in cluster.nodes if n is not cluster.owner(cluster.keyslot(plain_key)))
    plain = {**spec, "url": wrong.url}
    client = w.make_client(plain)
    for _ in range(3):
        s = client.session()
        assert client.get("workbooks").status_code == 200
        client.invalidate(s)
    assert sign_ins(fake) == 4, "the cluster node could not share: each session was signed in"
    told = [r for r in caplog.records if "redis+cluster://" in r.getMessage()]
    assert len(told) == 1 and told[0].levelno == logging.WARNING, [r.getMessage() for r in told]
    assert "MOVED" in told[0].getMessage() and wrong.url.split("/0")[0] in told[0].getMessage()
    assert not any("not answering" in r.getMessage() for r in caplog.records), "not an outage"


# --- Sentinel -------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["fork"])
def test_sentinel_16_processes_starting_together_sign_in_once(
    fake: FakeTableau, sentinel: RedisSentinel, method: str
) -> None:
    spec = redis_spec(fake, sentinel.url())
    sixteen_start_together(fake, spec, method)
    keys = sentinel.primary().command("KEYS", f"{spec['prefix']}:session:*")
    assert isinstance(keys, list) and len(keys) == 1, "the entry is on the primary"


def test_a_sentinel_failover_mid_run_never_fails_a_call_and_sharing_resumes(
    fake: FakeTableau, sentinel: RedisSentinel, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="tableau_connected_auth")
    spec = redis_spec(fake, sentinel.url())
    here = w.make_client(spec)  # a long-lived process: this one; its connection is to the old primary
    first = here.session()
    assert fresh_process(spec)[0] == w.digest(first.token) and sign_ins(fake) == 1
    old = sentinel.primary()

    ctx = multiprocessing.get_context("fork")
    stop, writer_results = ctx.Event(), ctx.Queue()
    writer = ctx.Process(target=fw.sign_in_until, args=(spec, stop, writer_results))
    writer.start()  # before the readers: two threads must not fork at once
    with Readers(spec) as readers:
        time.sleep(1.0)
        started = time.monotonic()
        new = sentinel.failover()
        failover_took = time.monotonic() - started
        seen = len(readers.got)
        deadline = time.monotonic() + 60
        while len(readers.got) < seen + 8:
            assert time.monotonic() < deadline and not readers.errors
            time.sleep(0.05)
        stop.set()
        writer.join(30)
    assert writer.exitcode == 0 and readers.errors == []
    assert new is not old and sentinel.role(old) == "slave"
    signed_in, statuses, writer_warnings = writer_results.get(timeout=10)
    assert statuses == [200] * signed_in, "every call of the writer succeeded"
    assert all(status == 200 for _, status, _ in readers.got), "every reader's call succeeded"
    readers_signed_in = sign_ins(fake) - 1 - signed_in
    print(f"failover took {failover_took:.1f} s; writer: {signed_in} sign-ins, "
          f"{len(writer_warnings)} warnings; {len(readers.got)} readers, "
          f"{sum(1 for _, _, m in readers.got if m)} logged a warning, {readers_signed_in} signed in")

    # Sharing resumes: this process (whose connection the old primary dropped) signs in afresh
    # and publishes, which lands on the new primary, and a fresh process finds it there.
    caplog.clear()
    before = sign_ins(fake)
    latest = here.sign_in()  # takes the lock, publishes and releases: on the new primary
    assert sign_ins(fake) == before + 1
    keys = new.command("KEYS", f"{spec['prefix']}:session:*")
    assert isinstance(keys, list) and len(keys) == 1
    digest, status, warnings = fresh_process(spec)
    assert (digest, status, warnings) == (w.digest(latest.token), 200, [])
    assert sign_ins(fake) == before + 1
    messages = [r.getMessage() for r in caplog.records]
    assert any("the connection broke" in m for m in messages), "the old primary dropped it"
    assert not any("not answering" in m for m in messages), \
        "the broken connection was replaced at once, through the sentinels"


def test_a_plain_redis_url_to_a_replica_warns_once_to_use_the_primary_or_sentinel(
    fake: FakeTableau, sentinel: RedisSentinel, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="tableau_connected_auth")
    spec = redis_spec(fake, sentinel.replica().url)
    client = w.make_client(spec)
    for _ in range(2):
        s = client.session()
        assert client.get("workbooks").status_code == 200
        client.invalidate(s)
    told = [r.getMessage() for r in caplog.records if "READONLY" in r.getMessage()]
    assert len(told) == 1 and "redis+sentinel://" in told[0], told
    assert not any("not answering" in r.getMessage() for r in caplog.records)


def test_a_sentinel_url_with_an_unknown_master_degrades_and_logs_once(
    fake: FakeTableau, sentinel: RedisSentinel, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="tableau_connected_auth")
    url = sentinel.url().replace(f"/{sentinel.master}/", "/no-such-master/")
    client = fake.client(cache=tca.RedisCache(url))
    assert client.get("workbooks").status_code == 200
    client.invalidate(client.session())
    assert client.get("workbooks").status_code == 200
    outages = [r.getMessage() for r in caplog.records if "not answering" in r.getMessage()]
    assert len(outages) == 1 and "no-such-master" in outages[0], outages


# --- URLs ------------------------------------------------------------------------------------------


def test_cluster_and_sentinel_urls_are_checked_and_their_passwords_masked() -> None:
    from tableau_connected_auth._env import parse_cache

    c = tca.RedisCache("redis+cluster://:pw-one@127.0.0.1:7000,127.0.0.1:7001", prefix="p")
    assert c.url == "redis+cluster://:***@127.0.0.1:7000,127.0.0.1:7001"
    assert "pw-one" not in repr(c) and "redis+cluster://:***@" in repr(c)
    s = tca.RedisCache("rediss+sentinel://u:pw-two@s1:26379,s2/mymaster/2?sentinel_password=pw-three")
    assert s.url == "rediss+sentinel://u:***@s1:26379,s2/mymaster/2?sentinel_password=***"
    assert "pw-two" not in repr(s) and "pw-three" not in repr(s)
    for setting in ("redis+cluster://h1:7000,h2:7001", "rediss+cluster://h1:7000",
                    "redis+sentinel://s1:26379/mymaster/0", "rediss+sentinel://s1/mymaster"):
        cache = parse_cache(setting)
        assert isinstance(cache, tca.RedisCache) and cache.url == setting
    for bad, says in [
        ("redis+cluster://h1:7000/2", "only database 0"),
        ("redis+sentinel://s1:26379", "name the primary"),
        ("redis+sentinel://s1:26379/m/notadb", "not a database number"),
        ("redis+cluster://h1:7000,,h2:7001", "is not a host"),
        ("redis+cluster://h1:7000?db=1", "unknown parameter"),
        ("sentinel://s1:26379", "not a Redis URL"),
    ]:
        with pytest.raises(tca.ConfigurationError, match=says):
            tca.RedisCache(bad)
    with pytest.raises(tca.ConfigurationError, match="must not contain"):
        tca.RedisCache("redis+cluster://h1:7000", prefix="{tca}")
