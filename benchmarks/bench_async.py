"""AsyncClient benchmarks (issue 4). Prints figures and ratios; asserts nothing about time.

    python benchmarks/bench_async.py

- a cached ``await client.session()`` in µs per call, next to a plain ``await`` of a coroutine
  that returns at once (goal: within 2x of it);
- 10,000 tasks needing a session at once against a FakeTableau that delays sign-in by 50 ms
  (goal: about 50 ms, i.e. one sign-in).
"""

from __future__ import annotations

import asyncio
import platform
import statistics
import time

import tableau_connected_auth as tca
from tableau_connected_auth.testing import FakeTableau

N = 50_000


async def _finished() -> int:
    return 1


async def _time(make: "object", n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        await make()  # type: ignore[operator]
    return (time.perf_counter() - start) / n * 1e6


async def paired_us(ours: "object", plain: "object", n: int = N, repeat: int = 15) -> "tuple[float, float, float]":
    """Median µs/call of each, and the median of the per-repeat ratios (the two are measured
    back to back in every repeat, so machine noise hits both alike)."""
    a, b, ratios = [], [], []
    for _ in range(repeat):
        x = await _time(ours, n)
        y = await _time(plain, n)
        a.append(x)
        b.append(y)
        ratios.append(x / y)
    return statistics.median(a), statistics.median(b), statistics.median(ratios)


async def stampede(fake: FakeTableau, tasks: int) -> "tuple[float, int]":
    creds = fake.connected_app.credentials(fake.username, scopes=["tableau:content:read", "tableau:bench:async"])
    client = tca.AsyncClient(fake.url, site=fake.site, credentials=creds)
    fake.reset_stats()
    fake.set_delay(0.05, route="auth/signin")
    start = time.perf_counter()
    sessions = await asyncio.gather(*(client.session() for _ in range(tasks)))
    wall = time.perf_counter() - start
    fake.set_delay(0)
    assert len({s.token for s in sessions}) == 1
    return wall, int(fake.stats()["sign_in_attempts"])


async def main() -> None:
    print(f"machine: {platform.machine()} python {platform.python_version()}")
    with FakeTableau() as fake:
        creds = fake.connected_app.credentials(fake.username, scopes=["tableau:content:read"])
        client = tca.AsyncClient(fake.url, site=fake.site, credentials=creds)
        await client.session()
        ours, plain, ratio = await paired_us(client.session, _finished)
        verdict = "met" if ratio <= 2 else "MISSED"
        print(f"cached await client.session(): {ours:.3f} µs/call")
        print(f"plain await of a finished coroutine: {plain:.3f} µs/call  (median paired ratio {ratio:.2f}x, goal <= 2x: {verdict})")
        wall, sign_ins = await stampede(fake, 10_000)
        print(f"10,000 tasks, sign-in delayed 50 ms: {sign_ins} sign-in(s), wall {wall * 1000:.1f} ms "
              f"(ratio to the 50 ms delay {wall / 0.05:.2f}x)")


if __name__ == "__main__":
    asyncio.run(main())
