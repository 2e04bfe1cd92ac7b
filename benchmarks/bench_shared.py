"""Shared session caches (DiskCache, RedisCache) seen from fresh processes. Prints figures; asserts nothing about time.

    python benchmarks/bench_shared.py [--quick] [--json out.json] [--redis-url URL]

One FakeTableau runs in this process; every measurement is taken in real fresh processes
(``subprocess``: this script again, with ``--child``) that get the fake's URL and the app's
credentials through the environment. Without ``--redis-url`` a private ``redis-server`` from
``PATH`` is started on a free 127.0.0.1 port (``--save '' --appendonly no``) and stopped at the
end; if there is none, the Redis rows are skipped. Every run uses its own key prefix (deleted
from a given Redis at the end), and a temporary DiskCache directory (removed at the end).

- first ``client.session()`` in a fresh process (``time.perf_counter_ns`` around that one call),
  after a warm-up process filled the cache, in N processes per cache (30; 10 with ``--quick``):
  DiskCache hit, RedisCache hit (this includes connecting to Redis), and ``cache="memory"``
  (which signs in, and pays the process's one-time runtime and HTTP client setup) for
  comparison. The three run in interleaved rounds, the order rotating every round; a ratio is
  the median of the per-round ratios;
- a memory-layer miss in a warm process: one process signs in M users (100; 20 with
  ``--quick``) and publishes their sessions, then a fresh process makes M clients and times the
  first ``session()`` of clients 2..M (client 1 opened the Redis connection: what is left is a
  GET and the decryption), with one ``RedisCache`` object shared by the clients, with a new one
  per client, and with DiskCache;
- short-lived processes in sequence (100 per cache; 20 with ``--quick``), each making a client,
  calling ``session()`` and one ``get("workbooks")`` and exiting: the fake's sign-in count,
  sign-ins saved, and wall time. The caches take turns, one process at a time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import tableau_connected_auth as tca
from tableau_connected_auth.testing import FakeTableau

# The tests' Redis helpers (a private redis-server, a minimal protocol client) and
# compare.py's machine description are shared, not copied.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from redis_server import RedisServer, Resp  # noqa: E402

SCOPES = ["tableau:content:read"]
CHILD_ENV = "TCA_BENCH_SHARED_CHILD"  # the child's configuration (JSON), secrets included: never printed

# Parameters per mode: (quick, full).
MODES: Dict[str, Dict[str, int]] = {
    "quick": dict(first_call_processes=10, warm_read_users=20, short_lived_processes=20),
    "full": dict(first_call_processes=30, warm_read_users=100, short_lived_processes=100),
}

Spec = Dict[str, Any]


# --------------------------------------------------------------------------------------------
# Child processes
# --------------------------------------------------------------------------------------------


def _digest(token: str) -> str:
    """Enough to tell sessions apart; never the token."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def _make_cache(cache: Spec) -> Any:
    if cache["kind"] == "memory":
        return "memory"
    if cache["kind"] == "disk":
        return tca.DiskCache(cache["path"])
    if cache["kind"] == "redis":
        return tca.RedisCache(cache["url"], prefix=cache["prefix"])
    raise ValueError(cache["kind"])


def _make_client(cfg: Spec, username: str, cache: Any) -> tca.Client:
    app = tca.ConnectedApp(client_id=cfg["client_id"], secret_id=cfg["secret_id"], secret_value=cfg["secret_value"])
    return tca.Client(cfg["url"], site=cfg["site"], credentials=app.credentials(username, scopes=SCOPES), cache=cache)


