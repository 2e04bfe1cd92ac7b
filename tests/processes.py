"""Parent-side helpers of the multi-process tests (test_shared_cache.py, test_redis_fleets.py)."""

from __future__ import annotations

import multiprocessing
from typing import Any, Dict, List

import shared_workers as w
from tableau_connected_auth.testing import FakeTableau


def run(ctx: Any, target: Any, args_list: List[Any], timeout: float = 120) -> None:
    """Start one process per argument tuple, wait for all, and require each to exit with 0."""
    procs = [ctx.Process(target=target, args=args) for args in args_list]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout)
        assert p.exitcode == 0, f"child exited with {p.exitcode}"


def sign_ins(fake: FakeTableau) -> int:
    """The site sign-ins the fake answered."""
    n: int = fake.stats()["sign_ins"]
    return n


def app_spec(fake: FakeTableau, **extra: Any) -> Dict[str, Any]:
    """A child's spec (see shared_workers.py): the fake's default connected app, user and site."""
    return {
        "server": fake.url,
        "site": fake.site,
        "client_id": fake.app_client_id,
        "secret_id": fake.app_secret_id,
        "secret_value": fake.app_secret_value,
        "username": fake.username,
        **extra,
    }


def sixteen_start_together(fake: FakeTableau, spec: Dict[str, Any], method: str) -> None:
    """16 processes (started by ``method``) wait for each other, take a session with ``spec`` and
    call the API once; the sign-in is slowed to 0.2 s so that they overlap. Requires one
    session for all, 16 answers 200 and one sign-in."""
    fake.set_delay(0.2, route="auth/signin")
    ctx = multiprocessing.get_context(method)
    barrier, results = ctx.Barrier(16), ctx.Queue()
    run(ctx, w.session_then_call, [(spec, barrier, results)] * 16)
    got = [results.get(timeout=10) for _ in range(16)]
    assert len({digest for digest, _ in got}) == 1, "every process got the same session"
    assert [status for _, status in got] == [200] * 16
    assert sign_ins(fake) == 1
