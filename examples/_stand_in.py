"""Lets every example run as it is: when ``TABLEAU_SERVER`` is not set, a FakeTableau (a Tableau
stand-in on 127.0.0.1) is started and the ``TABLEAU_*`` variables point at it. With your own
``TABLEAU_*`` variables set, the examples talk to your Tableau instead. Not part of the examples.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator, Optional

from tableau_connected_auth.testing import FakeTableau


@contextmanager
def tableau_or_stand_in() -> Iterator[Optional[FakeTableau]]:
    """Yields None when TABLEAU_SERVER is set (your Tableau), else a running FakeTableau."""
    if os.environ.get("TABLEAU_SERVER"):
        yield None
        return
    saved = dict(os.environ)
    with FakeTableau() as tableau:
        os.environ.update(tableau.environment())
        try:
            yield tableau
        finally:
            os.environ.clear()
            os.environ.update(saved)
