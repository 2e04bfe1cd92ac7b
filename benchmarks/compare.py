"""Side-by-side benchmarks against the tools users would pick instead (issue 8).

    python benchmarks/compare.py [--quick] [--json out.json]

Every contender runs in this one process against the same FakeTableau on 127.0.0.1, in
interleaved rounds (the order rotates every round), so machine noise hits all of them alike.
Each figure is a median over rounds; each ratio is the median of the per-round ratios to the
contender measured in the same round. Prints a table with our goals and writes JSON.

Contenders (``pip install tableauserverclient requests PyJWT``):

- JWT mint: ``ConnectedApp.jwt`` vs PyJWT ``jwt.encode`` (same header and claims, a fresh
  ``jti`` and times per token, built in the timed call as a PyJWT user would);
- one sign-in on a keep-alive connection: ours sync and async, ``requests.Session`` + PyJWT +
  ElementTree, TSC ``JWTAuth`` (+ PyJWT for the token), and the raw floor: a pre-built HTTP/1.1
  request (its JWT minted before timing) written on an open socket, read by Content-Length;
- cached ``session()``: ours sync and async, next to a plain Python call / await as yardsticks;
- a stampede: 1,000 threads and 10,000 asyncio tasks needing a session at once while the fake
  delays sign-in by 50 ms; TSC has no shared cache, so its row is 1,000 threads that each call
  ``server.auth.sign_in`` (capped in ``--quick``);
- cold import (a fresh interpreter per run) and RSS after import (``VmRSS``), with the parts of
  our import time measured on their own so a miss can be explained;
- a fresh process's whole task: import, sign in once over http or https (against a second,
  TLS FakeTableau whose CA the contender is told to trust), exit. Wall time and peak RSS
  (the child's ``VmHWM``) per process, ours vs TSC + PyJWT, and the first sign-in's own time.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import timeit
import uuid
import xml.etree.ElementTree as ET
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple
from xml.sax.saxutils import quoteattr

import tableau_connected_auth as tca
from tableau_connected_auth.testing import FakeTableau

try:
    import jwt as pyjwt
    import requests
    import tableauserverclient as TSC
except ImportError as e:  # pragma: no cover - a setup problem, said plainly
    sys.exit(f"compare.py needs the contenders installed: pip install tableauserverclient requests PyJWT ({e})")

SCOPES = ["tableau:content:read"]
API_VERSION = tca.DEFAULT_API_VERSION
NS = {"t": "http://tableau.com/api"}
XML = "application/xml"

# Parameters per mode: (quick, full).
MODES: Dict[str, Dict[str, Any]] = {
    "quick": dict(jwt_rounds=7, jwt_n=1000, signin_rounds=7, signin_k=25, cached_n=100_000, cached_rounds=5,
                  stampede_reps=1, tsc_threads=200, import_runs=5, fresh_runs=5),
    "full": dict(jwt_rounds=15, jwt_n=4000, signin_rounds=15, signin_k=60, cached_n=200_000, cached_rounds=9,
                 stampede_reps=3, tsc_threads=1000, import_runs=15, fresh_runs=15),
}


def median(xs: Sequence[float]) -> float:
    return statistics.median(xs)


# --------------------------------------------------------------------------------------------
# The machine
# --------------------------------------------------------------------------------------------


def machine() -> Dict[str, Any]:
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0

    def version(dist: str) -> str:
        from importlib.metadata import PackageNotFoundError, version as v

        try:
            return v(dist)
        except PackageNotFoundError:
            return "?"

    core = tca._core.__file__ or ""
    st = os.stat(core)
    with open(core, "rb") as so:
        digest = hashlib.sha256(so.read()).hexdigest()[:12]
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "loadavg_start": list(os.getloadavg()),
        "versions": {
            "tableau_connected_auth": tca.__version__,
            "PyJWT": version("PyJWT"),
            "requests": version("requests"),
            "tableauserverclient": version("tableauserverclient"),
        },
        "extension": {"path": core, "bytes": st.st_size, "sha256_12": digest,
                      "mtime": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(st.st_mtime))},
    }


# --------------------------------------------------------------------------------------------
# The contenders' sign-in code, as their users would write it
# --------------------------------------------------------------------------------------------


class PyJwtMinter:
    """PyJWT with the same header and claims as ``ConnectedApp.jwt`` (direct trust)."""

    def __init__(self, fake: FakeTableau) -> None:
        self.client_id = fake.app_client_id
        self.secret_id = fake.app_secret_id
        self.secret = fake.app_secret_value
        self.username = fake.username
        self.headers = {"kid": self.secret_id, "iss": self.client_id}

    def __call__(self) -> str:
        now = int(time.time())
        claims = {
            "iss": self.client_id,
            "sub": self.username,
            "aud": "tableau",
            "jti": str(uuid.uuid4()),
            "iat": now - 5,
            "nbf": now - 5,
            "exp": now + 300,
            "scp": SCOPES,
        }
        return pyjwt.encode(claims, self.secret, algorithm="HS256", headers=self.headers)


def sign_in_body(token: str, site: str) -> bytes:
    return f"<tsRequest><credentials jwt={quoteattr(token)}><site contentUrl={quoteattr(site)}/></credentials></tsRequest>".encode()


class RequestsSignIn:
    """``requests.Session`` + PyJWT + ElementTree: the hand-rolled sign-in."""

    def __init__(self, fake: FakeTableau, mint: PyJwtMinter) -> None:
        self.http = requests.Session()
        self.url = f"{fake.url}/api/{API_VERSION}/auth/signin"
        self.site = fake.site
        self.mint = mint
        self.headers = {"Content-Type": XML, "Accept": XML}

    def __call__(self) -> Tuple[str, str, str]:
        r = self.http.post(self.url, data=sign_in_body(self.mint(), self.site), headers=self.headers, timeout=30)
        r.raise_for_status()
        creds = ET.fromstring(r.content).find("t:credentials", NS)
        assert creds is not None
        site, user = creds.find("t:site", NS), creds.find("t:user", NS)
        assert site is not None and user is not None
        return creds.get("token", ""), site.get("id", ""), user.get("id", "")


def tsc_server(fake: FakeTableau) -> "TSC.Server":
    server = TSC.Server(fake.url, use_server_version=False)  # type: ignore[no-untyped-call]  # http URL, no probe
    server.version = API_VERSION
    return server


class TscSignIn:
    """TSC ``JWTAuth`` with a PyJWT token: TSC cannot mint one."""

    def __init__(self, fake: FakeTableau, mint: PyJwtMinter) -> None:
        self.server = tsc_server(fake)
        self.site = fake.site
        self.mint = mint

    def __call__(self) -> None:
        self.server.auth.sign_in(TSC.JWTAuth(self.mint(), site_id=self.site))
        assert self.server.auth_token


class RawFloor:
    """The least any client could do: a pre-built HTTP/1.1 request written on an open
    keep-alive socket, the answer read by Content-Length (nothing parsed)."""

    def __init__(self, fake: FakeTableau) -> None:
        self.host, port = fake.url.split("//", 1)[1].rsplit(":", 1)
        self.port = int(port)
        self.app = fake.connected_app
        self.username = fake.username
        self.site = fake.site
        self.sock: Optional[socket.socket] = None
        self.connect()

    def connect(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock = socket.create_connection((self.host, self.port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def request(self) -> bytes:
        """A fresh request (the fake refuses a reused jti): build these before timing."""
        body = sign_in_body(self.app.jwt(self.username, scopes=SCOPES), self.site)
        head = (
            f"POST /api/{API_VERSION}/auth/signin HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Type: {XML}\r\nAccept: {XML}\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        return head.encode() + body

    def send(self, request: bytes) -> bytes:
        sock = self.sock
        assert sock is not None
        sock.sendall(request)
        buf = b""
        while True:
            end = buf.find(b"\r\n\r\n")
            if end >= 0:
                break
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            buf += chunk
        head, rest = buf[:end], buf[end + 4 :]
        length = -1
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length < 0 or not head.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(f"unexpected answer: {head[:200]!r}")
        while len(rest) < length:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            rest += chunk
        return rest


# --------------------------------------------------------------------------------------------
# Measures
# --------------------------------------------------------------------------------------------


def bench_jwt(fake: FakeTableau, p: Dict[str, Any]) -> Dict[str, Any]:
    app = fake.connected_app
    user = fake.username
    mint = PyJwtMinter(fake)

    def ours() -> str:
        return app.jwt(user, scopes=SCOPES)

    # Same header and claim names, both accepted by the fake (checked in the sign-in section).
    a, b = pyjwt.get_unverified_header(ours()), pyjwt.get_unverified_header(mint())
    assert a == b, (a, b)
    ca = pyjwt.decode(ours(), options={"verify_signature": False})
    cb = pyjwt.decode(mint(), options={"verify_signature": False})
    assert sorted(ca) == sorted(cb), (ca, cb)

    n, rounds = p["jwt_n"], p["jwt_rounds"]
    ours_us: List[float] = []
    theirs_us: List[float] = []
    for r in range(rounds):
        pair: List[Tuple[str, Callable[[], str]]] = [("ours", ours), ("pyjwt", mint)]
        if r % 2:
            pair.reverse()
        got = {}
        for name, fn in pair:
            got[name] = timeit.timeit(fn, number=n) / n * 1e6
        ours_us.append(got["ours"])
        theirs_us.append(got["pyjwt"])
    ratios = [t / o for o, t in zip(ours_us, theirs_us)]
    return {
        "unit": "us/op",
        "ours": median(ours_us),
        "pyjwt": median(theirs_us),
        "speedup_vs_pyjwt": median(ratios),
        "rounds": {"ours": ours_us, "pyjwt": theirs_us},
    }


def bench_sign_in(fake: FakeTableau, p: Dict[str, Any]) -> Dict[str, Any]:
    client = fake.client(scopes=SCOPES)
    aclient = tca.AsyncClient(fake.url, site=fake.site, credentials=fake.connected_app.credentials(fake.username, scopes=SCOPES))
    mint = PyJwtMinter(fake)
    with_requests = RequestsSignIn(fake, mint)
    with_tsc = TscSignIn(fake, mint)
    raw = RawFloor(fake)
    loop = asyncio.new_event_loop()
    k = p["signin_k"]

    def timed(fn: Callable[[], Any]) -> float:
        times = []
        for _ in range(k):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return median(times) * 1e3

    def ours_sync() -> float:
        return timed(client.sign_in)

    def ours_async() -> float:
        async def run() -> float:
            times = []
            for _ in range(k):
                t = time.perf_counter()
                await aclient.sign_in()
                times.append(time.perf_counter() - t)
            return median(times) * 1e3

        return loop.run_until_complete(run())

    def raw_floor() -> float:
        requests_ = [raw.request() for _ in range(k)]  # JWTs minted before timing
        times = []
        for req in requests_:
            for attempt in range(2):
                try:
                    t = time.perf_counter()
                    raw.send(req)
                    times.append(time.perf_counter() - t)
                    break
                except ConnectionError:  # the server closed an idle connection: reopen, untimed
                    raw.connect()
                    req = raw.request()
        return median(times) * 1e3

    contenders: List[Tuple[str, Callable[[], float]]] = [
        ("ours_sync", ours_sync),
        ("ours_async", ours_async),
        ("requests_pyjwt", lambda: timed(with_requests)),
        ("tsc_jwtauth", lambda: timed(with_tsc)),
        ("raw_floor", raw_floor),
    ]
    # Warm up every contender: connections open, code paths hot.
    client.sign_in()
    loop.run_until_complete(aclient.sign_in())
    with_requests()
    with_tsc()
    raw.send(raw.request())

    fake.reset_stats()
    per: Dict[str, List[float]] = {name: [] for name, _ in contenders}
    for r in range(p["signin_rounds"]):
        order = contenders[r % len(contenders) :] + contenders[: r % len(contenders)]
        for name, fn in order:
            per[name].append(fn())
    stats = fake.stats()
    loop.close()
    if raw.sock is not None:
        raw.sock.close()
    rounds = p["signin_rounds"]
    expected = rounds * k * len(contenders)
    assert stats["sign_ins"] == expected and stats["sign_in_failures"] == 0, (stats, expected)

    def ratio(a: str, b: str) -> float:
        return median([x / y for x, y in zip(per[a], per[b])])

    return {
        "unit": "ms",
        "median": {name: median(v) for name, v in per.items()},
        "tsc_over_ours_sync": ratio("tsc_jwtauth", "ours_sync"),
        "tsc_over_ours_async": ratio("tsc_jwtauth", "ours_async"),
        "requests_over_ours_sync": ratio("requests_pyjwt", "ours_sync"),
        "requests_over_ours_async": ratio("requests_pyjwt", "ours_async"),
        "ours_sync_over_raw": ratio("ours_sync", "raw_floor"),
        "ours_async_over_raw": ratio("ours_async", "raw_floor"),
        "requests_over_raw": ratio("requests_pyjwt", "raw_floor"),
        "tsc_over_raw": ratio("tsc_jwtauth", "raw_floor"),
        "sign_ins_accepted": stats["sign_ins"],
        "rounds": per,
        "per_round_sign_ins": k,
    }


class _Plain:
    def method(self) -> int:
        return 1


async def _finished() -> int:
    return 1


def bench_cached(fake: FakeTableau, p: Dict[str, Any]) -> Dict[str, Any]:
    client = fake.client(scopes=SCOPES + ["tableau:bench:cached"])
    aclient = tca.AsyncClient(
        fake.url, site=fake.site,
        credentials=fake.connected_app.credentials(fake.username, scopes=SCOPES + ["tableau:bench:cached"]),
    )
    n, rounds = p["cached_n"], p["cached_rounds"]
    session = client.session
    first = session()
    plain = _Plain().method

    async def awaits(fn: Callable[[], Any], count: int) -> float:
        t = time.perf_counter()
        for _ in range(count):
            await fn()
        return (time.perf_counter() - t) / count * 1e6

    loop = asyncio.new_event_loop()
    assert loop.run_until_complete(aclient.session()).token == first.token  # one cache, one session
    sync_us, plain_us, async_us, await_us = [], [], [], []
    n_async = n // 4
    for _ in range(rounds):
        sync_us.append(timeit.timeit(session, number=n) / n * 1e6)
        plain_us.append(timeit.timeit(plain, number=n) / n * 1e6)
        async_us.append(loop.run_until_complete(awaits(aclient.session, n_async)))
        await_us.append(loop.run_until_complete(awaits(_finished, n_async)))
    loop.close()
    return {
        "unit": "us/op",
        "ours_sync": median(sync_us),
        "ours_async": median(async_us),
        "plain_python_call": median(plain_us),
        "plain_await": median(await_us),
        "sync_over_plain_call": median([a / b for a, b in zip(sync_us, plain_us)]),
        "async_over_plain_await": median([a / b for a, b in zip(async_us, await_us)]),
        "rounds": {"ours_sync": sync_us, "ours_async": async_us, "plain_call": plain_us, "plain_await": await_us},
    }


_STAMPEDE_SEQ = [0]


def _fresh_scopes(tag: str) -> List[str]:
    """Scopes nobody used before in this process: a fresh cache key, so the stampede misses."""
    _STAMPEDE_SEQ[0] += 1
    return SCOPES + [f"tableau:bench:{tag}{os.getpid()}n{_STAMPEDE_SEQ[0]}"]


def _run_threads(n: int, work: Callable[[], Any]) -> Tuple[float, List[Any], List[BaseException]]:
    barrier = threading.Barrier(n + 1)
    results: List[Any] = []
    errors: List[BaseException] = []

    def run() -> None:
        barrier.wait()
        try:
            results.append(work())
        except BaseException as e:  # noqa: BLE001 - counted and reported
            errors.append(e)

    pool = [threading.Thread(target=run, daemon=True) for _ in range(n)]
    for t in pool:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in pool:
        t.join()
    return time.perf_counter() - start, results, errors


def stampede_ours_threads(fake: FakeTableau, threads: int) -> Dict[str, Any]:
    client = fake.client(scopes=_fresh_scopes("t"))
    fake.reset_stats()
    wall, tokens, errors = _run_threads(threads, lambda: client.session().token)
    stats = fake.stats()
    return {"sign_ins": stats["sign_ins"], "sign_in_attempts": stats["sign_in_attempts"], "wall_ms": wall * 1e3,
            "distinct_sessions": len(set(tokens)), "errors": len(errors), "callers": threads}


def stampede_ours_tasks(fake: FakeTableau, tasks: int) -> Dict[str, Any]:
    aclient = tca.AsyncClient(
        fake.url, site=fake.site, credentials=fake.connected_app.credentials(fake.username, scopes=_fresh_scopes("a"))
    )

    async def run() -> Tuple[float, List[Any]]:
        start = time.perf_counter()
        sessions = await asyncio.gather(*(aclient.session() for _ in range(tasks)), return_exceptions=True)
        return time.perf_counter() - start, list(sessions)

    fake.reset_stats()
    loop = asyncio.new_event_loop()
    try:
        wall, sessions = loop.run_until_complete(run())
    finally:
        loop.close()
    stats = fake.stats()
    errors = [s for s in sessions if isinstance(s, BaseException)]
    tokens = {s.token for s in sessions if not isinstance(s, BaseException)}
    return {"sign_ins": stats["sign_ins"], "sign_in_attempts": stats["sign_in_attempts"], "wall_ms": wall * 1e3,
            "distinct_sessions": len(tokens), "errors": len(errors), "callers": tasks}


def stampede_tsc_threads(fake: FakeTableau, threads: int) -> Dict[str, Any]:
    mint = PyJwtMinter(fake)
    servers = [tsc_server(fake) for _ in range(threads)]  # setup, like our Client: not timed
    it = iter(servers)
    lock = threading.Lock()
    site = fake.site

    def work() -> str:
        with lock:
            server = next(it)
        server.auth.sign_in(TSC.JWTAuth(mint(), site_id=site))
        return str(server.auth_token)

    fake.reset_stats()
    wall, tokens, errors = _run_threads(threads, work)
    stats = fake.stats()
    for s in servers:
        s.session.close()
    return {"sign_ins": stats["sign_ins"], "sign_in_attempts": stats["sign_in_attempts"], "wall_ms": wall * 1e3,
            "distinct_sessions": len(set(tokens)), "errors": len(errors), "callers": threads,
            "first_error": repr(errors[0])[:200] if errors else None}


def bench_stampede(fake: FakeTableau, p: Dict[str, Any]) -> Dict[str, Any]:
    fake.set_delay(0.05, route="auth/signin")
    reps = p["stampede_reps"]
    out: Dict[str, Any] = {"delay_ms": 50, "reps": reps}
    try:
        stampedes: List[Tuple[str, Callable[[], Dict[str, Any]]]] = [
            ("ours_1000_threads", lambda: stampede_ours_threads(fake, 1000)),
            ("ours_10000_tasks", lambda: stampede_ours_tasks(fake, 10_000)),
            ("tsc_threads", lambda: stampede_tsc_threads(fake, p["tsc_threads"])),
        ]
        for name, fn in stampedes:
            runs = [fn() for _ in range(reps)]
            out[name] = {
                "runs": runs,
                "wall_ms": median([r["wall_ms"] for r in runs]),
                "sign_ins_max": max(r["sign_ins"] for r in runs),
                "sign_ins_min": min(r["sign_ins"] for r in runs),
                "errors": sum(r["errors"] for r in runs),
                "callers": runs[0]["callers"],
            }
    finally:
        fake.set_delay(0, route="auth/signin")
    out["tsc_capped"] = p["tsc_threads"] < 1000
    return out


# --------------------------------------------------------------------------------------------
# Import time and RSS, each in a fresh interpreter
# --------------------------------------------------------------------------------------------

_PROBE = r"""
{setup}
import time
t0 = time.perf_counter()
{stmt}
t1 = time.perf_counter()
{check}
rss = 0
with open("/proc/self/status") as f:
    for line in f:
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1])
print((t1 - t0) * 1e3, rss / 1024)
"""

# (label, untimed setup, timed statement, untimed check)
Target = Tuple[str, str, str, str]

IMPORT_TARGETS: List[Target] = [
    ("python (nothing)", "", "pass", ""),
    ("tableau_connected_auth", "", "import tableau_connected_auth", ""),
    ("tableauserverclient", "", "import tableauserverclient", ""),
    ("jwt", "", "import jwt", ""),
    ("requests", "", "import requests", ""),
]


def _import_diagnostics() -> List[Target]:
    """The parts of our import, each alone in a fresh interpreter."""
    core = tca._core.__file__
    load_core = (
        f"_p = {core!r}\n"
        "_l = _m.ExtensionFileLoader('tableau_connected_auth._core', _p)\n"
        "_s = _m.ModuleSpec('tableau_connected_auth._core', _l, origin=_p)\n"
        "_mod = _u.module_from_spec(_s)\n"
        "_l.exec_module(_mod)"
    )
    return [
        ("  part: asyncio", "", "import asyncio", ""),
        ("  part: logging", "", "import logging", ""),
        ("  part: asyncio + logging", "", "import asyncio, logging", ""),
        ("  part: _core extension alone", "import importlib.machinery as _m, importlib.util as _u", load_core,
         "import sys; assert 'tableau_connected_auth' not in sys.modules"),
    ]


def bench_imports(p: Dict[str, Any]) -> Dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="tca-bench-") as scratch:
        return _bench_imports(p, scratch)


def _bench_imports(p: Dict[str, Any], scratch: str) -> Dict[str, Any]:
    targets = IMPORT_TARGETS + _import_diagnostics()
    # Bytecode: every contender gets compiled .pyc files (PYTHONDONTWRITEBYTECODE may be set, and
    # an editable install has none), kept in a throwaway prefix so nothing is written elsewhere.
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    cache = os.path.join(scratch, "pycache")
    env["PYTHONPYCACHEPREFIX"] = cache
    cwd = os.path.join(scratch, "cwd")  # an empty cwd: nothing there shadows a package
    os.makedirs(cwd)

    def run(target: Target) -> Tuple[float, float]:
        code = _PROBE.format(setup=target[1], stmt=target[2], check=target[3])
        out = subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True, text=True, check=True)
        ms, mib = out.stdout.split()
        return float(ms), float(mib)

    for target in targets:  # warm-up: writes the bytecode, fills the page cache; discarded
        run(target)
    times: Dict[str, List[float]] = {t[0]: [] for t in targets}
    rss: Dict[str, List[float]] = {t[0]: [] for t in targets}
    for r in range(p["import_runs"]):
        order = targets[r % len(targets) :] + targets[: r % len(targets)]
        for target in order:
            name = target[0]
            ms, mib = run(target)
            times[name].append(ms)
            rss[name].append(mib)
    ours = times["tableau_connected_auth"]
    result = {
        "runs": p["import_runs"],
        "import_ms": {k: median(v) for k, v in times.items()},
        "rss_mib": {k: median(v) for k, v in rss.items()},
        "raw": {"import_ms": times, "rss_mib": rss},
    }
    result["import_over_ours"] = {
        k: median([t / o for t, o in zip(v, ours)]) for k, v in times.items() if k != "python (nothing)"
    }
    tsc = times["tableauserverclient"]
    result["tsc_over"] = {k: median([t / o for t, o in zip(tsc, v)]) for k, v in times.items() if k != "python (nothing)"}
    out = subprocess.run(
        [sys.executable, "-c", "import sys, tableau_connected_auth; "
         "print(' '.join(m for m in ('asyncio', 'logging', 'json', 'typing', 'datetime', 'ssl', 'requests') if m in sys.modules))"],
        env=env, cwd=cwd, capture_output=True, text=True, check=True)
    result["ours_pulls_in"] = out.stdout.split()
    # What our package imports directly, cumulative µs (one -X importtime run, for the record).
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", "import tableau_connected_auth"],
                         env=env, cwd=cwd, capture_output=True, text=True, check=True)
    pending: Dict[str, int] = {}
    for line in out.stderr.splitlines():
        parts = line.split("|")
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        name, us = parts[2][1:], int(parts[1])
        if not name.startswith(" "):  # a top-level import: its direct children came just before
            if name.strip() == "tableau_connected_auth":
                result["importtime_total_us"] = us
                result["importtime_direct_children_us"] = pending
            pending = {}
        elif not name.startswith("   "):
            pending[name.strip()] = us
    return result


# --------------------------------------------------------------------------------------------
# A fresh process's whole task: import, one sign-in (http or https), exit
# --------------------------------------------------------------------------------------------

# Each prints the first sign-in's own time (ms), then its peak RSS (`_PEAK`); the parent takes
# the whole process's wall time. Everything comes from the environment (TCA_BENCH_*).
_FRESH_OURS = r"""
import os, time
e = os.environ.get
import tableau_connected_auth as tca
app = tca.ConnectedApp(client_id=e("TCA_BENCH_CLIENT_ID"), secret_id=e("TCA_BENCH_SECRET_ID"),
                       secret_value=e("TCA_BENCH_SECRET_VALUE"))
