"""pytest fixtures for code that talks to Tableau, loaded automatically once the package is
installed (entry point ``pytest11``; turn it off with ``-p no:tableau_connected_auth``).

- ``fake_tableau``: a running :class:`~tableau_connected_auth.testing.FakeTableau` on
  127.0.0.1, new for each test, with its default connected app, user ``me@example.com`` and
  site ``mysite``.
- ``tableau_client``: a :class:`~tableau_connected_auth.Client` for ``fake_tableau``, already
  signed in (scope ``tableau:content:read``); it signs out when the test ends.

Example (``test_reports.py``)::

    # Not run: a test file for pytest (the documentation's pytest guide runs one)
    def test_lists_workbooks(tableau_client, fake_tableau):
        names = [w["name"] for w in tableau_client.get("workbooks").json()["workbooks"]["workbook"]]
        assert "Superstore" in names
        assert fake_tableau.stats()["sign_ins"] == 1

Only the fixtures live here: the plugin imports nothing but pytest when it loads, and the
package's Rust core is touched only when a test asks for one of the fixtures.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

import pytest

if TYPE_CHECKING:
    from ._clients import Client
    from .testing import FakeTableau

__all__ = ["fake_tableau", "tableau_client"]


@pytest.fixture
def fake_tableau() -> Iterator["FakeTableau"]:
    """A running FakeTableau on 127.0.0.1 with the default connected app, user and site."""
    from .testing import FakeTableau

    with FakeTableau() as tableau:
        yield tableau


@pytest.fixture
def tableau_client(fake_tableau: "FakeTableau") -> Iterator["Client"]:
    """A Client signed in to ``fake_tableau`` as its default user; signs out afterwards."""
    client = fake_tableau.client()
    client.session()
    yield client
    client.close()
