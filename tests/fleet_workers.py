"""What the child processes of tests/test_redis_fleets.py run (importable, so `spawn` works too).

Specs are those of tests/shared_workers.py (``"cache": "redis"`` with a cluster or Sentinel
URL). Children report token digests, never tokens, and the warnings the library logged.
"""

from __future__ import annotations

import logging
import time
from typing import Any, List

import shared_workers as w


class Warnings(logging.Handler):
    """The WARNING records of the package's logger, as text."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: List[str] = []
        logger = logging.getLogger("tableau_connected_auth")
        logger.addHandler(self)
        logger.setLevel(logging.INFO)

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def session_and_call(spec: w.Spec, results: Any) -> None:
    """A fresh process: one session (from the shared cache if it has one) and one API call;
    report (digest, status, warnings)."""
    warnings = Warnings()
    client = w.make_client(spec)
    token = client.session().token
    status = client.get("workbooks").status_code
    results.put((w.digest(token), status, warnings.messages))


def sign_in_until(spec: w.Spec, stop: Any, results: Any, pause: float = 0.05) -> None:
    """Until the event ``stop`` is set: a fresh sign-in (which takes the shared lock, publishes
    the session and releases the lock: writes and scripts) and an API call with it, again and
    again; report (sign-ins, statuses, warnings)."""
    warnings = Warnings()
    client = w.make_client(spec)
    signed_in = 0
    statuses = []
    while not stop.is_set():
        client.sign_in()
        signed_in += 1
        statuses.append(client.get("workbooks").status_code)
        time.sleep(pause)
    results.put((signed_in, statuses, warnings.messages))