def child(mode: str) -> int:
    """Run in a fresh process; print one JSON line (timings, digests, statuses) on stdout."""
    # Library records at WARNING and above go to stderr, where the parent collects them.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    cfg: Spec = json.loads(os.environ[CHILD_ENV])
    out: Dict[str, Any] = {}
    if mode == "first":
        # The first session() of this process, optionally followed by one API call.
        client = _make_client(cfg, cfg["username"], _make_cache(cfg["cache"]))
        t0 = time.perf_counter_ns()
        s = client.session()
        t1 = time.perf_counter_ns()
        out = {"first_ns": t1 - t0, "digest": _digest(s.token)}
        if cfg.get("get"):
            out["status"] = client.get("workbooks").status
    elif mode == "populate":
        # Sign in every user and publish the sessions to the shared cache.
        cache = _make_cache(cfg["cache"])
        out = {"digests": [_digest(_make_client(cfg, u, cache).session().token) for u in cfg["usernames"]]}
    elif mode == "warm-read":
        # M clients; the first session() of clients 2..M is timed, client 1 opened the way (the
        # runtime and, for Redis, the connection). `per_client`: a new cache object per client.
        if cfg.get("per_client"):
            clients = [_make_client(cfg, u, _make_cache(cfg["cache"])) for u in cfg["usernames"]]
        else:
            cache = _make_cache(cfg["cache"])
            clients = [_make_client(cfg, u, cache) for u in cfg["usernames"]]
        digests = [_digest(clients[0].session().token)]
        times = []
        for c in clients[1:]:
            t0 = time.perf_counter_ns()
            s = c.session()
            t1 = time.perf_counter_ns()
            times.append(t1 - t0)
            digests.append(_digest(s.token))
        out = {"read_ns": times, "digests": digests}
    else:
        raise SystemExit(f"unknown child mode {mode!r}")
    print(json.dumps(out), flush=True)
    return 0


class Children:
    """Starts child processes and keeps what they wrote on stderr (library warnings)."""

    def __init__(self, fake: FakeTableau) -> None:
        self.fake = fake
        self.base: Spec = {
            "url": fake.url, "site": fake.site, "username": fake.username,
            "client_id": fake.app_client_id, "secret_id": fake.app_secret_id, "secret_value": fake.app_secret_value,
        }
        self.stderr: Dict[str, int] = {}
        self.started = 0

    def run(self, mode: str, **cfg: Any) -> Tuple[Dict[str, Any], int, float]:
        """Run one child; return its answer, the fake's sign-in delta and the wall time (s)."""
        env = dict(os.environ)
        env[CHILD_ENV] = json.dumps({**self.base, **cfg})
        before = int(self.fake.stats()["sign_ins"])
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", mode],
                              env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        sign_ins = int(self.fake.stats()["sign_ins"]) - before
        self.started += 1
        for line in proc.stderr.splitlines():
            if line.strip():
                self.stderr[line] = self.stderr.get(line, 0) + 1
        if proc.returncode != 0:
            tail = "\n".join(proc.stderr.splitlines()[-15:])
            raise RuntimeError(f"child {mode!r} exited with {proc.returncode}:\n{tail}")
        return json.loads(proc.stdout.strip().splitlines()[-1]), sign_ins, wall


# --------------------------------------------------------------------------------------------
# Redis: a private server, and just enough of the protocol to check and clean up
# --------------------------------------------------------------------------------------------

def delete_prefix(url: str, prefix: str) -> Optional[int]:
    """Delete this run's keys (``{prefix}-*``) from a Redis we do not own; None if not possible."""
    try:
        r = Resp(url)
    except (ValueError, OSError, RuntimeError):
        return None
    deleted = 0
    try:
        cursor = b"0"
        while True:
            reply = r.command("SCAN", cursor, "MATCH", f"{prefix}-*", "COUNT", 1000)
            if not isinstance(reply, list) or not isinstance(reply[0], bytes):
                return None
            cursor, keys = reply[0], reply[1]
            if keys:
                n = r.command("DEL", *keys)
                deleted += n if isinstance(n, int) else 0
            if cursor == b"0":
                return deleted
    except (OSError, RuntimeError):
        return None
    finally:
        r.close()


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------


def machine() -> Dict[str, Any]:
    import compare  # only in the parent: it imports PyJWT, requests and TSC

    facts = compare.machine()
    facts["tableau_connected_auth"] = tca.__version__
    return facts