client = tca.Client(e("TCA_BENCH_URL"), site=e("TCA_BENCH_SITE"), ca_bundle=e("TCA_BENCH_CA") or None,
                    credentials=app.credentials(e("TCA_BENCH_USER"), scopes=["tableau:content:read"]))
t = time.perf_counter()
session = client.session()
print((time.perf_counter() - t) * 1e3)
assert session.token
"""

_FRESH_TSC = r"""
import os, time, uuid
e = os.environ.get
import jwt
import tableauserverclient as TSC
server = TSC.Server(e("TCA_BENCH_URL"), use_server_version=False)
server.version = e("TCA_BENCH_API")
if e("TCA_BENCH_CA"):
    server.add_http_options({"verify": e("TCA_BENCH_CA")})
t = time.perf_counter()
now = int(time.time())
token = jwt.encode(
    {"iss": e("TCA_BENCH_CLIENT_ID"), "sub": e("TCA_BENCH_USER"), "aud": "tableau", "jti": str(uuid.uuid4()),
     "iat": now - 5, "nbf": now - 5, "exp": now + 300, "scp": ["tableau:content:read"]},
    e("TCA_BENCH_SECRET_VALUE"), algorithm="HS256",
    headers={"kid": e("TCA_BENCH_SECRET_ID"), "iss": e("TCA_BENCH_CLIENT_ID")},
)
server.auth.sign_in(TSC.JWTAuth(token, site_id=e("TCA_BENCH_SITE")))
print((time.perf_counter() - t) * 1e3)
assert server.auth_token
"""

# The child's peak RSS, printed last. VmHWM is the peak of the child's own address space: its
# ru_maxrss would be at least this parent's RSS, which Linux carries over through fork and exec.
_PEAK = r"""
with open("/proc/self/status") as status:
    print(next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")))
"""

# (label, child code, scheme)
FRESH: List[Tuple[str, str, str]] = [
    ("ours, http", _FRESH_OURS, "http"),
    ("ours, https", _FRESH_OURS, "https"),
    ("TSC + PyJWT, http", _FRESH_TSC, "http"),
    ("TSC + PyJWT, https", _FRESH_TSC, "https"),
]


def bench_fresh(p: Dict[str, Any]) -> Dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="tca-bench-") as scratch, FakeTableau() as plain, \
            FakeTableau(tls=True) as tls:
        return _bench_fresh(p, scratch, {"http": plain, "https": tls})


def _bench_fresh(p: Dict[str, Any], scratch: str, fakes: Dict[str, FakeTableau]) -> Dict[str, Any]:
    ca = os.path.join(scratch, "fake-ca.pem")
    with open(ca, "w") as pem:
        pem.write(fakes["https"].ca_pem or "")
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # compiled bytecode for every contender, as for imports
    env["PYTHONPYCACHEPREFIX"] = os.path.join(scratch, "pycache")
    cwd = os.path.join(scratch, "cwd")
    os.makedirs(cwd)

    def run(code: str, scheme: str) -> Tuple[float, float, float]:
        fake = fakes[scheme]
        child_env = dict(env, TCA_BENCH_URL=fake.url, TCA_BENCH_SITE=fake.site, TCA_BENCH_USER=fake.username,
                         TCA_BENCH_CLIENT_ID=fake.app_client_id, TCA_BENCH_SECRET_ID=fake.app_secret_id,
                         TCA_BENCH_SECRET_VALUE=fake.app_secret_value, TCA_BENCH_API=API_VERSION,
                         TCA_BENCH_CA=ca if scheme == "https" else "")
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", code + _PEAK], env=child_env, cwd=cwd, capture_output=True,
                             text=True)
        wall = (time.perf_counter() - start) * 1e3
        if out.returncode != 0:
            raise RuntimeError(f"fresh-process child failed ({scheme}):\n{out.stderr[-2000:]}")
        sign_in_ms, peak_kib = out.stdout.split()[-2:]
        return wall, float(peak_kib) / 1024, float(sign_in_ms)

    for label, code, scheme in FRESH:  # warm-up: bytecode written, page cache filled; discarded
        run(code, scheme)
    for fake in fakes.values():
        fake.reset_stats()
    wall: Dict[str, List[float]] = {t[0]: [] for t in FRESH}
    rss: Dict[str, List[float]] = {t[0]: [] for t in FRESH}
    first: Dict[str, List[float]] = {t[0]: [] for t in FRESH}
    for r in range(p["fresh_runs"]):
        order = FRESH[r % len(FRESH):] + FRESH[: r % len(FRESH)]
        for label, code, scheme in order:
            ms, mib, sign_in_ms = run(code, scheme)
            wall[label].append(ms)
            rss[label].append(mib)
            first[label].append(sign_in_ms)
    for scheme, fake in fakes.items():  # every process signed in once, and was accepted
        stats = fake.stats()
        assert stats["sign_ins"] == 2 * p["fresh_runs"] and stats["sign_in_failures"] == 0, (scheme, stats)

    def per_round(a: Dict[str, List[float]], x: str, y: str, op: Callable[[float, float], float]) -> float:
        return median([op(u, v) for u, v in zip(a[x], a[y])])

    ratio = lambda u, v: u / v  # noqa: E731
    return {
        "runs": p["fresh_runs"],
        "wall_ms": {k: median(v) for k, v in wall.items()},
        "peak_rss_mib": {k: median(v) for k, v in rss.items()},
        "first_sign_in_ms": {k: median(v) for k, v in first.items()},
        "tsc_wall_over_ours": {s: per_round(wall, f"TSC + PyJWT, {s}", f"ours, {s}", ratio) for s in ("http", "https")},
        "ours_https_minus_http_first_ms": per_round(first, "ours, https", "ours, http", lambda u, v: u - v),
        "ours_https_minus_http_wall_ms": per_round(wall, "ours, https", "ours, http", lambda u, v: u - v),
        "raw": {"wall_ms": wall, "peak_rss_mib": rss, "first_sign_in_ms": first},
    }


# --------------------------------------------------------------------------------------------
# Goals and the table
# --------------------------------------------------------------------------------------------


def goals(res: Dict[str, Any]) -> List[Dict[str, Any]]:
    j, s, c, st, im = res["jwt"], res["sign_in"], res["cached_session"], res["stampede"], res["imports"]
    g: List[Dict[str, Any]] = []

    def add(goal: str, measured: str, met: bool) -> None:
        g.append({"goal": goal, "measured": measured, "met": bool(met)})

    add("JWT mint >= 10x faster than PyJWT", f"{j['speedup_vs_pyjwt']:.1f}x", j["speedup_vs_pyjwt"] >= 10)
    add("sign-in >= 4x faster than TSC (sync)", f"{s['tsc_over_ours_sync']:.2f}x", s["tsc_over_ours_sync"] >= 4)
    add("sign-in >= 4x faster than TSC (async)", f"{s['tsc_over_ours_async']:.2f}x", s["tsc_over_ours_async"] >= 4)
    add("sign-in within 1.3x of the raw floor (sync)", f"{s['ours_sync_over_raw']:.2f}x", s["ours_sync_over_raw"] <= 1.3)
    add("sign-in within 1.3x of the raw floor (async)", f"{s['ours_async_over_raw']:.2f}x", s["ours_async_over_raw"] <= 1.3)
    add("sign-in within 2x of the raw floor (sync)", f"{s['ours_sync_over_raw']:.2f}x", s["ours_sync_over_raw"] <= 2)
    add("sign-in within 3x of the raw floor (async)", f"{s['ours_async_over_raw']:.2f}x", s["ours_async_over_raw"] <= 3)
    add("cached session() < 1 us (sync)", f"{c['ours_sync']:.3f} us", c["ours_sync"] < 1)
    add("cached session() < 1 us (async)", f"{c['ours_async']:.3f} us", c["ours_async"] < 1)
    for key, label in [("ours_1000_threads", "1,000 threads"), ("ours_10000_tasks", "10,000 tasks")]:
        x = st[key]
        ok = x["sign_ins_max"] == 1 and x["sign_ins_min"] == 1 and x["errors"] == 0
        add(f"stampede of {label} = exactly one sign-in", f"{x['sign_ins_max']} sign-in(s)", ok)
    ratio = im["import_over_ours"]["tableauserverclient"]
    add("import >= 5x faster than TSC", f"{ratio:.2f}x", ratio >= 5)
    ours_rss, tsc_rss = im["rss_mib"]["tableau_connected_auth"], im["rss_mib"]["tableauserverclient"]
    add("RSS after import below TSC's", f"{ours_rss:.1f} vs {tsc_rss:.1f} MiB", ours_rss < tsc_rss)
    gap = res["fresh"]["ours_https_minus_http_first_ms"]
    add("first https sign-in within 10 ms of http (fresh process)", f"{gap:+.1f} ms", gap <= 10)
    return g


def table(res: Dict[str, Any]) -> str:
    m = res["machine"]
    lines = [
        f"machine: {m['cpu']}, {m['cores']} cores ({m['usable_cores']} usable), {m['implementation']} {m['python']}, {m['platform']}",
        f"load average at start: {', '.join(f'{x:.2f}' for x in m['loadavg_start'])}; mode: {res['mode']}; "
        "figures are medians of rounds, ratios are medians of per-round ratios",
        "versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()),
        "",
    ]
    rows: List[Tuple[str, str, str, str]] = []

    def row(measure: str, contender: str, value: str, ratio: str = "") -> None:
        rows.append((measure, contender, value, ratio))

    j = res["jwt"]
    row("JWT mint (us/op)", "ours ConnectedApp.jwt", f"{j['ours']:.2f}", "1.00x")
    row("", "PyJWT jwt.encode", f"{j['pyjwt']:.2f}", f"{j['speedup_vs_pyjwt']:.2f}x slower")
    s = res["sign_in"]
    md = s["median"]
    row("sign-in, keep-alive (ms)", "ours sync client.sign_in()", f"{md['ours_sync']:.3f}",
        f"{s['ours_sync_over_raw']:.2f}x the floor")
    row("", "ours async await aclient.sign_in()", f"{md['ours_async']:.3f}", f"{s['ours_async_over_raw']:.2f}x the floor")
    row("", "requests + PyJWT + ElementTree", f"{md['requests_pyjwt']:.3f}",
        f"{s['requests_over_ours_sync']:.2f}x ours sync, {s['requests_over_ours_async']:.2f}x async")
    row("", "TSC JWTAuth (+ PyJWT)", f"{md['tsc_jwtauth']:.3f}",
        f"{s['tsc_over_ours_sync']:.2f}x ours sync, {s['tsc_over_ours_async']:.2f}x async")
    row("", "raw floor (pre-built request)", f"{md['raw_floor']:.3f}", "1.00x")
    c = res["cached_session"]
    row("cached session() (us/op)", "ours sync client.session()", f"{c['ours_sync']:.3f}",
        f"{c['sync_over_plain_call']:.2f}x a plain method call ({c['plain_python_call']:.3f})")
    row("", "ours async await aclient.session()", f"{c['ours_async']:.3f}",
        f"{c['async_over_plain_await']:.2f}x a plain await ({c['plain_await']:.3f})")
    st = res["stampede"]
    for key, label in [("ours_1000_threads", "ours, 1,000 threads"), ("ours_10000_tasks", "ours, 10,000 asyncio tasks"),
                       ("tsc_threads", f"TSC, {st['tsc_threads']['callers']:,} threads" + (" (capped)" if st["tsc_capped"] else ""))]:
        x = st[key]
        signs = str(x["sign_ins_max"]) if x["sign_ins_max"] == x["sign_ins_min"] else f"{x['sign_ins_min']}-{x['sign_ins_max']}"
        extra = f", {x['errors']} errors" if x["errors"] else ""
        ratio = ""
        if key == "tsc_threads":
            ratio = f"wall {x['wall_ms'] / st['ours_1000_threads']['wall_ms']:.1f}x ours (threads)"
        row("stampede, sign-in +50 ms" if key == "ours_1000_threads" else "", label,
            f"{signs} sign-in(s), {x['wall_ms']:.0f} ms{extra}", ratio)
    row("", "TSC, 10,000 asyncio tasks", "n/a", "TSC has no asyncio API")
    im = res["imports"]
    base = im["rss_mib"]["python (nothing)"]
    first = True
    for name, *_ in IMPORT_TARGETS + _import_diagnostics():
        ms, mib = im["import_ms"][name], im["rss_mib"][name]
        ratio = ""
        if name in im["import_over_ours"] and not name.startswith(" ") and name != "tableau_connected_auth":
            ratio = f"{im['import_over_ours'][name]:.2f}x ours"
        row("cold import (ms) / RSS (MiB)" if first else "", name, f"{ms:.1f} ms, {mib:.1f} MiB (+{mib - base:.1f})", ratio)
        first = False
    row("", "  stdlib pulled in by our import", " ".join(im["ours_pulls_in"]) or "-")
    fr = res["fresh"]
    first = True
    for label, _, scheme in FRESH:
        ratio = ""
        if label.startswith("TSC"):
            ratio = f"{fr['tsc_wall_over_ours'][scheme]:.2f}x ours"
        row("fresh process: import, sign in, exit" if first else "", label,
            f"{fr['wall_ms'][label]:.0f} ms, {fr['peak_rss_mib'][label]:.1f} MiB peak; "
            f"sign-in {fr['first_sign_in_ms'][label]:.1f} ms", ratio)
        first = False

    w = [max(len(r[i]) for r in rows + [("measure", "contender", "median", "ratio")]) for i in range(4)]
    head = ("measure", "contender", "median", "ratio")
    fmt = "  ".join(f"{{:<{x}}}" for x in w)
    lines.append(fmt.format(*head))
    lines.append("  ".join("-" * x for x in w))
    for r in rows:
        lines.append(fmt.format(*r).rstrip())
    lines.append("")
    gw = max(len(x["goal"]) for x in res["goals"])
    mw = max(len(x["measured"]) for x in res["goals"])
    lines.append(f"{'goal':<{gw}}  {'measured':<{mw}}  verdict")
    lines.append(f"{'-' * gw}  {'-' * mw}  -------")
    for x in res["goals"]:
        lines.append(f"{x['goal']:<{gw}}  {x['measured']:<{mw}}  {'met' if x['met'] else 'MISSED'}")
    lines.append(f"\nwall time of the whole run: {res['elapsed_s']:.0f} s; load average at end: "
                 + ", ".join(f"{x:.2f}" for x in res["loadavg_end"]))
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer rounds, TSC stampede capped (well under a minute)")
    ap.add_argument("--json", default="compare.json", metavar="PATH", help="where to write the results (default: %(default)s)")
    args = ap.parse_args(argv)
    mode = "quick" if args.quick else "full"
    p = MODES[mode]
    started = time.perf_counter()
    res: Dict[str, Any] = {"mode": mode, "params": p, "machine": machine()}

    def step(what: str) -> None:
        print(f"[{time.perf_counter() - started:5.1f} s] {what}", file=sys.stderr, flush=True)

    with FakeTableau() as fake:
        step("JWT mint")
        res["jwt"] = bench_jwt(fake, p)
        step("sign-in")
        res["sign_in"] = bench_sign_in(fake, p)
        step("cached session()")
        res["cached_session"] = bench_cached(fake, p)
        step("stampedes")
        res["stampede"] = bench_stampede(fake, p)
    step("imports")
    res["imports"] = bench_imports(p)
    step("fresh processes")
    res["fresh"] = bench_fresh(p)
    res["goals"] = goals(res)
    report(res, started, table, args.json)
    return 0


def report(res: Dict[str, Any], started: float, render: Callable[[Dict[str, Any]], str], json_path: Optional[str]) -> None:
    """Finish a run: elapsed time and load, the printed table, and the JSON if asked for."""
    res["elapsed_s"] = time.perf_counter() - started
    res["loadavg_end"] = list(os.getloadavg())
    print(render(res))
    if json_path:
        with open(json_path, "w") as f:
            json.dump(res, f, indent=2)
        print(f"JSON: {json_path}")


if __name__ == "__main__":
    sys.exit(main())
