"""Session cache benchmarks (issue 3). Prints figures and ratios; asserts nothing about time.

    python benchmarks/bench_sessions.py

- cached ``client.session()`` from Python, µs per call (goal: under 1 µs), next to the cost of a
  trivial Python method call on the same machine as a yardstick;
- 1,000 threads that all need a session at once: sign-ins sent and wall time.
"""

from __future__ import annotations

import platform
import statistics
import threading
import time
import timeit

from tableau_connected_auth.testing import FakeTableau


class _Plain:
    def method(self) -> int:
        return 1


def cached_session_us(client: object, number: int = 200_000, repeat: int = 7) -> float:
    session = client.session  # type: ignore[attr-defined]
    session()
    runs = timeit.repeat(session, number=number, repeat=repeat)
    return statistics.median(runs) / number * 1e6


def plain_call_us(number: int = 200_000, repeat: int = 7) -> float:
    m = _Plain().method
    return statistics.median(timeit.repeat(m, number=number, repeat=repeat)) / number * 1e6


def stampede(fake: FakeTableau, threads: int, delay: float) -> "tuple[int, float]":
    fake.reset_stats()
    fake.set_delay(delay, route="auth/signin")
    client = fake.client(scopes=["tableau:content:read", f"tableau:bench:t{threads}d{int(delay * 1000)}"])
    barrier = threading.Barrier(threads + 1)
    done = []

    def work() -> None:
        barrier.wait()
        done.append(client.session().token)

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in pool:
        t.join()
    wall = time.perf_counter() - start
    fake.set_delay(0)
    assert len(set(done)) == 1 and len(done) == threads
    return int(fake.stats()["sign_ins"]), wall


def main() -> None:
    print(f"machine: {platform.machine()} {platform.processor() or ''} python {platform.python_version()}")
    with FakeTableau() as fake:
        client = fake.client()
        hit = cached_session_us(client)
        base = plain_call_us()
        print(f"cached client.session():        {hit:.3f} µs/call  (goal < 1 µs: {'met' if hit < 1 else 'MISSED'})")
        print(f"plain Python method call:       {base:.3f} µs/call  (ratio {hit / base:.2f}x)")
        for delay in (0.0, 0.05):
            sign_ins, wall = stampede(fake, 1000, delay)
            print(f"1,000 threads, sign-in delay {delay * 1000:.0f} ms: {sign_ins} sign-in(s), wall {wall * 1000:.1f} ms")


if __name__ == "__main__":
    main()