def summary_us(ns: Sequence[int]) -> Dict[str, Any]:
    """Median and p90 (interpolated, statistics.quantiles 'inclusive') in µs, and the samples."""
    us = [x / 1000 for x in ns]
    p90 = statistics.quantiles(us, n=10, method="inclusive")[-1] if len(us) > 1 else us[0]
    return {"median_us": statistics.median(us), "p90_us": p90, "min_us": min(us), "max_us": max(us),
            "n": len(us), "samples_us": us}


def rotate(names: List[str], i: int) -> List[str]:
    k = i % len(names)
    return names[k:] + names[:k]


def bench_first_call(ch: Children, caches: Dict[str, Spec], n: int) -> Dict[str, Any]:
    """The first session() of a fresh process, per cache, in interleaved rounds."""
    res: Dict[str, Any] = {"processes_per_cache": n, "warm_up": {}}
    # Warm-up: fills the shared caches (a sign-in each), and warms the disk page cache and
    # the bytecode for the memory variant (discarded).
    for name, cache in caches.items():
        out, warm_sign_ins, _ = ch.run("first", cache=cache)
        res["warm_up"][name] = {"sign_ins": warm_sign_ins, "digest": out["digest"]}
    samples: Dict[str, List[int]] = {name: [] for name in caches}
    sign_ins: Dict[str, int] = {name: 0 for name in caches}
    same: Dict[str, int] = {name: 0 for name in caches}
    per_round: List[Dict[str, int]] = []
    for i in range(n):
        this_round: Dict[str, int] = {}
        for name in rotate(list(caches), i):
            out, s, _ = ch.run("first", cache=caches[name])
            this_round[name] = out["first_ns"]
            samples[name].append(out["first_ns"])
            sign_ins[name] += s
            same[name] += out["digest"] == res["warm_up"][name]["digest"]
        per_round.append(this_round)
    for name in caches:
        res[name] = {**summary_us(samples[name]), "sign_ins": sign_ins[name],
                     "same_session_as_warm_up": same[name]}
    for shared in ("disk", "redis"):
        if shared in caches:
            res[f"memory_over_{shared}"] = statistics.median(r["memory"] / r[shared] for r in per_round)
    return res


def bench_warm_read(ch: Children, caches: Dict[str, Spec], m: int) -> Dict[str, Any]:
    """Memory-layer misses in a warm process: clients 2..M, each a first session() for its user."""
    fake = ch.fake
    tag = uuid.uuid4().hex[:8]
    usernames = [f"bench-shared-{tag}-{i:03d}@example.com" for i in range(m)]
    for u in usernames:
        fake.add_user(u, site=fake.site)
    res: Dict[str, Any] = {"users": m}
    for name in caches:
        out, sign_ins, _ = ch.run("populate", cache=caches[name], usernames=usernames)
        res[f"populate_{name}"] = {"sign_ins": sign_ins}
        published = out["digests"]
        # Redis also with a new RedisCache object per client: the connection belongs to the object.
        for per_client in (False, True) if name == "redis" else (False,):
            out, s, _ = ch.run("warm-read", cache=caches[name], usernames=usernames, per_client=per_client)
            key = f"{name}_new_cache_object_per_client" if per_client else name
            res[key] = {**summary_us(out["read_ns"]), "sign_ins": s,
                        "same_sessions_as_published": sum(a == b for a, b in zip(out["digests"], published))}
    return res


def bench_short_lived(ch: Children, caches: Dict[str, Spec], n: int) -> Dict[str, Any]:
    """N short-lived processes per cache (session() + one API call), interleaved."""
    res: Dict[str, Any] = {"processes_per_cache": n}
    names = list(caches)
    sign_ins = {k: 0 for k in names}
    walls: Dict[str, List[float]] = {k: [] for k in names}
    statuses: Dict[str, Dict[str, int]] = {k: {} for k in names}
    for i in range(n):
        for name in rotate(names, i):
            out, s, wall = ch.run("first", cache=caches[name], get=True)
            sign_ins[name] += s
            walls[name].append(wall)
            st = str(out["status"])
            statuses[name][st] = statuses[name].get(st, 0) + 1
    for name in names:
        res[name] = {"sign_ins": sign_ins[name], "sign_ins_saved": n - sign_ins[name],
                     "wall_total_s": sum(walls[name]), "wall_median_ms": statistics.median(walls[name]) * 1000,
                     "statuses": statuses[name]}
    return res


