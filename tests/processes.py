"""Parent-side helpers of the multi-process tests (test_shared_cache.py, test_redis_fleets.py)."""

from __future__ import annotations

from typing import Any, Dict, List

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
