"""The counters of ``tableau_connected_auth.stats()``: their type (real at run time, so that
``tableau_connected_auth.Stats`` can be named in annotations) and a one-line summary of them
for people (the CLI's ``--stats``, the Airflow hook's log)."""

from __future__ import annotations

from typing import Dict, TypedDict

__all__ = ["HitsAndMisses", "SignInOutcomes", "Stats", "summary"]


class SignInOutcomes(TypedDict):
    ok: int
    refused: int
    failed: int


class HitsAndMisses(TypedDict):
    hits: int
    misses: int


class Stats(TypedDict):
    """What ``tableau_connected_auth.stats()`` returns; see the README's "Numbers an operator
    watches"."""

    sign_ins: Dict[str, Dict[str, SignInOutcomes]]
    refreshes_ahead_of_expiry: int
    re_sign_ins_after_dead_session: int
    memory: HitsAndMisses
    disk: HitsAndMisses
    redis: HitsAndMisses
    sign_in_waits: int
    sign_in_wait_seconds: float
    rate_limited: int
    rate_limit_waits: int
    rate_limit_wait_seconds: float


def summary(stats: Stats) -> str:
    """``sign-ins: 1 ok, 0 refused, 0 failed (site connected_app 1); refreshes ahead of expiry 0;
    re-sign-ins after a dead session 0; memory 5 hits 1 miss; disk 0/0; redis 0/0; waited 0.012 s
    on 1 sign-in; 429s 0 (waited 0 s)``."""
    totals = {"ok": 0, "refused": 0, "failed": 0}
    who = []
    for service, methods in stats["sign_ins"].items():
        for method, outcomes in methods.items():
            for outcome in ("ok", "refused", "failed"):
                totals[outcome] += outcomes[outcome]
            made = outcomes["ok"] + outcomes["refused"] + outcomes["failed"]
            if made:
                who.append(f"{service} {method} {made}")
    memory, disk, redis = stats["memory"], stats["disk"], stats["redis"]
    return "; ".join(
        [
            f"sign-ins: {totals['ok']} ok, {totals['refused']} refused, {totals['failed']} failed"
            + (f" ({', '.join(who)})" if who else ""),
            f"refreshes ahead of expiry {stats['refreshes_ahead_of_expiry']}",
            f"re-sign-ins after a dead session {stats['re_sign_ins_after_dead_session']}",
            f"memory {memory['hits']} hits {memory['misses']} misses",
            f"disk {disk['hits']}/{disk['misses']}",
            f"redis {redis['hits']}/{redis['misses']}",
            f"waited {stats['sign_in_wait_seconds']:.3f} s on {stats['sign_in_waits']} sign-ins",
            f"429s {stats['rate_limited']} (waited {stats['rate_limit_wait_seconds']:.0f} s)",
        ]
    )
