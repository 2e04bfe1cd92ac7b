"""Many threads making one call at the same moment."""

from __future__ import annotations

import threading
from typing import Callable, List


def errors_of_a_burst(n: int, call: Callable[[], object]) -> List[BaseException]:
    """Run ``call`` on ``n`` threads released together; what each raised (in no order)."""
    errors: List[BaseException] = []
    start = threading.Barrier(n)

    def one() -> None:
        start.wait()
        try:
            call()
        except BaseException as e:  # noqa: BLE001 - returned to the test
            errors.append(e)

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return errors