LABELS = {"memory": 'cache="memory" (signs in)', "disk": "DiskCache hit", "redis": "RedisCache hit",
          "redis_new_cache_object_per_client": "RedisCache, new RedisCache() per client"}


def _table(head: Tuple[str, ...], rows: List[Tuple[str, ...]]) -> List[str]:
    w = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    fmt = "  ".join(f"{{:<{x}}}" for x in w)
    return [fmt.format(*head).rstrip(), "  ".join("-" * x for x in w)] + [fmt.format(*r).rstrip() for r in rows]


def table(res: Dict[str, Any]) -> str:
    m = res["machine"]
    lines = [
        f"machine: {m['cpu']}, {m['cores']} cores ({m['usable_cores']} usable), {m['implementation']} {m['python']}, {m['platform']}",
        f"load average at start: {', '.join(f'{x:.2f}' for x in m['loadavg_start'])}; mode: {res['mode']}; "
        f"tableau_connected_auth {m['tableau_connected_auth']}; Redis: {res['redis']['shown']}",
        "",
    ]
    rows: List[Tuple[str, ...]] = []
    f = res["first_call"]
    n = f["processes_per_cache"]
    first = True
    for name in ("disk", "redis", "memory"):
        if name not in f:
            rows.append(("", LABELS[name], "skipped", "", "no Redis"))
            continue
        x = f[name]
        note = f"{x['sign_ins']} sign-ins in {n} processes"
        if name != "memory":
            note += f", {x['same_session_as_warm_up']}/{n} got the warm-up's session"
        else:
            note += ", " + ", ".join(f"{f['memory_over_' + s]:.1f}x {LABELS[s].split()[0]}"
                                     for s in ("disk", "redis") if f"memory_over_{s}" in f)
        rows.append(("first session(), fresh process (µs)" if first else "", LABELS[name],
                     f"{x['median_us']:.1f}", f"{x['p90_us']:.1f}", note))
        first = False
    w = res["warm_read"]
    first = True
    for name in ("redis", "redis_new_cache_object_per_client", "disk"):
        label = {"redis": "RedisCache GET + decrypt (shared RedisCache)", "disk": "DiskCache read + decrypt"}.get(name, LABELS[name])
        if name not in w:
            rows.append(("memory-layer miss, warm process (µs)" if first else "", label, "skipped", "", "no Redis"))
        else:
            x = w[name]
            rows.append(("memory-layer miss, warm process (µs)" if first else "", label, f"{x['median_us']:.1f}",
                         f"{x['p90_us']:.1f}", f"timed clients 2..{w['users']}; {x['sign_ins']} sign-ins; "
                                               f"{x['same_sessions_as_published']}/{w['users']} got the published session"))
        first = False
    lines += _table(("measure", "variant", "median", "p90", "notes"), rows)
    lines.append("")
    s = res["short_lived"]
    n = s["processes_per_cache"]
    rows = []
    for name in ("memory", "disk", "redis"):
        label = {"memory": 'cache="memory"', "disk": "DiskCache (fresh dir)", "redis": "RedisCache (fresh prefix)"}[name]
        if name not in s:
            rows.append((label, "skipped", "", "", "", "no Redis"))
            continue
        x = s[name]
        rows.append((label, str(x["sign_ins"]), str(x["sign_ins_saved"]), f"{x['wall_total_s']:.2f}",
                     f"{x['wall_median_ms']:.1f}", ", ".join(f"{k}: {v}" for k, v in sorted(x["statuses"].items()))))
    lines.append(f"{n} short-lived processes per cache, in sequence (session() + get(\"workbooks\") each):")
    lines += _table(("cache", "sign-ins", f"saved ({n} - sign-ins)", "wall total (s)", "per process (ms)", "HTTP statuses"), rows)
    lines.append("")
    lines.append(f"{res['processes']} child processes; wall time of the whole run: {res['elapsed_s']:.0f} s; "
                 "load average at end: " + ", ".join(f"{x:.2f}" for x in res["loadavg_end"]))
    if res["child_stderr"]:
        lines.append("child processes wrote on stderr (count, line):")
        lines += [f"  {c:4d}  {line}" for line, c in res["child_stderr"].items()]
    else:
        lines.append("child processes wrote nothing on stderr (library records at WARNING and above included)")
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer processes (about 15 s)")
    ap.add_argument("--json", metavar="PATH", help="also write the results, with every sample, as JSON")
    ap.add_argument("--redis-url", metavar="URL", help="use this Redis instead of starting a private redis-server")
    ap.add_argument("--child", metavar="MODE", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return child(args.child)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # Terminated (SIGTERM) or Ctrl-C: unwind, so the finally below stops Redis and cleans up.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))

    mode = "quick" if args.quick else "full"
    p = MODES[mode]
    started = time.perf_counter()
    res: Dict[str, Any] = {"mode": mode, "params": p, "machine": machine()}

    def step(what: str) -> None:
        print(f"[{time.perf_counter() - started:5.1f} s] {what}", file=sys.stderr, flush=True)

    scratch = tempfile.mkdtemp(prefix="tca-bench-shared-")
    redis: Optional[RedisServer] = None
    redis_url: Optional[str] = args.redis_url
    prefix = f"tca-bench-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        if redis_url:
            res["redis"] = {"source": "given", "shown": tca.RedisCache(redis_url, prefix=prefix).url + " (given)"}
        else:
            binary = shutil.which("redis-server")
            if binary is None:
                print("redis-server is not on PATH: the Redis rows are skipped", file=sys.stderr, flush=True)
                res["redis"] = {"source": None, "shown": "none (redis-server not on PATH; Redis rows skipped)"}
            else:
                redis = RedisServer(binary=binary)
                redis_url = redis.url
                res["redis"] = {"source": "private", "version": redis.version(),
                                "shown": f"private redis-server {redis.version()} on {redis.url}"}
        res["redis"]["prefix"] = prefix

        def caches(part: str) -> Dict[str, Spec]:
            c: Dict[str, Spec] = {"memory": {"kind": "memory"},
                                  "disk": {"kind": "disk", "path": os.path.join(scratch, f"disk-{part}")}}
            if redis_url:
                c["redis"] = {"kind": "redis", "url": redis_url, "prefix": f"{prefix}-{part}"}
            return c

        with FakeTableau() as fake:
            ch = Children(fake)
            step(f"first session() in {p['first_call_processes']} fresh processes per cache")
            res["first_call"] = bench_first_call(ch, caches("first"), p["first_call_processes"])
            step(f"memory-layer misses in a warm process ({p['warm_read_users']} users)")
            warm = caches("warm")
            del warm["memory"]
            res["warm_read"] = bench_warm_read(ch, warm, p["warm_read_users"])
            step(f"{p['short_lived_processes']} short-lived processes per cache")
            res["short_lived"] = bench_short_lived(ch, caches("short"), p["short_lived_processes"])
            res["fake_stats_end"] = {k: v for k, v in fake.stats().items() if isinstance(v, int)}
            res["processes"] = ch.started
            res["child_stderr"] = ch.stderr
    finally:
        if redis is not None:
            redis.close()
        elif redis_url:
            deleted = delete_prefix(redis_url, prefix)
            res["redis"]["keys_deleted_at_end"] = deleted
            if deleted is None:
                print(f"note: the keys under {prefix}-* in the given Redis were left (they expire with "
                      "their sessions)", file=sys.stderr)
        shutil.rmtree(scratch, ignore_errors=True)

    import compare

    compare.report(res, started, table, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
