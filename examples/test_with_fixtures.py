"""Testing your own code against FakeTableau with the pytest plugin's fixtures.

Installing tableau_connected_auth gives pytest two fixtures (no conftest.py needed):
``fake_tableau`` (a running FakeTableau) and ``tableau_client`` (a Client signed in to it).
Copy this file into your tests; run it here with ``python examples/test_with_fixtures.py``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import List

import pytest

import tableau_connected_auth as tca
from tableau_connected_auth.testing import FakeTableau


def workbook_names(client: tca.Client) -> List[str]:
    """The code under test: in your project, import it instead."""
    response = client.get("workbooks")
    response.raise_for_status()
    return [w.get("name", "") for w in ET.fromstring(response.content).iter("{http://tableau.com/api}workbook")]


def test_lists_workbooks(tableau_client: tca.Client, fake_tableau: FakeTableau) -> None:
    assert "Superstore" in workbook_names(tableau_client)
    assert fake_tableau.stats()["sign_ins"] == 1  # the fixture signed in; the call reused it


def test_survives_an_expired_session(tableau_client: tca.Client, fake_tableau: FakeTableau) -> None:
    fake_tableau.expire_all_sessions()
    assert workbook_names(tableau_client)  # one 401, one fresh sign-in, one retry
    assert fake_tableau.stats()["sign_ins"] == 2


def test_reports_a_refused_sign_in(fake_tableau: FakeTableau) -> None:
    client = fake_tableau.client(site="no-such-site")
    with pytest.raises(tca.SignInError):
        workbook_names(client)


if __name__ == "__main__":
    import subprocess
    import sys

    raise SystemExit(subprocess.call([sys.executable, "-m", "pytest", __file__, "-q", "-p", "no:cacheprovider"]))
