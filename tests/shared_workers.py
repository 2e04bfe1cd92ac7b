"""What the child processes of tests/test_shared_cache.py run (importable, so `spawn` works).

A spec is a plain dict: server, site, credentials ("app": client_id/secret_id/secret_value/
username, or "pat": name/secret) and the cache ("disk": path, or "redis": url/prefix), plus an
optional lock_timeout. Children report digests of tokens, never tokens.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from typing import Any, Dict, List, Optional

import tableau_connected_auth as tca

Spec = Dict[str, Any]


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def make_cache(spec: Spec) -> Any:
    kind = spec["cache"]
    if kind == "disk":
        return tca.DiskCache(spec["path"], lock_timeout=spec.get("lock_timeout"))
    if kind == "redis":
        return tca.RedisCache(spec["url"], prefix=spec["prefix"], lock_timeout=spec.get("lock_timeout"))
    if kind == "memory":
        return "memory"
    raise ValueError(kind)


def credentials(spec: Spec) -> Any:
    if "password" in spec:
        return tca.UsernamePassword(spec["username"], spec["password"])
    if "pat_name" in spec:
        return tca.PersonalAccessToken(spec["pat_name"], spec["pat_secret"])
    app = tca.ConnectedApp(client_id=spec["client_id"], secret_id=spec["secret_id"], secret_value=spec["secret_value"])
    return app.credentials(spec["username"], scopes=["tableau:content:read"])


def make_client(spec: Spec) -> tca.Client:
    return tca.Client(
        spec["server"], site=spec["site"], credentials=credentials(spec), cache=make_cache(spec),
        retries=spec.get("retries", 3), max_session_age=spec.get("max_session_age"),
    )


def session_then_call(spec: Spec, barrier: Any, results: Any) -> None:
    """Wait for the others, take a session, call the API once; report (digest, status)."""
    client = make_client(spec)
    barrier.wait()
    token = client.session().token
    status = client.get("workbooks").status_code
    results.put((digest(token), status))


def sessions_of_many(specs: List[Spec], barrier: Any, results: Any) -> None:
    """One client per spec: all take sessions, then (after every process has) all call."""
    clients = [make_client(s) for s in specs]
    barrier.wait()
    tokens = [c.session().token for c in clients]
    barrier.wait()
    statuses = [c.get("workbooks").status_code for c in clients]
    results.put(([digest(t) for t in tokens], statuses))


def async_tasks(spec: Spec, barrier: Any, results: Any, tasks: int = 50) -> None:
    """`tasks` asyncio tasks ask an AsyncClient for a session at once."""

    async def main() -> List[str]:
        client = tca.AsyncClient(spec["server"], site=spec["site"], credentials=credentials(spec), cache=make_cache(spec))
        sessions = await asyncio.gather(*(client.session() for _ in range(tasks)))
        response = await client.get("workbooks")
        assert response.status_code == 200
        return [digest(s.token) for s in sessions]

    barrier.wait()
    results.put(sorted(set(asyncio.run(main()))))


def hold_sign_in(spec: Spec, ready: Any) -> None:
    """Start a (slow) sign-in and signal; the test kills this process mid sign-in."""
    client = make_client(spec)
    ready.set()
    client.session()


def first_session(spec: Spec, results: Any, delay_report: Optional[float] = None) -> None:
    client = make_client(spec)
    results.put(digest(client.session().token))


def lock_held(lock_path: str) -> bool:
    import fcntl

    with open(lock_path, "rb") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(f, fcntl.LOCK_UN)
        return False


def fork_while_holding_the_lock(spec: Spec, child_pid: Any) -> None:
    """Start a slow sign-in (which holds the disk lock), fork a long-lived child meanwhile, and
    report the child's pid; the test then SIGKILLs this process."""
    import glob
    import os
    import threading
    import time

    client = make_client(spec)
    threading.Thread(target=client.session, daemon=True).start()
    deadline = time.monotonic() + 20
    while True:
        locks = glob.glob(os.path.join(spec["path"], "*.lock"))
        if locks and lock_held(locks[0]):
            break
        assert time.monotonic() < deadline, "the sign-in never took the lock"
        time.sleep(0.005)
    pid = os.fork()
    if pid == 0:  # a long-lived worker that never touches the cache
        time.sleep(30)
        os._exit(0)
    child_pid.put(pid)
    time.sleep(60)


def threads_around_first_session(spec: Spec, results: Any) -> None:
    """The OS threads of this process before and after its first `session()` (Linux)."""
    client = make_client(spec)
    before = len(os.listdir("/proc/self/task"))
    token = client.session().token
    results.put((digest(token), before, len(os.listdir("/proc/self/task"))))


def cloud_manager_session_then_call(spec: Spec, barrier: Any, results: Any) -> None:
    """A CloudManagerClient over the spec's shared cache: wait for the others, take a session, list the
    tenant's sites once; report (digest, status)."""
    client = tca.CloudManagerClient(
        spec["server"],
        credentials=tca.PersonalAccessToken("cloud-manager-pat", spec["tcm_pat_secret"]),
        cache=make_cache(spec),
    )
    barrier.wait()
    token = client.session().token
    status = client.get("sites").status_code
    results.put((digest(token), status))
